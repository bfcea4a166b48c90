"""Ballast's Prometheus metrics: what the processes count, and what the database says at a scrape.

Counted where it happens, in whichever process it happens (Daphne, a worker), from the domain's
events (bots/platform/events.py): the domain never imports this module. prometheus-client's
multiprocess mode keeps each process's values in files under PROMETHEUS_MULTIPROC_DIR and
/metrics sums them. States of records (hedges, transfers, open alerts, unhedged exposure) are read
from the database when /metrics is asked (DeskCollector), so they are right whoever changed them.
docs/operations.md lists every metric.
"""

from __future__ import annotations

from django.db.models import Count
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

from bots.engine.market_making.protection import Unhedged, unhedged_net
from bots.market_making import tick_reads
from bots.models import Alert, Hedge, Market, TransferProposal
from bots.platform import events
from bots.streams import work as stream_work
from bots.venues import stream_state

FILLS = Counter("ballast_fills", "Fills of the market-making bot recorded", ["market", "venue"])
HEDGE_LATENCY = Histogram(
    "ballast_hedge_latency_seconds",
    "From a fill's venue timestamp to its hedge's first order accepted by the hedge venue",
    ["market", "venue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
TICKS = Counter("ballast_ticks", "Market-making ticks, by the market's state after", ["market", "outcome"])
TICK_DURATION = Histogram(
    "ballast_tick_duration_seconds",
    "How long one market-making tick took",
    ["market"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_WEIGHT = Counter(
    "ballast_venue_request_weight",
    "Request weight sent to the venue's API by every process, by the exchange's own weights",
    ["venue"],
)

STREAM_RECONNECTS = Counter(
    "ballast_stream_reconnects",
    "Streams lost and opened again by the stream process, by venue and kind (fills, book, balance)",
    ["venue", "stream"],
)


def on_fill_captured(sender, market, venue, **kwargs) -> None:
    FILLS.labels(market, venue).inc()


def on_hedge_order_accepted(sender, market, venue, latency_seconds, **kwargs) -> None:
    HEDGE_LATENCY.labels(market, venue).observe(max(0.0, latency_seconds))


def on_tick_finished(sender, market, outcome, seconds, **kwargs) -> None:
    TICK_DURATION.labels(market).observe(seconds)
    TICKS.labels(market, outcome).inc()  # last: a scrape that sees the count sees the duration


def on_request_weight_used(sender, venue, weight, **kwargs) -> None:
    REQUEST_WEIGHT.labels(venue).inc(weight)


def on_stream_lost(sender, venue, stream, **kwargs) -> None:
    STREAM_RECONNECTS.labels(venue, stream).inc()


def connect() -> None:
    events.fill_captured.connect(on_fill_captured, dispatch_uid="count fill")
    events.hedge_order_accepted.connect(on_hedge_order_accepted, dispatch_uid="time hedge")
    events.tick_finished.connect(on_tick_finished, dispatch_uid="time tick")
    events.request_weight_used.connect(on_request_weight_used, dispatch_uid="venue weight")
    events.stream_lost.connect(on_stream_lost, dispatch_uid="stream reconnects")


class DeskCollector:
    """Gauges read from the database at each scrape."""

    def collect(self):
        hedges = GaugeMetricFamily("ballast_hedges", "Hedge intents (one per fill) by state", labels=["state"])
        counts = dict(Hedge.objects.values_list("state").annotate(n=Count("id")).order_by())
        for state, _ in Hedge.STATE_CHOICES:
            hedges.add_metric([state], counts.get(state, 0))
        yield hedges

        transfers = GaugeMetricFamily("ballast_transfers", "Transfer proposals by state", labels=["state"])
        counts = dict(TransferProposal.objects.values_list("state").annotate(n=Count("id")).order_by())
        for state, _ in TransferProposal.STATE_CHOICES:
            transfers.add_metric([state], counts.get(state, 0))
        yield transfers

        alerts = GaugeMetricFamily("ballast_open_alerts", "Alerts not resolved, by kind", labels=["kind"])
        counts = dict(
            Alert.objects.exclude(state=Alert.RESOLVED).values_list("kind").annotate(n=Count("id")).order_by()
        )
        for kind, _ in Alert.KIND_CHOICES:
            alerts.add_metric([kind], counts.get(kind, 0))
        yield alerts

        exposure = GaugeMetricFamily(
            "ballast_unhedged_exposure_base",
            "Base the MM bot bought minus base it sold, not yet answered by a hedge (as the tick's "
            "exposure limit counts it)",
            labels=["market"],
        )
        for pk, slug in Market.objects.filter(enabled=True).values_list("pk", "slug").order_by("slug"):
            rows = tick_reads.open_hedges(pk)
            net = unhedged_net(Unhedged(side, amount - filled, None) for side, amount, filled, _, _ in rows)
            exposure.add_metric([slug], float(net))
        yield exposure


class StreamCollector:
    """Each venue's stream lag, read at each scrape: now minus the venue's own time of the last
    message each stream received (bots/venues/stream_state.saw), so a stream that falls silent,
    or a stream process that died, shows as a lag that grows. Per venue and kind, the worst of
    its accounts (fills, balance) or books; only streams the enabled markets need
    (bots/streams/work.planned) that have received a message."""

    def collect(self):
        lag = GaugeMetricFamily(
            "ballast_stream_lag_seconds",
            "Now minus the venue's timestamp of the last message received, by venue and kind "
            "(fills, book, balance): the worst of the venue's accounts or books",
            labels=["venue", "stream"],
        )
        seen = stream_state.last_seen()
        now = stream_state.now_ms()
        worst: dict[tuple[str, str], int] = {}
        for plan in stream_work.planned() if seen else []:
            fields = [("balance", stream_state.seen_key("balance", plan.account_id, plan.venue_id))]
            if plan.fill_markets:
                fields.append(("fills", stream_state.seen_key("fills", plan.account_id, plan.venue_id)))
            fields += [("book", stream_state.seen_key("book", plan.account_id, plan.venue_id, symbol))
                       for symbol in plan.book_symbols]
            for stream, field in fields:
                if field in seen:
                    key = (plan.venue, stream)
                    worst[key] = max(worst.get(key, now - seen[field]), now - seen[field])
        for (venue, stream), ms in sorted(worst.items()):
            lag.add_metric([venue, stream], ms / 1000)
        yield lag


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's files, and the database's figures."""
    scrape = CollectorRegistry()
    multiprocess.MultiProcessCollector(scrape)
    scrape.register(DeskCollector())
    scrape.register(StreamCollector())
    return scrape
