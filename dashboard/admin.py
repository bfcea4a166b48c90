"""The desk's records in Django's admin (admins only, dashboard.admin_site): notification
channels to edit; alerts, targets' history, samples and check runs to look at, never to rewrite."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import admin

from bots.models import (
    Alert,
    Delivery,
    MarketTargets,
    MorningCheck,
    NotificationChannel,
    TargetChange,
)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "where", "enabled")
    list_filter = ("kind", "enabled")

    @admin.display(description="sends to")
    def where(self, channel: NotificationChannel) -> str:
        # A webhook URL is its own password (Slack's, Telegram's bot token): the list shows the host.
        if channel.kind == NotificationChannel.WEBHOOK:
            return urlsplit(channel.target).hostname or "?"
        return channel.target


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("at", "channel", "ok", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ("raised_at", "kind", "market", "state", "message", "acknowledged_by", "resolved_by")
    list_filter = ("state", "kind", "market")
    inlines = [DeliveryInline]


@admin.register(MarketTargets)
class MarketTargetsAdmin(ReadOnly):
    # Edited on the targets page, which keeps their history and refuses stale forms.
    list_display = ("market", "spread_target_bps", "spread_alarm_bps", "depth_05_target", "version", "updated_at")


@admin.register(TargetChange)
class TargetChangeAdmin(ReadOnly):
    list_display = ("changed_at", "market", "user", "version", "changes")
    list_filter = ("market",)


@admin.register(MorningCheck)
class MorningCheckAdmin(ReadOnly):
    list_display = ("run_at", "run_by", "passed")
