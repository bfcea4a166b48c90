"""Workers silent: the heartbeat a worker writes, the alert raised when it goes old (sent at
once, as no worker would send it), and the watchdog process that notices, queuing the heartbeat
task itself so that the workers' heartbeat does not hang on beat."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bots.desk import health, watchdog
from bots.desk.tasks import heartbeat
from bots.models import Alert, Heartbeat, NotificationChannel

pytestmark = pytest.mark.django_db


def test_the_heartbeat_task_records_when_and_which_worker():
    heartbeat.apply()  # runs in this process, as a worker would

    row = Heartbeat.objects.get(name="worker")
    assert timezone.now() - row.beat_at < timedelta(seconds=5)
    assert row.hostname
    assert health.check_workers() is True


def test_an_old_heartbeat_raises_worker_silent_sent_at_once_and_the_next_beat_resolves_it(settings):
    settings.WORKER_SILENT_SECONDS = 60
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="ops@example.com")
    Heartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(seconds=95))

    assert health.check_workers(send_now=True) is False

    alert = Alert.objects.get(kind=Alert.WORKER_SILENT)
    assert "No Celery worker has run a task for 95 s" in alert.message
    assert alert.action_url == "/morning-check/"
    assert mail.outbox[0].subject.startswith("[Ballast] worker silent")

    heartbeat.apply()

    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (Alert.RESOLVED, None)


def test_a_heartbeat_never_written_is_silence_only_for_the_watchdog():
    assert health.check_workers() is False
    assert not Alert.objects.exists()  # a page opened right after start-up does not cry wolf

    health.check_workers(missing_is_silent=True)

    assert Alert.objects.get().message == "No Celery worker has ever run the heartbeat task."


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_queues_the_heartbeat_and_checks_after_its_grace_period_until_stopped():
    stop = threading.Event()
    queued = []
    Heartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(hours=1))
    watching = threading.Thread(
        target=watchdog.watch, args=(stop, lambda: queued.append(1)),
        kwargs={"every": 0.05, "worker_grace": 0.05, "beat_grace": 3600},
    )

    watching.start()
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while not Alert.objects.filter(kind=Alert.WORKER_SILENT).exists() and timezone.now() < deadline:
            threading.Event().wait(0.05)
    finally:
        stop.set()
        watching.join(5)

    assert not watching.is_alive()
    assert Alert.objects.get(kind=Alert.WORKER_SILENT).state == Alert.OPEN
    assert queued  # the heartbeat task, queued by the watchdog rather than left to beat
    assert not Alert.objects.filter(kind=Alert.BEAT_SILENT).exists()  # still in its grace period
