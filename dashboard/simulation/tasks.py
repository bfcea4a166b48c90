"""Celery tasks of the public simulation.

The task's name is pinned to where it was first declared, dashboard.tasks, so one queued before
a deploy still finds its code after it; settings route it to the demo queue by that name.
"""

from __future__ import annotations

import json

from celery import shared_task

from bots.platform.locks import client
from dashboard.simulation.demo_runs import answer


# The public demo's steps, on a queue of their own (settings.DEMO_QUEUE) that only the demo's
# worker consumes: no retry (the visitor is waiting, or has been told it timed out), acks early
# (a step lost with a dying worker is a step the visitor presses again).
@shared_task(name="dashboard.tasks.demo_request", ignore_result=True, acks_late=False)
def demo_request(job: dict) -> None:
    """One visitor request to /demo (dashboard.simulation.demo_runs.answer); the answer goes back to the
    waiting view through a Redis list named by the job (`reply`)."""
    result = answer(job)
    if result is None:
        return
    with client().pipeline() as pipe:
        # "<status>\n<JSON body>": the view passes the body on without decoding it.
        pipe.rpush(job["reply"], f"{result['status']}\n{json.dumps(result['body'])}")
        pipe.expire(job["reply"], 60)
        pipe.execute()
