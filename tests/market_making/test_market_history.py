"""The market page's history, rebuilt from the records: inventory, exposure and the P&L split,
on the first load and in each pushed snapshot."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.engine.desk.history import bucket_ends
from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.models import Fill, HealthSample, HedgeOrder, TransferProposal
from bots.simulation.paper_flow import user_trade
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import unhedged
from bots.venues import venue_for
from dashboard.live.publisher import market_snapshot
from dashboard.market_making.market_history import BUCKET_MS, POINTS, _rebuild, market_history
from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


def trade_and_hedge(market, side: str, amount: str, hedge: bool = True):
    user_trade(market, side, D(amount))
    fills = capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None)
    for fill in fills if hedge else []:
        hedger.execute_hedge(fill.hedge.pk)
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    return fills[0]


def sample_reference(market):
    market.refresh_from_db()
    HealthSample.objects.create(market=market, reference_mid=market.reference_price, status="green")


def test_the_history_shows_a_hedged_fill_in_every_series(running_market):
    sample_reference(running_market)
    before = {a: D("2") for a in ("mm", "hedge")}
    fill = trade_and_hedge(running_market, "buy", "0.05")  # the MM bot sells 0.05
    order = HedgeOrder.objects.get()

    history = market_history(running_market)

    assert len(history["exposure"]) == POINTS
    assert history["start"] == bucket_ends(history["now"], BUCKET_MS, POINTS)[0]
    mm, hedge = history["holdings"]
    assert (
        mm["label"] == "MM bot @ Own exchange"
        and hedge["label"] == "Hedging bot @ External exchange"
    )
    # Before the fill (at the window's start) and now.
    assert (D(mm["values"][0]), D(hedge["values"][0])) == (before["mm"], before["hedge"])
    assert D(mm["values"][-1]) == D("2") - D("0.05")
    fee_base = order.fee if order.fee_currency == "BTC" else D("0")
    assert D(hedge["values"][-1]) == D("2") + D("0.05") - fee_base
    assert D(history["exposure"][-1]) == market_snapshot(running_market)["exposure"] == -fee_base
    assert D(history["unhedged"][-1]) == D("0")

    pnl = {name: D(values[-1]) for name, values in history["pnl"].items()}
    reference = running_market.reference_price
    # Spread captured: sold above the reference; the hedge bought at the outside ask, above it.
    assert pnl["spread"] == ((fill.price - reference) * D("0.05")).quantize(D("1e-6"))
    assert pnl["spread"] > 0 and pnl["hedge"] < 0
    assert pnl["hedge"] == ((reference - order.cost / order.filled) * D("0.05")).quantize(D("1e-6"))
    assert abs(sum(pnl[n] for n in ("spread", "hedge", "fees", "mtm")) - pnl["total"]) <= D("4e-6")
    # The exchange kept the MM price against the hedge's, less fees: what the tape says, but for
    # a fee paid in BTC, which the tape values at the hedge's price and the history at the reference.
    fill.hedge.refresh_from_db()
    average = order.cost / order.filled
    expected = fill.hedge.pnl_quote + fee_base * (average - reference)
    assert abs(pnl["total"] - expected) <= D("1e-6")


def test_the_parts_add_up_to_the_total_at_every_point(running_market):
    sample_reference(running_market)
    for side, amount in (("buy", "0.03"), ("sell", "0.02"), ("buy", "0.01")):
        trade_and_hedge(running_market, side, amount)
    trade_and_hedge(running_market, "sell", "0.04", hedge=False)  # left unhedged
    now = int(time.time() * 1000) + 1
    start = now - 10 * BUCKET_MS

    history, _ = _rebuild(
        running_market, start, [start + BUCKET_MS * i for i in range(1, 10)] + [now], now
    )

    pnl = history.pnl
    for i in range(len(history.ends)):
        assert pnl.spread[i] + pnl.hedge[i] + pnl.fees[i] + pnl.mtm[i] == pnl.total[i]
    assert history.unhedged[-1] == D("0.04") == -unhedged(running_market)[0]


def test_a_market_without_records_has_a_flat_history_and_no_pnl_to_attribute(running_market):
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC"])
    running_market.reference_price = None
    running_market.reference_samples = []
    running_market.save()

    history = market_history(running_market)

    assert set(history["exposure"]) == {"0"}
    assert history["pnl"] is None


def test_a_transfer_between_the_accounts_moves_inventory_not_pnl(running_market):
    sample_reference(running_market)
    trade_and_hedge(running_market, "buy", "0.05")
    without = market_history(running_market)["pnl"]
    # The hedge account sent 0.5 BTC to the MM account; it is still on its way.
    TransferProposal.objects.create(
        asset="BTC",
        network="BTC",
        source=running_market.hedge_account,
        destination=running_market.mm_account,
        amount=D("0.5"),
        fee=D("0.0002"),
        origin=TransferProposal.MANUAL,
        reason="test",
        state=TransferProposal.SENT,
        sent_amount=D("0.5"),
        sent_fee=D("0.0002"),
        sent_at=timezone.now(),
    )
    hedge_account = running_market.hedge_account
    from bots.models import PaperBalance

    PaperBalance.objects.filter(account=hedge_account, asset="BTC").update(free=D("1.55"))
    refresh_balances(hedge_account, ["BTC"])

    history = market_history(running_market)

    assert D(history["in_flight"][-1]) == D("0.4998") and D(history["in_flight"][0]) == 0
    assert D(history["holdings"][1]["values"][-1]) == D("1.55")
    assert history["pnl"]["total"][-1] == without["total"][-1]
    assert history["pnl"]["mtm"][-1] == without["mtm"][-1]


def test_each_snapshot_carries_the_levels_now_and_the_pnl_of_the_last_two_buckets(running_market):
    sample_reference(running_market)
    fill = trade_and_hedge(running_market, "buy", "0.05")

    snapshot = market_snapshot(running_market)

    tail = snapshot["history"]
    assert tail["bucket"] == (tail["at"] - 1) // BUCKET_MS
    assert D(tail["holdings"][0]["values"][0]) == D("1.95")
    assert D(tail["exposure"][0]) == snapshot["exposure"]
    # The fill is a second old: in the bucket under way, or the one before if it just turned.
    fill_bucket = (fill.timestamp - 1) // BUCKET_MS
    part = tail["current"] if fill_bucket == tail["bucket"] else tail["previous"]
    assert D(part["spread"]) > 0
    [book] = snapshot["hedge_books"]
    assert book["venue"] == "External exchange" and book["bids"] and book["asks"]
    assert D(book["bids"][0][0]) < D(book["asks"][0][0])


def test_the_page_embeds_its_history_and_serves_it_again_to_a_page_that_fell_behind(
    client, running_market, viewer
):
    sample_reference(running_market)
    trade_and_hedge(running_market, "sell", "0.02")
    client.login(username=viewer.username, password=PASSWORD)

    page = client.get("/markets/btc-usdt/")
    again = client.get(
        "/markets/btc-usdt/", headers={"HX-Request": "true", "HX-Target": "market-history"}
    )

    assert page.status_code == 200
    assert 'id="history"' in page.content.decode()
    assert page.context["history"]["holdings"][0]["values"][-1] == "2.02"
    assert again.status_code == 200 and again["Content-Type"] == "application/json"
    assert json.loads(again.content)["holdings"][0]["values"][-1] == "2.02"
    assert Fill.objects.count() == 1


def test_a_long_window_reads_the_same_records_by_join_as_a_short_one_by_index(
    running_market, monkeypatch
):
    import dashboard.market_making.market_history as market_history_module

    sample_reference(running_market)
    for side, amount in (("buy", "0.03"), ("sell", "0.02")):
        trade_and_hedge(running_market, side, amount)
    trade_and_hedge(running_market, "sell", "0.01", hedge=False)
    now = int(time.time() * 1000) + 1
    by_index = market_history(running_market, now)
    monkeypatch.setattr(market_history_module, "MANY_HEDGES", 0)

    by_join = market_history(running_market, now)

    assert by_join == by_index
    assert D(by_index["unhedged"][-1]) == D("0.01")  # the MM bot bought it from the user
