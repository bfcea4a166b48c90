from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.desk import (
    alerts_views,
    audit_views,
    login_limit,
    morning_check_views,
    overview_views,
    targets_views,
)
from dashboard.hedging import hedges_views
from dashboard.market_making import controls_views, market_views, settings_views
from dashboard.simulation import demo_views, sizing_views
from dashboard.treasury import rebalance_views

urlpatterns = [
    path("", market_views.home, name="home"),
    path("markets/<slug:slug>/", market_views.market_page, name="market"),
    path("markets/<slug:slug>/user-trade", market_views.user_trade, name="user-trade"),
    path("markets/<slug:slug>/settings/", settings_views.settings_page, name="market-settings"),
    path("markets/<slug:slug>/settings/save", settings_views.save_settings, name="market-settings-save"),
    path("markets/<slug:slug>/bot/<slug:command>", controls_views.market_command, name="market-command"),
    path("markets/<slug:slug>/hedges/", hedges_views.hedges_page, name="hedges"),
    path("markets/<slug:slug>/hedges/<int:hedge_id>/retry", hedges_views.retry, name="hedge-retry"),
    path("markets/<slug:slug>/hedges/<int:hedge_id>/manual", hedges_views.manual, name="hedge-manual"),
    path("markets/<slug:slug>/hedges/<int:hedge_id>/write-off", hedges_views.write_off, name="hedge-write-off"),
    path("desk/<slug:command>", controls_views.desk_command, name="desk-command"),
    path("overview/", overview_views.overview, name="overview"),
    path("alerts/", alerts_views.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge", alerts_views.acknowledge_alert, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve", alerts_views.resolve_alert, name="alert-resolve"),
    path("targets/", targets_views.targets, name="targets"),
    path("targets/<slug:slug>/edit", targets_views.edit_targets, name="targets-edit"),
    path("targets/<slug:slug>/", targets_views.save_targets, name="targets-save"),
    path("morning-check/", morning_check_views.morning_check, name="morning-check"),
    path("morning-check/run", morning_check_views.run_morning_check, name="morning-check-run"),
    path("audit/", audit_views.audit, name="audit"),
    path("audit.csv", audit_views.audit_csv, name="audit-csv"),
    path("exports/<slug:kind>.csv", audit_views.export_csv, name="export"),
    path("rebalance/", rebalance_views.rebalance, name="rebalance"),
    path("rebalance/propose", rebalance_views.propose, name="rebalance-propose"),
    path("rebalance/plan", rebalance_views.plan_now, name="rebalance-plan"),
    path("rebalance/transfers/<int:pk>/approve", rebalance_views.approve, name="transfer-approve"),
    path("rebalance/transfers/<int:pk>/reject", rebalance_views.reject, name="transfer-reject"),
    path("rebalance/transfers/<int:pk>/cancel", rebalance_views.cancel, name="transfer-cancel"),
    path("rebalance/transfers/<int:pk>/sent", rebalance_views.record_sent, name="transfer-sent"),
    path("rebalance/transfers/<int:pk>/execute", rebalance_views.execute, name="transfer-execute"),
    path("rebalance/transfers/<int:pk>/confirm", rebalance_views.confirm, name="transfer-confirm"),
    path("rebalance/transfers/<int:pk>/fail", rebalance_views.fail, name="transfer-fail"),
    path("rebalance/settings/", rebalance_views.settings_page, name="rebalance-settings"),
    path("rebalance/settings/band", rebalance_views.save_band, name="rebalance-band"),
    path("rebalance/settings/band/<int:pk>/delete", rebalance_views.delete_band, name="rebalance-band-delete"),
    path("rebalance/settings/policy", rebalance_views.save_policy, name="rebalance-policy"),
    path("rebalance/settings/network", rebalance_views.save_network, name="rebalance-network"),
    path("rebalance/settings/whitelist", rebalance_views.add_whitelist, name="rebalance-whitelist"),
    path(
        "rebalance/settings/whitelist/<int:pk>/confirm",
        rebalance_views.confirm_whitelist,
        name="rebalance-whitelist-confirm",
    ),
    path(
        "rebalance/settings/whitelist/<int:pk>/remove",
        rebalance_views.remove_whitelist,
        name="rebalance-whitelist-remove",
    ),
    path("sizing/", sizing_views.sizing, name="sizing"),
    path("sizing/<slug:slug>/run", sizing_views.start_run, name="sizing-start"),
    path("sizing/runs/<int:pk>/", sizing_views.run_result, name="sizing-run"),
    path("demo", demo_views.demo_page, name="demo"),
    path("demo/act", demo_views.demo_act, name="demo-act"),
    path("demo/reset", demo_views.demo_reset, name="demo-reset"),
    path("login/", login_limit.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
