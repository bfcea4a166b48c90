from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self):
        # Imported once the app registry is ready: these modules import models.
        from bots.platform import events
        from dashboard.desk import login_limit
        from dashboard.live import overview_push, publisher, rebalance_push, sizing_push
        from dashboard.live import tasks as live_tasks  # noqa: F401 - registers its task
        from dashboard.simulation import tasks as simulation_tasks  # noqa: F401 - registers its task

        login_limit.connect_signals()
        # What open pages show follows the domain's events (bots/platform/events.py).
        events.market_changed.connect(publisher.on_market_changed, dispatch_uid="push market")
        events.markets_graded.connect(overview_push.on_markets_graded, dispatch_uid="push overview")
        events.proposal_changed.connect(rebalance_push.on_proposal_changed, dispatch_uid="push rebalance")
        events.sizing_run_progressed.connect(
            sizing_push.publish_sizing_progress, dispatch_uid="push sizing"
        )


class BallastAdminConfig(admin_apps.AdminConfig):
    """Django's admin on Ballast's site class: admins only, logging in through Ballast's page.
    INSTALLED_APPS names this in place of django.contrib.admin."""

    default = False  # dashboard's own app config stays DashboardConfig
    default_site = "dashboard.admin_site.BallastAdminSite"
