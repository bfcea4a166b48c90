"""The verdict on an account's API keys from what their exchange says they may do.

A trading key should trade and not withdraw; a withdrawal key should withdraw. Where an account
has no withdrawal key its trading key also withdraws (rebalancing needs one of them to), so
withdrawal rights on it are noted, not refused. What an exchange does not expose is said as
unknown and does not fail the test: reading the balance already proved the key works.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Permissions:
    """What the exchange says a key may do; None where it does not say."""

    trade: bool | None = None
    withdraw: bool | None = None
    ip_restricted: bool | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    text: str


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def trading_key(p: Permissions, has_withdrawal_key: bool) -> Verdict:
    said = f"trading key: trade {_yes_no(p.trade)}, withdraw {_yes_no(p.withdraw)}"
    if p.trade is False:
        return Verdict(False, f"{said}: bad, this key cannot trade; enable spot trading on it")
    if p.withdraw and has_withdrawal_key:
        return Verdict(
            False,
            f"{said}: bad, the withdrawal key withdraws; turn withdrawals off on the trading key",
        )
    if p.withdraw:
        return Verdict(
            True,
            f"{said}: works, but this key can also withdraw; a separate withdrawal key lets "
            "it be trade-only",
        )
    if p.trade is None:
        return Verdict(True, f"{said}: the exchange does not say; balances were read, so it works")
    return Verdict(True, f"{said}: good")


def withdrawal_key(p: Permissions) -> Verdict:
    said = f"withdrawal key: withdraw {_yes_no(p.withdraw)}, IP restricted {_yes_no(p.ip_restricted)}"
    if p.withdraw is False:
        return Verdict(False, f"{said}: bad, this key cannot withdraw; enable withdrawals on it")
    if p.ip_restricted is False:
        return Verdict(True, f"{said}: works, but restrict it to the desk's IP addresses")
    if p.withdraw is None:
        return Verdict(True, f"{said}: the exchange does not say")
    return Verdict(True, f"{said}: good")
