"""Checking a whitelisted address against the deposit address the destination exchange reports.

Before a transfer to one of our own accounts is withdrawn through the API, the destination
account's venue is asked for its deposit address for the asset and network
(`fetch_deposit_address`). The same address (and tag) lets the transfer through; another one
blocks it: it stays approved and unsent, its card says why, and an "address mismatch" alert asks
an admin to check the whitelist against the exchange. A venue that does not offer the call
(ccxt.NotSupported) is said so, and the transfer goes on the whitelist alone, as before. An
answer that cannot be read (an error, no address, another currency) changes nothing: nothing
is sent, nothing is blocked, and the withdrawal can be tried again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from bots.desk.alerts import raise_alert, resolve_cause
from bots.models import Alert, TransferProposal, WhitelistAddress
from bots.treasury.inventory import account_label
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from bots.venues.errors import describe, is_transient

MATCH = "match"
MISMATCH = "mismatch"
NOT_OFFERED = "not offered"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class AddressCheck:
    verdict: str  # one of MATCH, MISMATCH, NOT_OFFERED, UNREADABLE
    text: str  # for the audit log, the card and the one who clicked
    transient: bool = False  # UNREADABLE only: the venue could not be reached, worth a retry


def _shown(address: str, tag: str | None) -> str:
    return f"{address} (tag {tag})" if tag else address


def check(p: TransferProposal, entry: WhitelistAddress) -> AddressCheck:
    """What the destination's venue says about the whitelisted address `entry`."""
    where = f"{account_label(p.destination)}'s {p.asset}/{p.network} deposit address"
    try:
        found = venue_for(p.destination).fetch_deposit_address(p.asset, {"network": p.network})
    except ccxt.NotSupported:
        return AddressCheck(
            NOT_OFFERED,
            f"{p.destination.venue.label} does not report deposit addresses: sent on the "
            "whitelist alone",
        )
    except ccxt.BaseError as exc:
        return AddressCheck(
            UNREADABLE, f"{where} could not be read: {describe(exc)}", is_transient(exc)
        )
    address = found.get("address") if isinstance(found, dict) else None
    if not isinstance(address, str) or not address.strip():
        return AddressCheck(UNREADABLE, f"{where} could not be read: the answer has no address")
    if found.get("currency") not in (None, p.asset):
        return AddressCheck(
            UNREADABLE,
            f"{where} could not be read: the venue answered for {found.get('currency')}",
        )
    tag = found.get("tag") or ""
    if not isinstance(tag, str):
        tag = str(tag)
    reported = _shown(address.strip(), tag.strip())
    if (address.strip(), tag.strip()) == (entry.address, entry.tag or ""):
        return AddressCheck(MATCH, f"{where} as reported by the venue: {reported}")
    return AddressCheck(
        MISMATCH,
        f"blocked: the venue reports {where} as {reported}, not the whitelisted "
        f"{_shown(entry.address, entry.tag)}; an admin checks the whitelist against the exchange",
    )


def _alert_key(p: TransferProposal) -> str:
    return f"address-{p.destination_id}-{p.asset}-{p.network}"


def raise_mismatch(p: TransferProposal, text: str) -> None:
    """The alert of a blocked transfer (sent to the channels once committed)."""
    raise_alert(
        Alert.ADDRESS_MISMATCH,
        p.market,
        f"Transfer {p.pk} {text}",
        action_url=reverse("rebalance") + f"#transfer-{p.pk}",
        key=_alert_key(p),
    )


def resolve_mismatch(p: TransferProposal) -> None:
    """The venue reports the whitelisted address again: its alert, if any, ends."""
    resolve_cause(Alert.ADDRESS_MISMATCH, p.market, _alert_key(p))
