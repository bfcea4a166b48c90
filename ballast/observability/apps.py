from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "ballast.observability"
    label = "observability"

    def ready(self):
        """Count what the domain announces, in every process (Daphne, workers, beat)."""
        # Imported once the app registry is ready, and after settings have set the metrics
        # folder, which prometheus-client reads when it is first imported.
        from ballast.observability import metrics

        metrics.connect()
