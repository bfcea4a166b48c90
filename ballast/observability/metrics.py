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


def on_fill_captured(sender, market, venue, **kwargs) -> None:
    FILLS.labels(market, venue).inc()


def on_hedge_order_accepted(sender, market, venue, latency_seconds, **kwargs) -> None:
    HEDGE_LATENCY.labels(market, venue).observe(max(0.0, latency_seconds))


def on_tick_finished(sender, market, outcome, seconds, **kwargs) -> None:
    TICK_DURATION.labels(market).observe(seconds)
    TICKS.labels(market, outcome).inc()  # last: a scrape that sees the count sees the duration


def on_request_weight_used(sender, venue, weight, **kwargs) -> None:
    REQUEST_WEIGHT.labels(venue).inc(weight)


def connect() -> None:
    events.fill_captured.connect(on_fill_captured, dispatch_uid="count fill")
    events.hedge_order_accepted.connect(on_hedge_order_accepted, dispatch_uid="time hedge")
    events.tick_finished.connect(on_tick_finished, dispatch_uid="time tick")
    events.request_weight_used.connect(on_request_weight_used, dispatch_uid="venue weight")


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


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's files, and the database's figures."""
    scrape = CollectorRegistry()
    multiprocess.MultiProcessCollector(scrape)
    scrape.register(DeskCollector())
    return scrape
