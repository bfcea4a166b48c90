"""/health/: every part's state in one JSON answer, 200 when all are well and 503 otherwise.

No login and no secrets: a load balancer or a monitor asks it. django-health-check runs the
checks (ballast/observability/health_checks.py) at once, each within its timeout, so the answer
comes within about BALLAST_HEALTH_CHECK_TIMEOUT even while the database or Redis is down.
"""

from __future__ import annotations

import asyncio

from django.http import JsonResponse
from health_check.views import HealthCheckView

from ballast.observability import health_checks


class HealthView(HealthCheckView):
    def get_checks(self):
        yield from health_checks.all_checks()

    async def get(self, request, *args, **kwargs):
        # As the library's get(), without its content negotiation: the answer is always JSON.
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        return self.render_to_response_json(503 if self.failing() else 200)

    def failing(self) -> list[str]:
        return [result.check.name for result in self.results if result.error]

    def render_to_response_json(self, status):
        return JsonResponse(
            {
                "status": "failing" if status != 200 else "ok",
                "failing": self.failing(),
                "checks": {
                    result.check.name: "OK" if not result.error else str(result.error)
                    for result in self.results
                },
            },
            status=status,
        )


health = HealthView.as_view()
