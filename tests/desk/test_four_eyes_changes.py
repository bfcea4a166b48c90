"""Roles, rebalance policies and venue keys change only when a second admin confirms: every
rule for every persona, the second-account attack included."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.desk import four_eyes
from bots.desk.four_eyes import ChangeRefused
from bots.desk.roles import ADMIN, has_role
from bots.models import Account, AuditEntry, ChangeRequest, RebalancePolicy
from bots.platform.credentials import decrypt, encrypt
from tests.support.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(db):
    return make_user("bea", "admin")


@pytest.fixture
def policy(db):
    return RebalancePolicy.objects.create(asset="BTC", two_approvers_above=D("2"))


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_only_admins_propose_changes(persona, request, operator, policy):
    user = request.getfixturevalue(persona)
    with pytest.raises(ChangeRefused, match="admin role"):
        four_eyes.propose_role(user, operator, ADMIN, grant=True)
    with pytest.raises(ChangeRefused, match="admin role"):
        four_eyes.propose_policy(user, "BTC", {"auto_execute": True})
    assert not ChangeRequest.objects.exists()


def test_a_role_granted_by_one_admin_waits_for_a_second(admin_user, second_admin, operator):
    change = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True, reason="on call")

    assert not has_role(operator, ADMIN)
    four_eyes.confirm(second_admin, change.pk)

    assert has_role(operator, ADMIN)
    applied = AuditEntry.objects.get(action="change applied")
    assert applied.user == second_admin
    assert applied.details["before"]["admin"] is False
    assert applied.details["after"]["admin"] is True
    assert AuditEntry.objects.filter(action="change proposed", user=admin_user).exists()


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_only_admins_confirm(persona, request, admin_user, policy):
    change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})

    with pytest.raises(ChangeRefused, match="admin role"):
        four_eyes.confirm(request.getfixturevalue(persona), change.pk)
    with pytest.raises(ChangeRefused, match="admin role"):
        four_eyes.reject(request.getfixturevalue(persona), change.pk, "no")
    assert RebalancePolicy.objects.get(asset="BTC").auto_execute is False


def test_the_proposer_cannot_confirm_their_own_change(admin_user, policy):
    change = four_eyes.propose_policy(admin_user, "BTC", {"two_approvers_above": "1000"})

    with pytest.raises(ChangeRefused, match="another admin"):
        four_eyes.confirm(admin_user, change.pk)
    assert RebalancePolicy.objects.get(asset="BTC").two_approvers_above == 2


def test_the_database_refuses_a_change_applied_by_its_proposer(admin_user, policy):
    from django.db import IntegrityError, transaction

    change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.filter(pk=change.pk).update(state="applied", decided_by=admin_user)


def test_an_admin_cannot_confirm_through_a_login_they_created(client, admin_user, policy):
    """The attack: ada creates "ada2" in Django's admin, gets it made admin by a colleague for
    a plausible reason, then confirms her own request to turn on automatic withdrawal with it."""
    from django.contrib.auth.models import User

    client.force_login(admin_user)
    client.post(
        "/admin/auth/user/add/",
        {"username": "ada2", "password1": "x-Very-long-pass-1", "password2": "x-Very-long-pass-1",
         "usable_password": "true"},
    )
    second = User.objects.get(username="ada2")
    colleague = make_user("carl", "admin")
    grant = four_eyes.propose_role(admin_user, second, ADMIN, grant=True)
    four_eyes.confirm(colleague, grant.pk)
    assert has_role(second, ADMIN)

    change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    with pytest.raises(ChangeRefused, match="tied"):
        four_eyes.confirm(second, change.pk)
    # Nor the other way round: ada confirming what her second account proposed.
    other = four_eyes.propose_policy(second, "ETH", {"two_approvers_above": "5"})
    with pytest.raises(ChangeRefused, match="tied"):
        four_eyes.confirm(admin_user, other.pk)
    assert RebalancePolicy.objects.get(asset="BTC").auto_execute is False
    four_eyes.confirm(colleague, change.pk)
    assert RebalancePolicy.objects.get(asset="BTC").auto_execute is True


def test_an_admin_made_through_a_change_someone_proposed_cannot_confirm_theirs(
    admin_user, second_admin, operator, policy
):
    grant = four_eyes.propose_role(admin_user, operator, ADMIN, grant=True)
    four_eyes.confirm(second_admin, grant.pk)
    # And one further down the chain: olivia proposes victor's admin role, bea confirms.
    victor = make_user("vic", "viewer")
    four_eyes.confirm(second_admin, four_eyes.propose_role(operator, victor, ADMIN, grant=True).pk)

    change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    for tied_admin in (operator, victor):
        with pytest.raises(ChangeRefused, match="tied"):
            four_eyes.confirm(tied_admin, change.pk)
    four_eyes.confirm(second_admin, change.pk)


def test_nobody_confirms_a_change_about_themselves(admin_user, second_admin):
    change = four_eyes.propose_role(admin_user, second_admin, ADMIN, grant=False)
    with pytest.raises(ChangeRefused, match="about you"):
        four_eyes.confirm(second_admin, change.pk)


def test_the_only_admin_left_cannot_propose_their_own_removal(admin_user):
    with pytest.raises(ChangeRefused, match="last admin"):
        four_eyes.propose_role(admin_user, admin_user, ADMIN, grant=False)


def test_removing_an_admin_keeps_at_least_one(admin_user, second_admin):
    """bea proposes her own removal, ada proposes hers; once bea's goes through, ada's would
    leave nobody, so it is refused when confirmed."""
    carl = make_user("carl", "admin")
    bea_out = four_eyes.propose_role(second_admin, second_admin, ADMIN, grant=False)
    ada_out = four_eyes.propose_role(admin_user, admin_user, ADMIN, grant=False)
    four_eyes.confirm(carl, bea_out.pk)
    carl_out = four_eyes.propose_role(admin_user, carl, ADMIN, grant=False)
    four_eyes.confirm(carl, ada_out.pk)  # ada goes; carl is the only admin left
    with pytest.raises(ChangeRefused, match="admin role|last admin"):
        four_eyes.confirm(admin_user, carl_out.pk)
    assert has_role(carl, ADMIN)


def test_a_policy_change_is_validated_and_applied_with_before_and_after(
    admin_user, second_admin, policy
):
    with pytest.raises(ChangeRefused, match="max_fee_share"):
        four_eyes.propose_policy(admin_user, "BTC", {"max_fee_share": "0.9"})
    change = four_eyes.propose_policy(
        admin_user, "BTC", {"two_approvers_above": "1", "auto_execute": True, "velocity_count": 5}
    )
    four_eyes.confirm(second_admin, change.pk)

    policy.refresh_from_db()
    assert (policy.two_approvers_above, policy.auto_execute, policy.velocity_count) == (1, True, 5)
    details = AuditEntry.objects.get(action="change applied").details
    assert details["before"]["two_approvers_above"] == "2"
    assert details["after"]["two_approvers_above"] == "1"
    assert details["after"]["auto_execute"] is True


def test_a_new_asset_policy_also_takes_two_admins(admin_user, second_admin):
    change = four_eyes.propose_policy(admin_user, "eth", {"two_approvers_above": "10"})
    assert not RebalancePolicy.objects.filter(asset="ETH").exists()
    four_eyes.confirm(second_admin, change.pk)
    assert RebalancePolicy.objects.get(asset="ETH").two_approvers_above == 10


def test_a_change_proposed_against_an_older_state_is_refused(admin_user, second_admin, policy):
    change = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    RebalancePolicy.objects.filter(asset="BTC").update(two_approvers_above=D("7"))

    with pytest.raises(ChangeRefused, match="changed since"):
        four_eyes.confirm(second_admin, change.pk)
    assert ChangeRequest.objects.get(pk=change.pk).state == "pending"


def test_a_rejected_or_cancelled_change_cannot_be_confirmed(admin_user, second_admin, policy):
    first = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    with pytest.raises(ChangeRefused, match="Say why"):
        four_eyes.reject(second_admin, first.pk, "")
    four_eyes.reject(second_admin, first.pk, "not before the audit")
    with pytest.raises(ChangeRefused, match="already rejected"):
        four_eyes.confirm(second_admin, first.pk)

    second = four_eyes.propose_policy(admin_user, "BTC", {"auto_execute": True})
    with pytest.raises(ChangeRefused, match="Only whoever proposed"):
        four_eyes.cancel(second_admin, second.pk)
    four_eyes.cancel(admin_user, second.pk)
    with pytest.raises(ChangeRefused, match="already cancelled"):
        four_eyes.confirm(second_admin, second.pk)
    assert RebalancePolicy.objects.get(asset="BTC").auto_execute is False


def test_a_withdrawal_key_is_set_only_once_confirmed_and_never_shown(
    admin_user, second_admin, demo_market
):
    account = demo_market.hedge_account
    field = four_eyes.key_fields()[0]
    with pytest.raises(ChangeRefused, match="sets some of"):
        four_eyes.propose_key_change(admin_user, account, {"name": "evil"})
    change = four_eyes.propose_key_change(
        admin_user, account, {field: encrypt("the-new-key-1234")}, fingerprint="1234"
    )
    assert getattr(Account.objects.get(pk=account.pk), field) == getattr(account, field)
    with pytest.raises(ChangeRefused, match="another admin"):
        four_eyes.confirm(admin_user, change.pk)

    four_eyes.confirm(second_admin, change.pk)

    assert decrypt(getattr(Account.objects.get(pk=account.pk), field)) == "the-new-key-1234"
    change.refresh_from_db()
    assert "the-new-key" not in str(change.payload)
    for entry in AuditEntry.objects.filter(subject=f"change {change.pk}"):
        assert "the-new-key" not in str(entry.details)
        assert getattr(Account.objects.get(pk=account.pk), field) not in str(entry.details)
