"""The domain's events: what happened, announced by the code that made it happen.

Domain code emits an event and goes on; it never imports a tasks module or the web layer. Who
reacts is wired in the apps' ready(): bots/apps.py connects the Celery tasks that follow up,
dashboard/apps.py the pushes to open pages. Reading those two functions tells who listens to what.

An event carries exactly its named fields (an emit with a missing or an extra one raises
TypeError: a typo fails at once, not as a listener that never fires). Listeners run in the
emitter's process and thread, as Django signals do; those that queue work or tell people are
emitted after the commit of what they announce (`emit_on_commit`), so nothing is announced that
could still roll back.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal


class Event(Signal):
    def __init__(self, name: str, *fields: str):
        super().__init__()
        self.name = name
        self.fields = frozenset(fields)

    def emit(self, **values) -> None:
        if set(values) != self.fields:
            raise TypeError(f"the event {self.name!r} carries {sorted(self.fields)}, not {sorted(values)}")
        self.send(sender=self.name, **values)

    def emit_on_commit(self, **values) -> None:
        transaction.on_commit(lambda: self.emit(**values))

    def __repr__(self) -> str:
        return f"<Event {self.name}>"


# --- trading ------------------------------------------------------------------------------------

# A venue pushed trades of these accounts (the paper venue, after the commit that made them):
# `trades` maps each account id to its trades, as ccxt's fetch_my_trades gives them.
# Listener: fill capture (bots/hedging/tasks.py), by the account's stream or the capture task.
trades_made = Event("trades made", "venue", "symbol", "accounts", "trades")

# A recorded hedge intent waits for a hedging worker: captured by a tick, or retried by an
# operator. Listener: the hedge task (bots/hedging/tasks.py).
hedge_due = Event("hedge due", "hedge_id")

# A hedge venue's streamed book moved the market's reference beyond its refresh tolerance (the
# stream process, bots/streams). Listener: the market's tick, queued at once
# (bots/market_making/tasks.py).
reference_moved = Event("reference moved", "market_id")

# What a market's page shows changed: its orders, fills, hedges, balances or state. `force`
# skips the push's throttle (an operator's command shows at once). Listener: the market pages'
# publisher (dashboard/live/publisher.py).
market_changed = Event("market changed", "market_id", "force")

# A venue's clock and this host's disagree beyond what signed requests tolerate (InvalidNonce
# after a resync, or a measured offset over the limit). Listener: the desk's alerts.
venue_clock_off = Event("venue clock off", "venue", "message")

# Signed requests to that venue succeed again with the clocks in line. Listener: the desk's alerts.
venue_clock_ok = Event("venue clock ok", "venue")

# A fill was recorded (committed), by the slug of its market and the name of its venue.
# Listener: the metrics (ballast/observability/metrics.py).
fill_captured = Event("fill captured", "market", "venue")

# A hedge's first order was accepted by its venue, `latency_seconds` after the fill's venue
# timestamp. Listener: the metrics.
hedge_order_accepted = Event("hedge order accepted", "market", "venue", "latency_seconds")

# A market-making tick ended: the market's state after it (`outcome`) and how long it took.
# Listener: the metrics.
tick_finished = Event("tick finished", "market", "outcome", "seconds")

# --- venues -------------------------------------------------------------------------------------

# A venue's client took `weight` of the exchange's request budget for one request
# (bots/venues/clients.py). Listener: the metrics.
request_weight_used = Event("request weight used", "venue", "weight")

# A venue's stream of this kind ("fills", "book", "balance") was lost; the stream process opens
# it again (bots/streams/runner.py). Listener: the metrics.
stream_lost = Event("stream lost", "venue", "stream")

# --- the desk -----------------------------------------------------------------------------------

# Every market's liquidity was graded again. Listener: the overview's publisher.
markets_graded = Event("markets graded")

# A new alert was raised (committed). Listener: the notification task (bots/desk/tasks.py).
alert_raised = Event("alert raised", "alert_id")

# --- treasury -----------------------------------------------------------------------------------

# A transfer proposal appeared or changed (None: the panel's settings did). Listener: the
# rebalance panels' push (dashboard/live/rebalance_push.py).
proposal_changed = Event("proposal changed", "proposal_id")

# An approved transfer is to be withdrawn by Ballast (its asset's policy executes automatically).
# Listener: the withdrawal task (bots/treasury/tasks.py).
withdrawal_due = Event("withdrawal due", "proposal_id")

# --- interventions ------------------------------------------------------------------------------

# A running price-action intervention has a slice due (approved, resumed, or its next slice's
# time). Listener: the slice task (bots/interventions/tasks.py).
intervention_due = Event("intervention due", "intervention_id")

# --- simulation ---------------------------------------------------------------------------------

# A liquidity sizing run was recorded and waits for a worker. Listener: bots/simulation/tasks.py.
sizing_run_queued = Event("sizing run queued", "run_id")

# A sizing run moved: its state and progress, as the page shows them. Listener: the sizing
# page's push (dashboard/live/publisher.py).
sizing_run_progressed = Event("sizing run progressed", "run_id", "status")
