from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self):
        # Connects the paper venue's trade push to fill capture in every process, not only in
        # those that happen to import the tasks.
        from . import tasks  # noqa: F401
