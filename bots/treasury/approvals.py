"""The approval rules every proposal that moves money follows: transfers
(bots.treasury.rebalancing) and price-action interventions (bots.interventions.workflow).

How many approvals it takes (two above the asset's policy threshold, one below; two where the
asset has no policy), who may give one (an operator, never the proposer, once each) and when an
approval needs a fresh two-factor code (above the threshold). Each rule answers the refusal's
message, or None; the caller raises it as its own error.
"""

from __future__ import annotations

from decimal import Decimal

from bots.desk import two_factor
from bots.treasury.inventory import policy_for


def approvals_needed(asset: str, amount: Decimal) -> int:
    return 2 if amount > policy_for(asset).two_approvers_above else 1


def code_refusal(what: str, user, code: str | None, required: int) -> str | None:
    """Above the two-approver threshold (with two-factor on), each approval takes a code the
    approver's authenticator never gave before."""
    if required > 1 and two_factor.required() and not two_factor.fresh_code_ok(user, code):
        return (
            f"{what[:1].upper()}{what[1:]} is above the two-approver threshold: give a fresh "
            "code from your authenticator app (one not used before) with your approval."
        )
    return None


def approver_refusal(what: str, proposed_by_id: int | None, user, approved_before: bool) -> str | None:
    """Nobody approves their own proposal, nor approves twice."""
    if proposed_by_id == user.pk:
        return f"You proposed {what}: another operator must approve it."
    if approved_before:
        return f"You have already approved {what}; it needs another operator."
    return None
