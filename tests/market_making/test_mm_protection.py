"""Protection on paper venues: the price breaker, a stale reference, the exposure limit, a hedge
pending too long and the trades-per-minute limiter each do what they say, and resume by
themselves when the condition clears."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from django.db.models import F
from django.utils import timezone

from bots.market_making.operator_commands import change_quote_settings
from bots.models import Alert, AuditEntry, Hedge, Market, QuoteSettings
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for
from tests.support.quoting import (
    PassThrough,
    break_venue,
    empty_outside_book,
    market_row,
    now_ms,
    outside_mid,
    resting,
    set_outside_mid,
    sides,
    tick,
    wrap_venue,
)

pytestmark = pytest.mark.django_db


def audit(action: str) -> list[tuple[str, str]]:
    return [(e.actor, e.reason) for e in AuditEntry.objects.filter(action=action).order_by("id")]


def settings_to(market, operator, **changes):
    row = QuoteSettings.objects.get(market=market)
    change_quote_settings(market, row.config().replace(**changes), expected_version=row.version, user=operator)


def test_a_price_jump_cancels_everything_and_holds_for_the_pause(running_market):
    start = now_ms()
    set_outside_mid(running_market, outside_mid(running_market) * Decimal("1.03"))

    assert tick(running_market, start) == Market.HOLDING

    row = market_row(running_market)
    assert resting(running_market) == []
    assert row.state_reason.startswith("price breaker: the reference moved 3.00% in one tick")
    assert row.quote_summary["levels"] == [] and row.quote_summary["hold"] == row.state_reason
    [(actor, reason)] = audit("hold")
    assert actor == "price breaker" and "3.00%" in reason

    assert tick(running_market, start + 29_000) == Market.HOLDING  # the 30 s pause is not over
    assert resting(running_market) == []

    assert tick(running_market, start + 31_000) == Market.RUNNING
    assert len(resting(running_market)) == 10
    assert audit("resume") == [("price breaker", "the condition cleared")]
    assert market_row(running_market).protect_until is None


def test_a_move_under_the_breaker_limit_does_not_trip_it(running_market):
    set_outside_mid(running_market, outside_mid(running_market) * Decimal("1.019"))

    assert tick(running_market) == Market.RUNNING
    assert len(resting(running_market)) == 10


def test_an_empty_hedge_book_holds_quotes_off_until_it_fills_again(running_market):
    mid = outside_mid(running_market)
    empty_outside_book(running_market)

    assert tick(running_market) == Market.HOLDING
    assert resting(running_market) == []
    assert market_row(running_market).state_reason == (
        "stale reference: hedge venue external: its BTC/USDT book is empty"
    )

    set_outside_mid(running_market, mid)
    assert tick(running_market) == Market.RUNNING
    assert len(resting(running_market)) == 10
    assert audit("hold")[0][0] == audit("resume")[0][0] == "stale reference"


def test_a_hedge_book_older_than_the_limit_is_stale(running_market, monkeypatch):
    class OldBook(PassThrough):
        def fetch_order_book(self, symbol, limit=None):
            book = self.venue.fetch_order_book(symbol, limit)
            return {**book, "timestamp": now_ms() - 10_000}  # a cached book, 10 s old

    wrap_venue(monkeypatch, running_market.hedge_account_id, OldBook)

    assert tick(running_market) == Market.HOLDING
    assert resting(running_market) == []
    assert "its book is 10.0 s old" in market_row(running_market).state_reason


def test_a_hedge_venue_blip_leaves_quotes_until_the_reference_is_stale(running_market, monkeypatch):
    break_venue(monkeypatch, running_market.hedge_account, "fetch_order_book", ccxt.ExchangeNotAvailable, 2)
    start = now_ms()

    assert tick(running_market, start) == Market.DEGRADED
    assert len(resting(running_market)) == 10  # the reference is a second old: quotes stand

    assert tick(running_market, start + 6_000) == Market.HOLDING  # older than 5 s now
    assert resting(running_market) == []

    assert tick(running_market, start + 7_000) == Market.RUNNING  # the venue answers again
    assert len(resting(running_market)) == 10


def test_unhedged_exposure_over_the_limit_stops_the_side_that_adds_to_it(running_market, operator):
    settings_to(running_market, operator, max_unhedged_base=Decimal("0.1"), filled_order_delay_seconds=Decimal("0"))
    tick(running_market)
    user_trade(running_market, "buy", Decimal("0.125"))  # the MM bot sells; its hedges wait

    tick(running_market)

    assert sides(running_market) == {"buy"}
    assert len(resting(running_market)) == 5
    why = market_row(running_market).quote_summary["sides"]["sell"]
    assert (why["quoting"], why["why"]) == (False, "unhedged exposure -0.125 is below the limit -0.1")

    Hedge.objects.update(state=Hedge.FILLED, filled=F("amount"))  # the hedges are done
    tick(running_market)

    assert sides(running_market) == {"buy", "sell"} and len(resting(running_market)) == 10


def test_exposure_over_the_limit_raises_one_alert_that_resolves_itself(running_market, operator):
    settings_to(running_market, operator, max_unhedged_base=Decimal("0.1"), filled_order_delay_seconds=Decimal("0"))
    tick(running_market)
    user_trade(running_market, "buy", Decimal("0.125"))

    tick(running_market)
    tick(running_market)  # still over: the same alert, not a second one

    alerts = Alert.objects.filter(kind=Alert.EXPOSURE_OVER_LIMIT, market=running_market)
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.state != Alert.RESOLVED
    assert "unhedged exposure -0.125 is below the limit -0.1" in alert.message
    assert alert.action_url == f"/markets/{running_market.slug}/#bot-panel"

    Hedge.objects.update(state=Hedge.FILLED, filled=F("amount"))
    tick(running_market)

    alert.refresh_from_db()
    assert alert.state == Alert.RESOLVED and alert.resolved_by is None


def test_a_hedge_pending_too_long_holds_back_new_orders_on_its_side(running_market):
    best_ask = min((o for o in resting(running_market) if o["side"] == "sell"), key=lambda o: o["price"])
    user_trade(running_market, "buy", best_ask["remaining"])
    tick(running_market)
    Hedge.objects.update(created_at=timezone.now() - timezone.timedelta(seconds=11))

    tick(running_market, now_ms() + 3_000)  # past the 2 s filled-order delay

    asks = [o for o in resting(running_market) if o["side"] == "sell"]
    assert len(asks) == 4  # the filled level is not replaced, the other asks stay
    assert market_row(running_market).quote_summary["sides"]["sell"]["why"].startswith(
        "a hedge of a sell fill has been pending 1"
    )


def test_the_trade_limiter_holds_quotes_off_while_fills_come_too_fast(running_market, operator):
    settings_to(running_market, operator, max_trades_per_minute=2)
    tick(running_market)
    user_trade(running_market, "buy", Decimal("0.01"))
    user_trade(running_market, "sell", Decimal("0.01"))

    assert tick(running_market) == Market.HOLDING
    assert resting(running_market) == []
    assert market_row(running_market).state_reason == (
        "trade limiter: 2 fills in the last minute (limit 2)"
    )

    Hedge.objects.update(state=Hedge.FILLED, filled=F("amount"))  # else they hold new orders back
    assert tick(running_market, now_ms() + 61_000) == Market.RUNNING
    assert len(resting(running_market)) == 10


def test_above_the_price_ceiling_only_asks_are_quoted(running_market, operator):
    mid = outside_mid(running_market)
    settings_to(running_market, operator, price_ceiling=mid - 100)

    tick(running_market)

    assert sides(running_market) == {"sell"}
    assert venue_for(running_market.mm_account).fetch_open_orders(running_market.symbol)


def test_outside_the_position_band_the_side_that_makes_it_worse_stops(running_market, operator):
    # The MM account holds 2 BTC; a target of 1 with a band of 0.5 means it holds too much.
    settings_to(running_market, operator, position_target_base=Decimal("1"), position_band_base=Decimal("0.5"))

    tick(running_market)

    assert sides(running_market) == {"sell"}
    assert market_row(running_market).quote_summary["sides"]["buy"]["why"] == (
        "position 2 is above target + band 1.5"
    )

