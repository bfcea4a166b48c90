"""What every page of the desk shows around its content: the count of alerts waiting, and
the admins' own links."""

from __future__ import annotations

from django.conf import settings

from bots.desk.roles import ADMIN, has_role
from bots.models import Alert


def desk(request) -> dict:
    if not request.user.is_authenticated:
        return {}
    # A callable: the template evaluates it only where the nav is drawn.
    return {
        "unresolved_alerts": lambda: Alert.objects.exclude(state=Alert.RESOLVED).count(),
        "is_admin_role": lambda: has_role(request.user, ADMIN),
        "two_factor_on": settings.TWO_FACTOR,
    }
