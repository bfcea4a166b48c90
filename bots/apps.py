from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self):
        """Register every task and connect the domain's events to the tasks that follow them up,
        in every process (Daphne, workers, beat, commands), not only in those that import a task."""
        # Imported once the app registry is ready: the tasks modules import models.
        from bots.desk import alerts
        from bots.desk import tasks as desk
        from bots.hedging import tasks as hedging
        from bots.interventions import tasks as interventions
        from bots.market_making import tasks as market_making
        from bots.platform import events
        from bots.simulation import tasks as simulation
        from bots.treasury import tasks as treasury

        events.trades_made.connect(hedging.capture_pushed_trades, dispatch_uid="capture pushed trades")
        events.hedge_due.connect(hedging.queue_hedge, dispatch_uid="queue hedge")
        events.reference_moved.connect(market_making.tick_now, dispatch_uid="tick on a move")
        events.alert_raised.connect(desk.queue_notification, dispatch_uid="notify alert")
        events.withdrawal_due.connect(treasury.queue_withdrawal, dispatch_uid="withdraw transfer")
        events.intervention_due.connect(
            interventions.queue_intervention, dispatch_uid="run intervention slice"
        )
        events.sizing_run_queued.connect(simulation.queue_sizing_run, dispatch_uid="run sizing")
        events.venue_clock_off.connect(alerts.on_venue_clock_off, dispatch_uid="clock alert")
        events.venue_clock_ok.connect(alerts.on_venue_clock_ok, dispatch_uid="clock alert resolved")
