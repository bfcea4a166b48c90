"""The intervention workflow per persona: operators propose and approve under the transfers'
rules (nobody approves their own, nor twice; two above the asset's threshold), viewers act on
nothing, admins change the detectors' settings with history; the detectors propose under selling
pressure; every step is in the audit log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from bots.engine.interventions.settings import DEFAULTS
from bots.interventions import workflow
from bots.interventions.tasks import detect_interventions
from bots.interventions.workflow import InterventionConflict, InterventionError
from bots.market_making import operator_commands
from bots.models import (
    AuditEntry,
    Intervention,
    InterventionSettingsVersion,
    KillSwitch,
    RebalancePolicy,
)
from tests.support.interventions import read_balances, user_fills

pytestmark = pytest.mark.django_db
I = Intervention  # noqa: E741


@pytest.fixture
def market(running_market):
    read_balances(running_market)
    running_market.refresh_from_db()
    return running_market


def propose(market, user, **kw):
    kw.setdefault("kind", I.BUYBACK)
    kw.setdefault("where", "hedge")
    kw.setdefault("amount", "0.5")
    kw.setdefault("minutes", 10)
    return workflow.propose(market, user, **kw).intervention


def test_an_operator_proposes_a_buyback_with_its_limit_cost_and_effect(market, operator):
    iv = propose(market, operator, reason="selling into the close")

    assert (iv.state, iv.kind, iv.where, iv.origin) == (I.PROPOSED, I.BUYBACK, "hedge", I.MANUAL)
    assert iv.account == market.hedge_account
    assert iv.amount == D("0.5")
    assert market.reference_price < iv.price_limit <= market.reference_price * D("1.005")
    assert D(iv.estimate["reachable"]) == D("0.5")
    assert D(iv.estimate["notional"]) > 0 and D(iv.estimate["fee"]) > 0
    assert D(iv.effect["base_after"]) == D(iv.effect["base_before"]) + D("0.5")
    assert D(iv.effect["quote_after"]) < D(iv.effect["quote_before"])
    assert iv.approvals_required == 1  # 0.5 BTC is under the demo's BTC threshold
    entry = AuditEntry.objects.get(action="intervention proposed")
    assert (entry.actor, entry.subject, entry.reason) == (
        "olivia", f"intervention {iv.pk}", "selling into the close"
    )


def test_an_unwind_is_floored_below_the_reference_and_sells_what_the_account_holds(
    market, operator
):
    iv = propose(market, operator, kind=I.UNWIND, amount="1")

    assert iv.price_limit < market.reference_price
    assert D(iv.effect["base_after"]) == D(iv.effect["base_before"]) - 1
    workflow.cancel(iv.pk, operator)
    with pytest.raises(InterventionError, match="can sell at most 2 BTC"):
        propose(market, operator, kind=I.UNWIND, amount="500")


def test_a_viewer_can_neither_propose_nor_approve(market, viewer, operator):
    with pytest.raises(InterventionError, match="operator role"):
        propose(market, viewer)
    iv = propose(market, operator)
    with pytest.raises(InterventionError, match="operator role"):
        workflow.approve(iv.pk, viewer)
    assert I.objects.get(pk=iv.pk).state == I.PROPOSED


def test_nobody_approves_their_own_nor_twice_and_two_are_needed_above_the_threshold(
    market, operator, second_operator, admin_user
):
    RebalancePolicy.objects.update_or_create(asset="BTC", defaults={"two_approvers_above": D("0.1")})
    iv = propose(market, operator)
    assert iv.approvals_required == 2

    with pytest.raises(InterventionError, match="You proposed intervention"):
        workflow.approve(iv.pk, operator)
    workflow.approve(iv.pk, second_operator, "ok")
    with pytest.raises(InterventionConflict, match="already approved"):
        workflow.approve(iv.pk, second_operator)
    assert I.objects.get(pk=iv.pk).state == I.PROPOSED

    done = workflow.approve(iv.pk, admin_user, "ok too")

    iv.refresh_from_db()
    assert iv.state == I.RUNNING and "slices start" in done.message
    assert sum(D(a) for _, a in iv.plan) == iv.amount
    assert [e.action for e in AuditEntry.objects.filter(subject=f"intervention {iv.pk}")
            .order_by("id")] == ["intervention proposed", "intervention approval",
                                 "intervention approved"]


def test_a_stale_proposal_expires_instead_of_being_approved(market, operator, second_operator):
    iv = propose(market, operator)
    I.objects.filter(pk=iv.pk).update(created_at=timezone.now() - timedelta(minutes=16))

    with pytest.raises(InterventionConflict, match="expired instead"):
        workflow.approve(iv.pk, second_operator)
    assert I.objects.get(pk=iv.pk).state == I.EXPIRED


def test_a_proposal_nobody_approves_expires_at_the_detectors_round_then_they_cool_down(
    market, admin_user
):
    config = workflow.config_from({
        **vars(DEFAULTS), "detect": True, "flow_threshold": "1", "inventory_check": False,
        "cooldown_minutes": 30,
    })
    workflow.change_settings(market, config, expected_version=0, user=admin_user, reason="on")
    user_fills(market, "sell", ["1.5"])
    assert detect_interventions() == 1
    iv = I.objects.get()
    I.objects.filter(pk=iv.pk).update(created_at=timezone.now() - timedelta(minutes=14))
    assert detect_interventions() == 0
    assert I.objects.get(pk=iv.pk).state == I.PROPOSED

    I.objects.filter(pk=iv.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert detect_interventions() == 0  # the selling is still on record, but it cools down

    iv.refresh_from_db()
    assert iv.state == I.EXPIRED and "not approved within 15 min" in iv.state_note
    assert AuditEntry.objects.filter(action="intervention expired", subject=f"intervention {iv.pk}").count() == 1
    I.objects.filter(pk=iv.pk).update(ended_at=timezone.now() - timedelta(minutes=31))
    assert detect_interventions() == 1


def test_reject_needs_a_reason_and_only_the_proposer_or_an_admin_cancels_a_proposal(
    market, operator, second_operator, admin_user
):
    iv = propose(market, operator)
    with pytest.raises(InterventionError, match="Say why"):
        workflow.reject(iv.pk, second_operator, "")
    with pytest.raises(InterventionError, match="Only whoever proposed it"):
        workflow.cancel(iv.pk, second_operator)
    workflow.cancel(iv.pk, admin_user, "not now")
    assert I.objects.get(pk=iv.pk).state == I.CANCELLED

    again = propose(market, operator)  # the market's one open intervention ended: a new one
    workflow.reject(again.pk, second_operator, "the book refilled")
    assert I.objects.get(pk=again.pk).state == I.REJECTED


def test_one_open_intervention_per_market(market, operator):
    propose(market, operator)
    with pytest.raises(InterventionConflict, match="already has an intervention open"):
        propose(market, operator, kind=I.UNWIND)


def test_nothing_is_approved_while_the_kill_switch_is_engaged(market, operator, second_operator):
    iv = propose(market, operator)
    operator_commands.kill_all(reason="drill", user=second_operator)
    assert KillSwitch.is_engaged()

    with pytest.raises(InterventionError, match="kill switch"):
        workflow.approve(iv.pk, second_operator)
    assert I.objects.get(pk=iv.pk).state == I.PROPOSED


def test_the_detectors_propose_a_buyback_under_selling_pressure_and_only_once(
    market, admin_user
):
    config = workflow.config_from({
        **vars(DEFAULTS), "detect": True, "flow_threshold": "1", "inventory_check": False,
        "default_amount": "0.3",
    })
    workflow.change_settings(market, config, expected_version=0, user=admin_user, reason="on")
    assert workflow.detect(market) is None  # calm

    user_fills(market, "sell", ["0.8", "0.7"])
    iv = workflow.detect(market)

    assert (iv.kind, iv.origin, iv.amount, iv.proposed_by) == (I.BUYBACK, I.DETECTOR, D("0.3"), None)
    assert "users sold a net 1.5 BTC in 15 min" in iv.reason
    assert iv.findings[0]["detector"] == "flow"
    assert workflow.detect(market) is None  # one open already
    assert AuditEntry.objects.get(action="intervention proposed").actor == "intervention detector"


def test_a_detector_proposal_is_approved_by_any_operator(market, admin_user, operator):
    config = workflow.config_from({**vars(DEFAULTS), "detect": True, "flow_threshold": "1"})
    workflow.change_settings(market, config, expected_version=0, user=admin_user)
    user_fills(market, "sell", ["2"])
    iv = workflow.detect(market)

    workflow.approve(iv.pk, operator)

    assert I.objects.get(pk=iv.pk).state == I.RUNNING


def test_settings_are_admins_and_every_change_is_a_version_with_before_and_after(
    market, operator, admin_user
):
    config = workflow.config_from({**vars(DEFAULTS), "mid_move_pct": "2.5"})
    with pytest.raises(InterventionError, match="admin role"):
        workflow.change_settings(market, config, expected_version=0, user=operator)

    v1 = workflow.change_settings(market, config, expected_version=0, user=admin_user,
                                  reason="wider")

    assert v1.number == 1 and v1.changes == {"mid_move_pct": {"old": "0", "new": "2.5"}}
    with pytest.raises(InterventionConflict, match="changed"):
        workflow.change_settings(market, DEFAULTS, expected_version=0, user=admin_user)
    with pytest.raises(InterventionError, match="Nothing changed"):
        workflow.change_settings(market, config, expected_version=1, user=admin_user)
    assert InterventionSettingsVersion.objects.filter(market=market).count() == 1
    assert AuditEntry.objects.get(action="intervention settings").details["changes"] == v1.changes


def test_settings_refuse_values_out_of_bounds_and_an_imbalance_ratio_of_one():
    with pytest.raises(InterventionError, match="Participation cap must be at most 100"):
        workflow.config_from({**vars(DEFAULTS), "participation_pct": "150"})
    with pytest.raises(InterventionError, match="must be above 1"):
        workflow.config_from({**vars(DEFAULTS), "imbalance_ratio": "1"})


def test_the_beat_task_runs_the_detectors_of_markets_that_have_them_on(market, admin_user):
    from bots.interventions.tasks import detect_interventions

    user_fills(market, "sell", ["2"])
    assert detect_interventions() == 0  # detectors off by default
    config = workflow.config_from({**vars(DEFAULTS), "detect": True, "flow_threshold": "1"})
    workflow.change_settings(market, config, expected_version=0, user=admin_user)

    assert detect_interventions() == 1
    assert I.objects.get().origin == I.DETECTOR
