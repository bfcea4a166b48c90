"""Django's admin serves the admin role only, and logs in through Ballast's rate-limited page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_admin_by_role_uses_the_admin_without_being_staff(client, admin_user, demo_market):
    assert not admin_user.is_staff and not admin_user.is_superuser
    client.force_login(admin_user)

    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/bots/market/")
    assert page.status_code == 200 and "BTC/USDT" in page.content.decode()
    assert client.get(f"/admin/bots/market/{demo_market.pk}/change/").status_code == 200


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_viewers_and_operators_are_refused(client, demo_market, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get("/admin/bots/market/", follow=True).status_code == 403
    assert client.get("/admin/").status_code in (302, 403)
    assert client.get("/admin/login/").status_code == 403


def test_the_admins_own_login_page_leads_to_ballasts(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/login/?next=%2Fadmin%2F"
    assert response.status_code == 200


def test_an_admin_sets_up_a_webhook_channel_and_the_list_hides_its_token(client, admin_user):
    from bots.models import NotificationChannel

    client.force_login(admin_user)
    url = "https://hooks.slack.com/services/T000/B000/secret-token"

    response = client.post(
        "/admin/bots/notificationchannel/add/", {"label": "desk slack", "kind": "webhook", "target": url, "enabled": "on"}
    )

    assert response.status_code == 302
    assert NotificationChannel.objects.get().target == url
    listing = client.get("/admin/bots/notificationchannel/").content.decode()
    assert "hooks.slack.com" in listing and "secret-token" not in listing
