"""The full demo desk seeds what it says: three markets, two hedge venues that differ in fees
and depth, three bot accounts set up for rebalancing, the flagship targets met by the seeded
settings and the long-tail market in breach; and seeding again changes nothing."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from bots.desk.health import sample_market
from bots.engine.desk import liquidity
from bots.market_making import quoter
from bots.models import (
    Account,
    InventoryBand,
    Market,
    PaperBalance,
    PaperMarket,
    PaperOrder,
    QuoteSettings,
    WhitelistAddress,
    WithdrawalNetwork,
)
from bots.simulation import demo_seed, paper_flow
from bots.treasury.inventory import read_inventory

pytestmark = pytest.mark.django_db

FLAGSHIPS = ("btc-usdt", "eth-usdt")
BOOK = (liquidity.SPREAD, liquidity.TWO_SIDED) + tuple(
    liquidity.figure_key(side, pct) for pct in liquidity.DEPTH_BANDS_PCT for side in ("buy", "sell")
)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--username", "demo-operator", *args, stdout=out)
    return out.getvalue()


def quote_every_market(second: int = 1) -> dict[str, object]:
    """One outside book and one tick per market, then a health sample of each."""
    paper_flow.move_outside_markets(second)
    samples = {}
    for market in Market.objects.filter(kind=Market.BOOK).order_by("slug"):
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)
        samples[market.slug] = sample_market(Market.objects.get(pk=market.pk))
    return samples


def test_it_seeds_three_markets_on_one_mm_account():
    output = seed("--trades-per-minute", "0")

    markets = {m.slug: m for m in Market.objects.filter(kind=Market.BOOK)}
    assert sorted(markets) == ["btc-usdt", "eth-usdt", "xht-usdt"]
    assert {m.symbol for m in markets.values()} == {"BTC/USDT", "ETH/USDT", "XHT/USDT"}
    assert len({m.mm_account_id for m in markets.values()}) == 1
    for symbol in ("BTC/USDT", "ETH/USDT", "XHT/USDT"):
        assert f"Demo ready: {symbol}" in output


def test_the_flagships_hedge_on_two_venues_that_differ_in_fees_and_depth():
    seed("--trades-per-minute", "0")

    for slug in FLAGSHIPS:
        market = Market.objects.get(slug=slug)
        venues = [a.venue.name for a in market.hedge_accounts()]
        assert venues == [demo_seed.EXTERNAL, demo_seed.REGIONAL]
        external, regional = (
            PaperMarket.objects.get(venue__name=name, symbol=market.symbol) for name in venues
        )
        assert regional.taker_fee < external.taker_fee
        assert external.book_levels * external.book_level_amount > 5 * (
            regional.book_levels * regional.book_level_amount
        )
    xht = Market.objects.get(slug="xht-usdt")
    assert [a.venue.name for a in xht.hedge_accounts()] == [demo_seed.EXTERNAL]


def test_both_outside_venues_rest_a_book_their_mids_a_few_bps_apart():
    seed("--trades-per-minute", "0")

    for second in (5, 6, 7):
        paper_flow.move_outside_markets(second)
        mids = [
            PaperMarket.objects.get(venue__name=name, symbol="BTC/USDT").reference_price
            for name in (demo_seed.EXTERNAL, demo_seed.REGIONAL)
        ]
        assert abs(mids[0] - mids[1]) / mids[0] * 10_000 < 5
    for name in (demo_seed.EXTERNAL, demo_seed.REGIONAL):
        liquidity_account = Account.objects.get(venue__name=name, role=Account.LIQUIDITY)
        assert PaperOrder.objects.filter(account=liquidity_account, symbol="ETH/USDT", status="open").exists()


def test_three_bot_accounts_hold_bands_networks_and_each_others_addresses():
    seed("--trades-per-minute", "0")

    # The broker market's own accounts (its inventory, its hedge account) have no bands: the
    # demo leaves them out of rebalancing.
    bots = Account.objects.filter(role__in=[Account.MARKET_MAKING, Account.HEDGING]).exclude(
        mm_markets__kind=Market.BROKER
    ).exclude(hedge_markets__kind=Market.BROKER)
    assert sorted(a.venue.name for a in bots) == sorted(
        [demo_seed.OWN, demo_seed.EXTERNAL, demo_seed.REGIONAL]
    )
    for account in bots:
        held = set(PaperBalance.objects.filter(account=account).values_list("asset", flat=True))
        assert {"BTC", "ETH", "USDT"} <= held
        for asset in held:
            band = InventoryBand.objects.get(account=account, asset=asset)
            free = PaperBalance.objects.get(account=account, asset=asset).free
            assert band.minimum < free < band.maximum
            assert WithdrawalNetwork.objects.filter(venue=account.venue, asset=asset).exists()
            assert WhitelistAddress.objects.filter(
                account=account, asset=asset, removed_at__isnull=True
            ).exists()


def test_the_flagship_targets_are_met_and_the_long_tail_breaches():
    seed("--trades-per-minute", "0")

    samples = quote_every_market()

    for slug in FLAGSHIPS:
        sample = samples[slug]
        assert {figure: sample.grades[figure] for figure in BOOK} == dict.fromkeys(BOOK, liquidity.GREEN), slug
        assert sample.spread_bps <= 10
        assert sample.bid_depth_05 >= 50_000 and sample.ask_depth_05 >= 50_000
    tail = samples["xht-usdt"]
    assert tail.two_sided
    assert tail.grades[liquidity.SPREAD] == liquidity.RED and tail.spread_bps > 50
    assert tail.grades[liquidity.figure_key("buy", Decimal("0.5"))] == liquidity.RED
    assert tail.bid_depth_05 < 5_000


def test_seeding_again_changes_nothing():
    seed()
    counts = {
        model: model.objects.count()
        for model in (Market, Account, PaperMarket, PaperBalance, QuoteSettings, InventoryBand,
                      WithdrawalNetwork, WhitelistAddress)
    }
    bot_balances = PaperBalance.objects.exclude(
        account__role__in=[Account.LIQUIDITY, Account.USERS]  # the outside book re-rests
    ).values_list("account_id", "asset", "free")
    balances = sorted(bot_balances)

    output = seed()

    assert {model: model.objects.count() for model in counts} == counts
    assert sorted(bot_balances.all()) == balances
    assert {m.slug: m.sim_trades_per_minute for m in Market.objects.filter(kind=Market.BOOK)} == {
        slug: spec.users_per_minute for slug, spec in demo_seed.MARKETS.items()
    }
    assert "with password" not in output


def test_one_market_seeds_alone_and_the_others_join_later():
    seed("--markets", "btc-usdt", "--trades-per-minute", "0")
    assert list(Market.objects.values_list("slug", flat=True)) == ["btc-usdt"]
    assert not PaperMarket.objects.filter(symbol="XHT/USDT").exists()

    seed("--trades-per-minute", "0")

    assert Market.objects.filter(kind=Market.BOOK).count() == 3
    assert PaperBalance.objects.filter(asset="XHT", account__role=Account.MARKET_MAKING).exists()


def test_an_unknown_market_is_refused_naming_the_choices():
    with pytest.raises(CommandError, match="no demo market doge-usdt: pick from btc-usdt, eth-usdt, xht-usdt"):
        seed("--markets", "doge-usdt")
    assert not Market.objects.exists()


def test_the_stub_demo_has_one_market():
    with pytest.raises(CommandError, match="stub demo has that market only"):
        seed("--venues", "stub", "--markets", "eth-usdt")


def test_the_whole_demo_has_the_broker_market_and_prints_its_token_once(redis_client):
    output = seed("--trades-per-minute", "0")

    broker = Market.objects.get(kind=Market.BROKER)
    assert (broker.slug, broker.symbol) == (demo_seed.BROKER_SLUG, "BTC/USDT")
    assert broker.mm_account.name == "OTC inventory" and broker.mm_account.venue.name == demo_seed.OWN
    assert broker.hedge_account.venue.name == demo_seed.EXTERNAL
    # Accounts of its own, so its net exposure counts what it holds, from 0, and no book
    # market's hedges move it.
    book = Market.objects.filter(kind=Market.BOOK, symbol=broker.symbol).get()
    assert broker.hedge_account not in book.hedge_accounts()
    [exposure] = [e for e in read_inventory().exposures if e.market.pk == broker.pk]
    assert (exposure.held, exposure.target, exposure.net) == (Decimal(10), Decimal(10), 0)
    token = re.search(r"\(shown once\): (otc_\S+)", output).group(1)
    answer = Client().post(
        "/api/otc/v1/quotes", data='{"market": "btc-usdt-otc", "side": "buy", "amount": "0.1", "user": "u"}',
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 201, answer.content

    again = seed()

    assert "shown once" not in again and "its API token as it was" in again
    assert Market.objects.filter(kind=Market.BROKER).count() == 1


def test_a_lighter_demo_has_no_broker_market():
    output = seed("--markets", "btc-usdt", "--trades-per-minute", "0")

    assert not Market.objects.filter(kind=Market.BROKER).exists()
    assert "OTC" not in output
