"""Reading the bot accounts' balances from their venues into BalanceSnapshot rows."""

from __future__ import annotations

from bots.engine.rules import ZERO, dec
from bots.models import Account, BalanceSnapshot
from bots.venues import stream_state, venue_for


def refresh_balances(account: Account, assets: list[str], recording: bool = False) -> list[BalanceSnapshot]:
    """Snapshot `assets` of `account` (`recording`: stream_state.read_balance's).

    A new row is written when the total changed, so the rows are the account's inventory over
    time; a mere move between free and in-orders (the bot replacing quotes) updates the latest
    row in place instead of writing one a tick.
    """
    # The account's shared balance when it was read (or streamed) after the desk's last order.
    balance = stream_state.read_balance(venue_for(account), recording)
    written = []
    for asset in assets:
        figures = balance.get(asset) or {}
        free, used = dec(figures.get("free") or ZERO), dec(figures.get("used") or ZERO)
        total = dec(figures.get("total") or (free + used))
        latest = (
            BalanceSnapshot.objects.filter(account=account, asset=asset).order_by("-taken_at", "-id").first()
        )
        if latest and latest.total == total:
            if (latest.free, latest.used) != (free, used):
                latest.free, latest.used = free, used
                latest.save(update_fields=["free", "used"])
            continue
        written.append(
            BalanceSnapshot.objects.create(account=account, asset=asset, free=free, used=used, total=total)
        )
    return written


def latest_balances(accounts: list[Account], assets: list[str]) -> dict[tuple[int, str], BalanceSnapshot]:
    found = {}
    for account in accounts:
        for asset in assets:
            row = (
                BalanceSnapshot.objects.filter(account=account, asset=asset)
                .order_by("-taken_at", "-id")
                .first()
            )
            if row is not None:
                found[(account.pk, asset)] = row
    return found
