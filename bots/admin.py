"""Ballast's records in Django's admin (admins only): every edit is audited with before and after
(bots.desk.admin_audit); fills, hedges and the audit log itself are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone

from bots.desk.admin_audit import AuditedAdmin
from bots.models import (
    Account,
    AuditEntry,
    Fill,
    Hedge,
    HedgeSettings,
    Market,
    QuoteSettings,
    Venue,
)
from bots.venues.venue_options import InvalidVenue, check_exchange_id, check_options, check_sandbox


class VenueAdminForm(forms.ModelForm):
    """The checks the desk's venues page makes (bots.venues.venue_options), here too."""

    class Meta:
        model = Venue
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Venue.CCXT:
            try:
                check_exchange_id(cleaned.get("exchange_id") or "")
                check_sandbox(cleaned.get("exchange_id"), cleaned.get("sandbox", False))
                check_options(cleaned.get("options") or {})
            except InvalidVenue as exc:
                self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return cleaned


@admin.register(Venue)
class VenueAdmin(AuditedAdmin):
    form = VenueAdminForm
    list_display = ("name", "label", "kind", "exchange_id", "sandbox", "fault")


@admin.register(Account)
class AccountAdmin(AuditedAdmin):
    # Credentials are never shown: they are set through Account.set_credentials.
    list_display = ("name", "venue", "role")
    # Nor is the connection test's result: only a test sets it (bots.desk.onboarding).
    exclude = ("api_key_enc", "secret_enc", "password_enc", "checked_at", "check_passed",
               "check_report")


class QuoteSettingsInline(admin.StackedInline):
    """Read-only here: changes go through the market's settings page, which versions each one."""

    model = QuoteSettings

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Market)
class MarketAdmin(AuditedAdmin):
    list_display = ("symbol", "slug", "mm_account", "hedge_account", "state", "last_tick_at")
    inlines = [QuoteSettingsInline]
    exclude = ("started_at",)

    def save_model(self, request, obj, form, change):
        if change and obj.enabled and "enabled" in form.changed_data:
            # Not ticked while disabled: the dead man's switch counts no silence before now.
            obj.started_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Fill)
class FillAdmin(AuditedAdmin):
    list_display = ("trade_id", "market", "side", "amount", "price", "timestamp")
    list_filter = ("market", "side")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Hedge)
class HedgeAdmin(AuditedAdmin):
    list_display = ("fill", "side", "amount", "filled", "average_price", "state", "attempts", "error")
    list_filter = ("state",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedAdmin):
    list_display = ("at", "actor", "action", "market", "subject", "reason")
    list_filter = ("action", "market")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HedgeSettings)
class HedgeSettingsAdmin(AuditedAdmin):
    """How each market's fills are hedged; the slippage itself is in its quote settings."""

    list_display = ("market", "max_notional", "ladder_steps", "ladder_step_bps", "ladder_pause_ms")
