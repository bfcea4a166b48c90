from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self):
        # Every process registers every task and connects the domain's subscribers (the paper
        # venue's trade push to fill capture among them), not only those that import a task.
        from bots.desk import tasks as desk_tasks  # noqa: F401
        from bots.hedging import tasks as hedging_tasks  # noqa: F401
        from bots.market_making import tasks as market_making_tasks  # noqa: F401
        from bots.simulation import tasks as simulation_tasks  # noqa: F401
        from bots.treasury import tasks as treasury_tasks  # noqa: F401
