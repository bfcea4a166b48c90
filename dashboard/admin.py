"""The desk's records in Django's admin (admins only, dashboard.admin_site): notification
channels to edit; alerts, targets' history, samples and check runs to look at, never to rewrite;
logins, whose roles and the rebalance policies only change through four-eyes (bots.desk.four_eyes)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from bots.desk import four_eyes
from bots.desk.admin_audit import AuditedAdmin
from bots.desk.roles import OPERATOR, has_role
from bots.models import (
    Alert,
    ChangeRequest,
    Delivery,
    MarketTargets,
    MorningCheck,
    NotificationChannel,
    RebalancePolicy,
    TargetChange,
)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(AuditedAdmin):
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


# --- roles and money rules: read-only here, changed through the change requests page ------------

FOUR_EYES = (
    "Roles and rebalance policies change through the desk's change requests page "
    "(/changes/): one admin proposes, another confirms."
)


@admin.register(RebalancePolicy)
class RebalancePolicyAdmin(ReadOnly):
    list_display = ("asset", "two_approvers_above", "auto_execute", "velocity_amount",
                    "velocity_count", "velocity_window_minutes")

    def changelist_view(self, request, extra_context=None):
        messages.info(request, FOUR_EYES)
        return super().changelist_view(request, extra_context)


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnly):
    list_display = ("proposed_at", "summary", "proposed_by", "state", "decided_by")
    list_filter = ("state", "kind")
    exclude = ("payload",)  # a key change's ciphertext stays in its row


admin.site.unregister(User)
admin.site.unregister(Group)
# Authenticators hold their keys in the clear: nobody reads, adds or swaps another's here.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(Group)
class RoleGroupAdmin(ReadOnly):
    """The groups are the roles: renaming one, or giving it members, would grant a role."""


@admin.register(User)
class BallastUserAdmin(AuditedAdmin, UserAdmin):
    """Logins: created and edited here, but roles, superuser and active flags are read-only
    (change requests set them), and nobody sets another role holder's password here."""

    ROLE_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")
    list_display = ("username", "email", "roles", "is_active", "last_login")
    list_filter = ("groups", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.ROLE_FIELDS, "last_login",
                "date_joined")

    @admin.display(description="roles")
    def roles(self, user) -> str:
        return ", ".join(sorted(g.name for g in user.groups.all())) or "-"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            four_eyes.record_created(obj, request.user)

    def has_delete_permission(self, request, obj=None):
        # Deleting a role holder takes their role away: that goes through a change request.
        if obj is not None and has_role(obj, OPERATOR):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            if has_role(user, OPERATOR):
                raise PermissionDenied(FOUR_EYES)
        super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, id)
        if target is not None and target.pk != request.user.pk and has_role(target, OPERATOR):
            # Another's password would be another's approvals.
            raise PermissionDenied(
                "Operators and admins set their own passwords; an admin cannot set one for them."
            )
        return super().user_change_password(request, id, form_url)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [(name, {**opts, "description": FOUR_EYES} if name == "Permissions" else opts)
                for name, opts in fieldsets]
