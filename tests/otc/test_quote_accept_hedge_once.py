"""A quote accepted in time is booked against the inventory account and hedged exactly once, by
the same path as a market-making fill."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.models import AuditEntry, BrokerQuote, Fill, Hedge, HedgeOrder, PaperBalance
from bots.otc import quotes
from tests.support.otc import outside_reference

pytestmark = pytest.mark.django_db
D = Decimal


def balances(account) -> dict[str, Decimal]:
    return {b.asset: b.free for b in PaperBalance.objects.filter(account=account)}


def test_a_quote_is_the_hedge_price_for_the_size_plus_the_spread(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.5"))
    assert quote.state == BrokerQuote.OPEN
    assert quote.reference_price > outside_reference(broker_market)  # the asks, walked for 0.5
    # 30 bps over the hedge's price, rounded up, and never under the hedge floor.
    assert quote.price >= quote.reference_price * D("1.003")
    assert quote.price >= quote.floor_price
    assert (quote.expires_at - quote.created_at).total_seconds() == pytest.approx(10, abs=1)
    sell = quotes.ask(broker_market, api_client, "user-1", "sell", D("0.5"))
    assert sell.price <= sell.reference_price * D("0.997") and sell.price <= sell.floor_price


def test_an_accepted_quote_books_a_fill_and_is_hedged_once(broker_market, api_client, django_capture_on_commit_callbacks):
    before = balances(broker_market.mm_account)
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.4"))
    queued = []
    with django_capture_on_commit_callbacks(execute=True):
        accepted = quotes.accept(api_client, str(quote.ref), on_hedge=queued.append)
    assert accepted.state == BrokerQuote.ACCEPTED
    fill = Fill.objects.get()
    assert (fill.account, fill.market, fill.side, fill.amount, fill.price) == (
        broker_market.mm_account, broker_market, "sell", D("0.4"), quote.price
    )
    assert accepted.fill == fill
    hedge = Hedge.objects.get()
    assert queued == [hedge.pk]  # queued after the commit, as a captured fill's is
    assert (hedge.side, hedge.amount, hedge.account) == ("buy", D("0.4"), broker_market.hedge_account)
    # The inventory account gave the BTC and took the USDT.
    after = balances(broker_market.mm_account)
    assert after["BTC"] == before["BTC"] - D("0.4")
    assert after["USDT"] == before["USDT"] + quote.price * D("0.4")
    # Hedged by the market-making fills' hedger (split under its 10,000 USDT order cap): a
    # second run sends nothing more.
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    sent = list(HedgeOrder.objects.filter(hedge=hedge).values_list("client_order_id", "filled"))
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    assert list(HedgeOrder.objects.filter(hedge=hedge).values_list("client_order_id", "filled")) == sent
    assert len(sent) == 3 and sum(filled for _, filled in sent) == D("0.4")
    hedge.refresh_from_db()
    assert hedge.filled == D("0.4") and hedge.pnl_quote > 0  # the spread, after the hedge's fees
    assert AuditEntry.objects.filter(action="otc_quote_accepted", subject=str(quote.ref)).exists()


def test_a_quote_is_refused_beyond_the_inventory(broker_market, api_client):
    PaperBalance.objects.filter(account=broker_market.mm_account, asset="BTC").update(free=D("0.1"))
    with pytest.raises(quotes.QuoteRefused) as refused:
        quotes.ask(broker_market, api_client, "user-1", "buy", D("0.5"))
    assert refused.value.code == "short_of_inventory"
    assert not BrokerQuote.objects.exists()


def test_a_quote_over_the_per_quote_limit_is_refused(broker_market, api_client):
    with pytest.raises(quotes.QuoteRefused) as refused:
        quotes.ask(broker_market, api_client, "user-1", "buy", D("1.5"))
    assert refused.value.code == "over_quote_limit" and "limit of 1 a quote" in refused.value.message
    assert not BrokerQuote.objects.exists()


def test_a_broker_market_is_not_ticked(broker_market):
    from bots.market_making import quoter

    assert quoter.tick_market(broker_market.pk, on_hedge=lambda hedge_id: None).changed is False
    broker_market.refresh_from_db()
    assert broker_market.last_tick_at is None
