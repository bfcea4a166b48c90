"""Withdrawal terms as an exchange reports them, against those the planner uses (pure).

An exchange's currencies (ccxt's structure, Decimals) are read for the (asset, network) pairs the
planner withdraws over; each is compared with the planner's figures. What differs becomes a
change an admin accepts or dismisses (bots/treasury/network_facts.py): nothing here decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.figures import plain


class BadTerms(ValueError):
    """The exchange's answer cannot be used: the message names the venue, asset and network."""


@dataclass(frozen=True)
class Terms:
    """What withdrawing over one network costs and whether it is open. `listed` False: the
    exchange no longer lists the network at all (then it counts as closed)."""

    fee: Decimal
    minimum: Decimal
    enabled: bool
    listed: bool = True

    def as_dict(self) -> dict:
        """For the audit log: amounts as the pages write them."""
        return {"fee": plain(self.fee), "minimum": plain(self.minimum), "enabled": self.enabled,
                "listed": self.listed}


def _amount(value, what: str, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise BadTerms(f"{where}: the {what} is {value!r}, not a number")
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise BadTerms(f"{where}: the {what} is {value}, not an amount of 0 or more")
    return value


def reported(
    venue: str, currencies: dict, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Decimal, Decimal | None, bool] | None]:
    """Per (asset, network) wanted: (fee, minimum or None when the exchange states none,
    open), or None where the exchange lists no such network. BadTerms when a listed network
    has no fee or a figure that is no amount: then none of the venue's answer is used."""
    found = {}
    for asset, name in wanted:
        where = f"{venue} {asset} over {name}"
        network = ((currencies.get(asset) or {}).get("networks") or {}).get(name)
        if network is None:
            found[asset, name] = None
            continue
        fee = _amount(network.get("fee"), "withdrawal fee", where)
        if fee is None:
            raise BadTerms(f"{where}: the exchange gave no withdrawal fee")
        minimum = _amount(((network.get("limits") or {}).get("withdraw") or {}).get("min"),
                          "withdrawal minimum", where)
        found[asset, name] = (fee, minimum, network.get("withdraw") is not False)
    return found


def difference(
    planner: Terms, exchange: tuple[Decimal, Decimal | None, bool] | None
) -> Terms | None:
    """The terms the exchange reports where they differ from the planner's, else None. A
    minimum the exchange does not state keeps the planner's; a network it no longer lists is
    closed, its figures kept."""
    if exchange is None:
        after = Terms(planner.fee, planner.minimum, False, listed=False)
    else:
        fee, minimum, enabled = exchange
        after = Terms(fee, planner.minimum if minimum is None else minimum, enabled)
    same = (after.fee, after.minimum, after.enabled) == (
        planner.fee, planner.minimum, planner.enabled
    )
    # A network the planner already keeps closed need not be closed again when it goes.
    return None if same else after


WITHDRAW = "withdraw"
DEPOSIT = "deposit"


def openings(currencies: dict, wanted: Iterable[tuple[str, str, str]]) -> dict[tuple, bool]:
    """Per (asset, network, side) wanted, side WITHDRAW or DEPOSIT: whether the exchange has it
    open. A network it does not list is closed for withdrawals (as in `difference`) but left
    out for deposits: a destination may name the network otherwise, and an unknown is no
    reason to stop money. Only an explicit False closes; a network without the flag is open."""
    found = {}
    for asset, name, side in wanted:
        network = ((currencies.get(asset) or {}).get("networks") or {}).get(name)
        if network is None:
            if side == WITHDRAW:
                found[asset, name, side] = False
            continue
        found[asset, name, side] = network.get(side) is not False
    return found
