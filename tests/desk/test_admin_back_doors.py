"""Django's admin is no way around four-eyes: roles, superuser flags, groups and rebalance
policies are read-only there, another role holder's password cannot be set, and every edit it
does allow lands in the audit log with before and after."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group, User

from bots.desk import four_eyes
from bots.desk.four_eyes import ChangeRefused
from bots.desk.roles import ADMIN, group, has_role
from bots.models import AuditEntry, RebalancePolicy, Venue
from tests.support.users import make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "x-Very-long-pass-1"


def add_user(client, username: str) -> User:
    response = client.post(
        "/admin/auth/user/add/",
        {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
         "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return User.objects.get(username=username)


def change_user(client, user: User, **fields):
    data = {"username": user.username, "first_name": "", "last_name": "", "email": "",
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", **fields}
    return client.post(f"/admin/auth/user/{user.pk}/change/", data)


def test_an_admin_cannot_grant_a_role_or_superuser_in_djangos_admin(client, admin_user):
    client.force_login(admin_user)
    second = add_user(client, "ada2")

    change_user(client, second, groups=[group(ADMIN).pk], is_superuser="on", is_staff="on",
                is_active="on")

    second = User.objects.get(pk=second.pk)
    assert not second.is_superuser and not has_role(second, ADMIN)
    assert not second.groups.exists()


def test_the_roles_groups_cannot_be_renamed_or_filled_in_djangos_admin(client, admin_user):
    operators = group("operator")
    client.force_login(admin_user)

    response = client.post(f"/admin/auth/group/{operators.pk}/change/", {"name": "admin"})

    assert response.status_code == 403
    assert Group.objects.get(pk=operators.pk).name == "operator"
    assert client.post("/admin/auth/group/add/", {"name": "admin2"}).status_code == 403


def test_a_login_an_admin_created_never_confirms_their_changes_even_made_admin_by_another(
    client, admin_user
):
    """The second-account attack through Django's admin: ada creates "ada2", asks carl to make
    it an admin (carl proposes, bea confirms), then tries to confirm her own request with it."""
    client.force_login(admin_user)
    second = add_user(client, "ada2")
    carl, bea = make_user("carl", "admin"), make_user("bea", "admin")
    four_eyes.confirm(bea, four_eyes.propose_role(carl, second, ADMIN, grant=True).pk)
    assert has_role(second, ADMIN)

    RebalancePolicy.objects.create(asset="BTC", two_approvers_above=D("2"))
    change = four_eyes.propose_policy(admin_user, "BTC", {"two_approvers_above": "1000000"})
    with pytest.raises(ChangeRefused, match="tied"):
        four_eyes.confirm(second, change.pk)
    assert RebalancePolicy.objects.get(asset="BTC").two_approvers_above == 2
    created = AuditEntry.objects.get(action="admin user added")
    assert created.user == admin_user and created.details["after"]["username"] == "ada2"


def test_an_admin_cannot_set_another_role_holders_password(client, admin_user, operator):
    bea = make_user("bea", "admin")
    client.force_login(admin_user)

    for target in (bea, operator):
        response = client.post(
            f"/admin/auth/user/{target.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert response.status_code == 403
        assert not User.objects.get(pk=target.pk).check_password(NEW_PASSWORD)


def test_an_admin_cannot_delete_a_role_holder_in_djangos_admin(client, admin_user, operator):
    client.force_login(admin_user)

    response = client.post(f"/admin/auth/user/{operator.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    bulk = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [operator.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert User.objects.filter(pk=operator.pk).exists()


def test_a_rebalance_policy_is_read_only_in_djangos_admin(client, admin_user):
    policy = RebalancePolicy.objects.create(asset="BTC", two_approvers_above=D("2"))
    client.force_login(admin_user)

    listing = client.get("/admin/bots/rebalancepolicy/", follow=True)
    assert listing.status_code == 200 and "/changes/" in listing.content.decode()
    response = client.post(
        f"/admin/bots/rebalancepolicy/{policy.pk}/change/",
        {"asset": "BTC", "two_approvers_above": "100000", "auto_execute": "on"},
    )

    assert response.status_code == 403
    policy.refresh_from_db()
    assert (policy.two_approvers_above, policy.auto_execute) == (2, False)


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_others_cannot_even_see_logins_in_djangos_admin(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/admin/auth/user/", follow=True).status_code == 403


def test_a_venue_edited_in_djangos_admin_is_audited_with_before_and_after(
    client, admin_user, demo_market
):
    venue = demo_market.hedge_account.venue
    client.force_login(admin_user)

    response = client.post(
        f"/admin/bots/venue/{venue.pk}/change/",
        {"name": venue.name, "label": "Renamed outside", "kind": venue.kind,
         "exchange_id": venue.exchange_id, "options": "{}", "fault": ""},
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin venue changed")
    assert entry.user == admin_user
    assert entry.details["before"]["label"] == venue.label
    assert entry.details["after"]["label"] == "Renamed outside"
    assert Venue.objects.get(pk=venue.pk).label == "Renamed outside"


def test_a_row_deleted_in_djangos_admin_is_audited_with_what_it_held(client, admin_user):
    from bots.models import NotificationChannel

    channel = NotificationChannel.objects.create(label="pager", kind="email", target="a@b.c")
    client.force_login(admin_user)

    client.post(f"/admin/bots/notificationchannel/{channel.pk}/delete/", {"post": "yes"})

    entry = AuditEntry.objects.get(action="admin notificationchannel deleted")
    assert entry.details["before"]["target"] == "a@b.c" and entry.details["after"] is None
