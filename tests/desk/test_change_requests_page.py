"""The change requests page: proposing a role change, confirming, rejecting and cancelling,
with and without htmx; the page never offers the proposer (or a tied login) a Confirm."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bots.desk import four_eyes
from bots.desk.roles import ADMIN, has_role
from bots.models import AuditEntry, ChangeRequest
from tests.support.users import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bea(db):
    return make_user("bea", "admin")


def test_an_admin_proposes_a_role_and_sees_no_confirm_on_their_own(client, admin_user, operator):
    client.force_login(admin_user)

    response = client.post(
        reverse("changes-role"),
        {"user": operator.username, "role": "admin", "action": "grant", "reason": "cover"},
        follow=True,
    )

    page = response.content.decode()
    assert "Another admin must confirm it" in page
    change = ChangeRequest.objects.get()
    row = page[page.index(f'id="change-{change.pk}"'):]
    row = row[: row.index("</li>")]
    assert reverse("change-cancel", args=[change.pk]) in row
    assert reverse("change-confirm", args=[change.pk]) not in row
    assert not has_role(operator, ADMIN)


def test_a_second_admin_confirms_without_javascript(client, admin_user, bea, operator):
    change = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    client.force_login(bea)
    assert reverse("change-confirm", args=[change.pk]) in client.get(reverse("changes")).content.decode()

    response = client.post(reverse("change-confirm", args=[change.pk]))

    assert response.status_code == 302 and response.url == reverse("changes")
    assert has_role(operator, ADMIN)
    assert AuditEntry.objects.filter(action="change applied", user=bea).exists()


def test_the_proposer_confirming_by_hand_gets_409_from_htmx(client, admin_user, operator):
    change = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    client.force_login(admin_user)

    response = client.post(reverse("change-confirm", args=[change.pk]), **HTMX)

    assert response.status_code == 409
    assert "another admin must confirm" in response.content.decode()
    assert not has_role(operator, ADMIN)


def test_reject_and_cancel_in_place_with_htmx(client, admin_user, bea, operator, viewer):
    first = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    second = four_eyes.propose_role(admin_user, viewer, "operator", grant=True)
    client.force_login(bea)
    refused = client.post(reverse("change-reject", args=[first.pk]), {"note": ""}, **HTMX)
    assert refused.status_code == 409
    rejected = client.post(reverse("change-reject", args=[first.pk]), {"note": "no"}, **HTMX)
    assert rejected.status_code == 200 and "rejected" in rejected.content.decode()
    assert client.post(reverse("change-cancel", args=[second.pk]), **HTMX).status_code == 409

    client.force_login(admin_user)
    cancelled = client.post(reverse("change-cancel", args=[second.pk]), **HTMX)

    assert cancelled.status_code == 200 and "cancelled" in cancelled.content.decode()
    assert not has_role(operator, ADMIN) and not has_role(viewer, "operator")


def test_a_tied_admin_sees_why_instead_of_confirm(client, admin_user, bea, operator):
    four_eyes.confirm(bea, four_eyes.propose_role(admin_user, operator, ADMIN, grant=True).pk)
    change = four_eyes.propose_role(admin_user, make_user("vi", "viewer"), "operator", grant=True)
    client.force_login(operator)

    page = client.get(reverse("changes")).content.decode()

    assert reverse("change-confirm", args=[change.pk]) not in page
    assert "tied" in page


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_viewers_and_operators_cannot_use_the_page(client, persona, request, admin_user):
    change = four_eyes.propose_role(admin_user, request.getfixturevalue(persona), ADMIN, True)
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("changes")).status_code == 403
    assert client.post(reverse("change-confirm", args=[change.pk])).status_code == 403
    assert ChangeRequest.objects.get(pk=change.pk).state == "pending"
