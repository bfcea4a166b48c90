"""Beat silent: the heartbeat the active beat stamps in Redis on every tick, and the alert raised
when it goes old (sent at once: no worker may be left to send it), resolved once a beat ticks."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from bots.desk import health
from bots.models import Alert, NotificationChannel
from bots.platform import beat_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_beat_yet(redis_client):
    redis_client.delete(beat_heartbeat.KEY)
    yield redis_client
    redis_client.delete(beat_heartbeat.KEY)


def test_a_fresh_tick_is_a_live_beat_and_says_which(no_beat_yet):
    beat_heartbeat.stamp(no_beat_yet, "host:42")

    assert health.check_beat() is True
    assert beat_heartbeat.read(no_beat_yet)[1] == "host:42"
    assert health.beat_silence() < 60


def test_an_old_tick_raises_beat_silent_sent_at_once_and_the_next_tick_resolves_it(no_beat_yet, settings):
    settings.BEAT_SILENT_SECONDS = 30
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="ops@example.com")
    beat_heartbeat.stamp(no_beat_yet, "host:42", now=time.time() - 95)

    assert health.check_beat(send_now=True) is False

    alert = Alert.objects.get(kind=Alert.BEAT_SILENT)
    assert "No Celery beat has ticked for 95 s" in alert.message
    assert mail.outbox[0].subject.startswith("[Ballast] beat silent")

    beat_heartbeat.stamp(no_beat_yet, "host:43")
    assert health.check_beat() is True

    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (Alert.RESOLVED, None)


def test_a_heartbeat_never_stamped_is_silence_only_for_the_watchdog(no_beat_yet):
    assert health.check_beat() is False
    assert not Alert.objects.exists()

    health.check_beat(missing_is_silent=True)

    assert Alert.objects.get().message == "No Celery beat has ever ticked."
