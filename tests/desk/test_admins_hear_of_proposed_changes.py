"""A four-eyes proposal tells the other admins: a "change waiting" alert goes to the
notification channels (bots.desk.notifications) once the proposal commits, shows on the alerts
page, and the Changes link in the nav counts what waits for each admin (not the proposer's own);
deciding the change resolves the alert. A refused proposal tells nobody."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core import mail

from ballast.celery import app
from bots.desk import four_eyes
from bots.desk.four_eyes import ChangeRefused
from bots.desk.roles import ADMIN
from bots.models import Alert, NotificationChannel, RebalancePolicy
from tests.support.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(db):
    return make_user("bea", "admin")


@pytest.fixture
def channel(db):
    return NotificationChannel.objects.create(label="admins", kind=NotificationChannel.EMAIL,
                                              target="admins@example.com")


@pytest.fixture
def sent_by_the_worker(django_capture_on_commit_callbacks):
    """A block whose commits run their callbacks when it ends, the queued notification task
    running here as a worker would run it (Celery's eager mode)."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield lambda: django_capture_on_commit_callbacks(execute=True)
    finally:
        app.conf.task_always_eager = before


def waiting():
    return Alert.objects.filter(kind=Alert.CHANGE_WAITING)


def test_a_proposal_reaches_the_channels_and_the_alerts_page(
    client, admin_user, second_admin, channel, sent_by_the_worker
):
    RebalancePolicy.objects.create(asset="BTC", two_approvers_above=D("2"))
    with sent_by_the_worker():
        change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True}, "weekend")

    (alert,) = waiting()
    assert alert.state == Alert.OPEN
    assert alert.action_url == f"/changes/#change-{change.pk}"
    (message,) = mail.outbox
    assert message.to == ["admins@example.com"]
    assert "ada proposes: Change the BTC rebalance policy: auto_execute True" in message.body
    assert f"/changes/#change-{change.pk}" in message.body
    assert alert.deliveries.get().ok

    client.force_login(second_admin)
    page = client.get("/alerts/").content.decode()
    assert "ada proposes: Change the BTC rebalance policy" in page


@pytest.mark.parametrize("decide", ["confirm", "reject", "cancel"])
def test_deciding_the_change_resolves_its_alert(admin_user, second_admin, operator, decide):
    change = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    assert waiting().get().state == Alert.OPEN
    if decide == "confirm":
        four_eyes.confirm(second_admin, change.pk)
    elif decide == "reject":
        four_eyes.reject(second_admin, change.pk, "not now")
    else:
        four_eyes.cancel(admin_user, change.pk)
    assert waiting().get().state == Alert.RESOLVED


def test_a_refused_confirmation_leaves_the_alert_open(admin_user, operator):
    change = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    with pytest.raises(ChangeRefused):
        four_eyes.confirm(admin_user, change.pk)  # the proposer
    assert waiting().get().state == Alert.OPEN


def test_a_refused_proposal_tells_nobody(admin_user, operator, viewer, channel,
                                        sent_by_the_worker):
    with sent_by_the_worker():
        with pytest.raises(ChangeRefused):
            four_eyes.propose_role(viewer, operator, ADMIN, grant=True)
        four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
        with pytest.raises(ChangeRefused, match="already waiting"):
            four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    assert waiting().count() == 1
    assert len(mail.outbox) == 1


def test_the_nav_counts_the_changes_waiting_for_each_admin(client, admin_user, second_admin,
                                                           operator):
    four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)

    client.force_login(second_admin)
    page = client.get("/").content.decode()
    assert 'id="changes-count"' in page and ">1</span>" in page.split('id="changes-count"')[1][:120]
    client.force_login(admin_user)  # the proposer: nothing waits for them
    assert 'id="changes-count"' not in client.get("/").content.decode()
    client.force_login(operator)
    assert 'id="changes-count"' not in client.get("/").content.decode()
