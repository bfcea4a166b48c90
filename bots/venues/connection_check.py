"""Testing an account's keys against its exchange: markets, balances, permissions and clock.

Run with a client of its own (not the process's kept one), so that the keys just typed are the
ones tested. Each step says what it saw; the first that fails ends the test with the exchange's
own words. Permissions are read where the exchange exposes them (PERMISSIONS below); the verdict
comes from bots.engine.desk.key_verdict.
"""

from __future__ import annotations

import ccxt

from bots.engine.desk import key_verdict
from bots.engine.desk.key_verdict import Permissions
from bots.venues.clients import KeptClient


def _binance(client) -> Permissions:
    answer = client.sapi_get_account_apirestrictions()
    return Permissions(
        trade=bool(answer.get("enableSpotAndMarginTrading")),
        withdraw=bool(answer.get("enableWithdrawals")),
        ip_restricted=bool(answer.get("ipRestrict")),
    )


# Exchanges whose API says what a key may do, and how to ask it.
PERMISSIONS = {"binance": _binance}


def _client(account, credentials: dict) -> KeptClient:
    venue = account.venue
    return KeptClient(venue.name, venue.exchange_id, venue.options, credentials,
                      label=venue.label, sandbox=venue.sandbox)


def _permissions(kept: KeptClient) -> tuple[Permissions, str]:
    read = PERMISSIONS.get(kept.client.id)
    if read is None:
        return Permissions(), f"{kept.client.id} does not expose a key's permissions"
    try:
        return read(kept.client), ""
    except ccxt.BaseError as exc:
        return Permissions(), f"permissions could not be read: {type(exc).__name__}: {exc}"


def check(account) -> dict:
    """The report of one test: {"passed", "steps": [[name, ok, text]], "verdicts", "markets",
    "clock_offset_ms"}."""
    steps: list[list] = []
    report = {"passed": False, "steps": steps, "verdicts": [], "markets": 0,
              "clock_offset_ms": None}
    if not account.has_keys:
        steps.append(["keys", False, "no API key set"])
        return report
    try:
        kept = _client(account, account.credentials())
        markets = kept.load_markets(reload=True)
        report["markets"] = len(markets)
        report["clock_offset_ms"] = kept._offset()
        steps.append(["markets", True, f"{len(markets)} markets loaded"])
        balance = kept.client.fetch_balance()
        held = sorted(code for code, total in (balance.get("total") or {}).items() if total)
        steps.append(["balances", True, f"balances read: {', '.join(held) or 'all empty'}"])
    except ccxt.BaseError as exc:
        steps.append(["connect", False, f"{type(exc).__name__}: {exc}"])
        return report
    permissions, note = _permissions(kept)
    if note:
        steps.append(["permissions", True, note])
    verdicts = [key_verdict.trading_key(permissions, account.has_withdrawal_key)]
    if account.has_withdrawal_key:
        try:
            withdrawing = _client(account, account.withdrawal_credentials())
            withdrawing.load_markets()
            w_permissions, note = _permissions(withdrawing)
        except ccxt.BaseError as exc:
            w_permissions, note = Permissions(), f"{type(exc).__name__}: {exc}"
            verdicts.append(key_verdict.Verdict(False, f"withdrawal key refused: {note}"))
        else:
            if note:
                steps.append(["withdrawal key permissions", True, note])
            verdicts.append(key_verdict.withdrawal_key(w_permissions))
    report["verdicts"] = [[v.passed, v.text] for v in verdicts]
    report["passed"] = all(v.passed for v in verdicts)
    return report
