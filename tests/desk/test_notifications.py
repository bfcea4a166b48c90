"""Notifications: a new alert reaches a real local HTTP receiver (as a Slack or Telegram
webhook would get it) and the mail outbox; failures are recorded, never raised."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from bots.desk.alerts import raise_alert
from bots.desk.notifications import deliver
from bots.desk.tasks import notify_alert
from bots.models import Alert, Delivery, NotificationChannel

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook endpoint on a free local port that keeps what it was sent."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
                )
                time.sleep(delay)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def depth_alert(market) -> Alert:
    return Alert.objects.create(
        kind=Alert.DEPTH_OUT_OF_BAND, market=market, dedupe="d", message="Depth short: bid depth ±0.5% 12,000 USDT",
        action_url="/markets/btc-usdt/",
    )


def test_a_webhook_gets_the_alert_as_json_text_with_the_query_parameters_in_the_body(demo_market, settings):
    settings.BALLAST_SITE_URL = "https://desk.example.com"
    with Receiver() as receiver:
        NotificationChannel.objects.create(
            label="ops telegram", kind=NotificationChannel.WEBHOOK, target=f"{receiver.url}/bot123/sendMessage?chat_id=-42"
        )
        (delivery,) = deliver(depth_alert(demo_market))

    assert delivery.ok and delivery.error == ""
    (request,) = receiver.requests
    assert request["path"] == "/bot123/sendMessage?chat_id=-42"
    assert request["type"] == "application/json"
    assert request["json"] == {
        "chat_id": "-42",
        "text": "[Ballast] depth out of band · BTC/USDT: Depth short: bid depth ±0.5% 12,000 USDT\n"
        "See the market: https://desk.example.com/markets/btc-usdt/",
    }


def test_an_email_channel_mails_every_address(demo_market):
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="a@example.com, b@example.com")

    (delivery,) = deliver(depth_alert(demo_market))

    assert delivery.ok
    (message,) = mail.outbox
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.subject == "[Ballast] depth out of band · BTC/USDT: Depth short: bid depth ±0.5% 12,000 USDT"


def test_failures_are_recorded_per_channel_and_the_others_still_get_it(demo_market, settings):
    settings.ALERT_WEBHOOK_TIMEOUT = 0.5
    with Receiver(status=500) as broken, Receiver(delay=2) as slow, Receiver() as fine:
        for label, url in (("broken", broken.url), ("slow", slow.url), ("fine", fine.url)):
            NotificationChannel.objects.create(label=label, kind=NotificationChannel.WEBHOOK, target=url)
        NotificationChannel.objects.create(label="off", kind=NotificationChannel.WEBHOOK, target=fine.url, enabled=False)
        NotificationChannel.objects.create(label="bad", kind=NotificationChannel.WEBHOOK, target="ftp://x")

        deliveries = {d.channel.label: d for d in deliver(depth_alert(demo_market))}

    assert set(deliveries) == {"broken", "slow", "fine", "bad"}
    assert deliveries["broken"].error == "the webhook answered HTTP 500"
    assert "timed out" in deliveries["slow"].error
    assert deliveries["bad"].error == "the webhook URL must start with http:// or https://"
    assert deliveries["fine"].ok and len(fine.requests) == 1
    assert Delivery.objects.filter(ok=False).count() == 3


def test_mail_without_a_mail_server_is_a_recorded_failure(demo_market, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="a@example.com")

    (delivery,) = deliver(depth_alert(demo_market))

    assert not delivery.ok
    assert delivery.error == "EMAIL_HOST is not set: Ballast has no mail server to send through"


def test_raising_an_alert_queues_the_task_that_sends_it(demo_market, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(notify_alert, "delay", sent.append)
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="a@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(Alert.VENUE_ERROR, demo_market, "Own exchange: ExchangeNotAvailable", key="venue-own")
    assert sent == [alert.pk]

    assert notify_alert(alert.pk) == 1  # what the worker runs
    assert mail.outbox[0].body.startswith("[Ballast] venue errors · BTC/USDT: Own exchange: ExchangeNotAvailable")


def test_send_now_delivers_before_returning(demo_market):
    NotificationChannel.objects.create(label="desk", kind=NotificationChannel.EMAIL, target="a@example.com")

    alert = raise_alert(Alert.WORKER_SILENT, None, "No Celery worker has run a task for 90 s", send_now=True)

    assert alert.deliveries.get().ok
    assert mail.outbox[0].subject == "[Ballast] worker silent: No Celery worker has run a task for 90 s"
