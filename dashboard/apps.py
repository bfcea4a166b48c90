from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self):
        from dashboard.desk import login_limit

        login_limit.connect_signals()


class BallastAdminConfig(admin_apps.AdminConfig):
    """Django's admin on Ballast's site class: admins only, logging in through Ballast's page.
    INSTALLED_APPS names this in place of django.contrib.admin."""

    default = False  # dashboard's own app config stays DashboardConfig
    default_site = "dashboard.admin_site.BallastAdminSite"
