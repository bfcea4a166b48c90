"""Two-factor log-in for operators and admins (TOTP, with recovery codes): required where said,
enrolment, recovery codes used once, a fresh code for approvals above the threshold, and the
demo's login still usable."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP

from bots.desk import two_factor
from bots.models import RebalancePolicy, TransferProposal
from bots.treasury import rebalancing
from tests.support.treasury import drain
from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR = True


def password_login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def code_of(device, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():06d}"


def test_a_viewer_needs_no_code(client, viewer):
    password_login(client, viewer)
    assert client.get(reverse("overview")).status_code == 200


@pytest.mark.parametrize("persona", ["operator", "admin_user"])
def test_operators_and_admins_reach_nothing_before_their_code(client, persona, request):
    user = request.getfixturevalue(persona)
    password_login(client, user)

    for url in (reverse("overview"), reverse("rebalance"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("two-factor"))
    posted = client.post(reverse("rebalance-plan"))
    assert posted.status_code == 302 and posted.url.startswith(reverse("two-factor"))


@pytest.mark.django_db(transaction=True)
async def test_through_daphnes_async_handler_too(async_client, operator):
    # Daphne runs the middleware in its async form, which the demo's async views keep on the loop.
    login = await async_client.post(reverse("login"), {"username": operator.username, "password": PASSWORD})
    assert login.status_code == 302

    for url in (reverse("overview"), reverse("demo")):
        response = await async_client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("two-factor"))
    assert (await async_client.get(reverse("two-factor"))).status_code == 200


def test_first_log_in_sets_up_the_authenticator_and_shows_recovery_codes_once(client, operator):
    password_login(client, operator)
    page = client.get(reverse("two-factor")).content.decode()
    assert "data-secret" in page
    device = two_factor.enrolling(operator)

    wrong = client.post(reverse("two-factor"), {"code": "000000" if code_of(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    # django-otp throttles after a wrong code (1 s, doubling): a person waits, this test resets.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    done = client.post(reverse("two-factor"), {"code": code_of(device), "next": "/overview/"})

    assert done.status_code == 200 and "recovery codes" in done.content.decode()
    assert done.content.decode().count("<code>") == two_factor.RECOVERY_CODES
    assert client.get(reverse("overview")).status_code == 200


def test_a_recovery_code_logs_in_once(client, operator):
    two_factor.enrol_for_demo(operator)
    [code, *_] = two_factor.new_recovery_codes(operator)

    password_login(client, operator)
    assert client.post(reverse("two-factor"), {"code": code}).status_code == 302
    assert client.get(reverse("overview")).status_code == 200

    client.logout()
    password_login(client, operator)
    assert client.post(reverse("two-factor"), {"code": code}).status_code == 400
    assert client.get(reverse("overview")).status_code == 302


def test_a_used_code_does_not_log_in_twice(client, operator):
    device = two_factor.enrol_for_demo(operator)
    code = code_of(device)
    password_login(client, operator)
    assert client.post(reverse("two-factor"), {"code": code}).status_code == 302

    other = client.__class__()
    password_login(other, operator)
    assert other.post(reverse("two-factor"), {"code": code}).status_code == 400


def test_the_next_address_stays_on_this_site(client, operator):
    device = two_factor.enrol_for_demo(operator)
    password_login(client, operator)

    response = client.post(
        reverse("two-factor"), {"code": code_of(device), "next": "https://evil.example/"}
    )
    assert response.url == reverse("home")


@pytest.fixture
def big_proposal(rebalance_market):
    RebalancePolicy.objects.filter(asset="BTC").update(two_approvers_above=D("1"))
    drain(rebalance_market, D("1.4"))
    [p] = rebalancing.plan_transfers()
    assert p.approvals_required == 2
    return p


def test_an_approval_above_the_threshold_needs_a_fresh_code(big_proposal, operator):
    device = two_factor.enrol_for_demo(operator)
    with pytest.raises(rebalancing.TransferError, match="fresh code"):
        rebalancing.approve(big_proposal.pk, operator)
    with pytest.raises(rebalancing.TransferError, match="fresh code"):
        rebalancing.approve(big_proposal.pk, operator, code="12345x")
    code = code_of(device)
    assert device.verify_token(code)  # used to log in a moment ago: not fresh any more
    with pytest.raises(rebalancing.TransferError, match="fresh code"):
        rebalancing.approve(big_proposal.pk, operator, code=code)

    device.refresh_from_db()
    device.throttle_reset()  # the wrong codes above throttled it for a few seconds
    done = rebalancing.approve(big_proposal.pk, operator, code=code_of(device, steps_ahead=1))

    assert "Approval 1 of 2" in done.message


def test_a_recovery_code_is_no_fresh_code(big_proposal, operator):
    two_factor.enrol_for_demo(operator)
    [code, *_] = two_factor.new_recovery_codes(operator)
    with pytest.raises(rebalancing.TransferError, match="fresh code"):
        rebalancing.approve(big_proposal.pk, operator, code=code)


def test_under_the_threshold_no_code_is_asked(rebalance_market, operator):
    drain(rebalance_market, D("1.4"))
    [p] = rebalancing.plan_transfers()
    rebalancing.approve(p.pk, operator)
    assert TransferProposal.objects.get(pk=p.pk).state == TransferProposal.APPROVED


def test_the_panel_asks_for_the_code_on_a_big_transfer(client, big_proposal, operator):
    device = two_factor.enrol_for_demo(operator)
    password_login(client, operator)
    client.post(reverse("two-factor"), {"code": code_of(device)})

    page = client.get(reverse("rebalance")).content.decode()
    assert 'name="code"' in page
    refused = client.post(reverse("transfer-approve", args=[big_proposal.pk]), follow=True)
    assert "fresh code" in refused.content.decode()
    client.post(
        reverse("transfer-approve", args=[big_proposal.pk]),
        {"code": code_of(device, steps_ahead=1)},
    )
    assert big_proposal.approvals.filter(user=operator).exists()


def test_the_demo_login_gets_an_authenticator_and_says_how_to_read_its_code(db):
    out = io.StringIO()
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", stdout=out)
    # The command as printed runs from the checkout (manage.py alone is not on PATH, and the
    # system python has no Django).
    assert "`.venv/bin/python manage.py demo_code operator`" in out.getvalue()

    code = io.StringIO()
    call_command("demo_code", "operator", stdout=code)
    device = two_factor.device_of(
        __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
        .objects.get(username="operator")
    )
    assert device.verify_token(code.getvalue().strip())


def test_the_stub_demos_code_command_names_its_own_folder(db, settings):
    # `make demo VENUES=stub` keeps its database in var/stub: without the folder the printed
    # command would read the paper demo's database and print a code the stub demo refuses.
    settings.VAR_DIR = settings.BASE_DIR / "var" / "stub"
    out = io.StringIO()
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", stdout=out)
    assert "`BALLAST_VAR_DIR=var/stub .venv/bin/python manage.py demo_code operator`" in (
        out.getvalue()
    )


def test_demo_code_prints_no_real_authenticators_code(operator):
    two_factor.enrolling(operator)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no demo authenticator"):
        call_command("demo_code", operator.username, stdout=io.StringIO())
