"""Django's admin keeps the audit log too: a mixin for every model admin that can write."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin

from bots.desk.audit import record
from bots.engine.figures import plain


def _shown(value):
    if isinstance(value, Decimal):
        return plain(value)
    if value is None or isinstance(value, bool | int | str | list | dict):
        return value
    if hasattr(value, "all"):  # a many-to-many manager
        return sorted(str(v) for v in value.all())
    return str(value)


def snapshot(obj, fields) -> dict:
    """The named fields of a row as the audit log keeps them; encrypted keys never."""
    return {
        f: _shown(getattr(obj, f, None)) for f in fields if not f.endswith("_enc") and f != "password"
    }


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made in Django's admin lands in the audit log, with who,
    and the changed fields' values before and after (as the desk's own pages do)."""

    def save_model(self, request, obj, form, change):
        fields = list(form.changed_data) if change else list(form.fields)
        before = None
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = snapshot(stored, fields) if stored is not None else None
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "changed" if change else "added", before, fields)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for inline_form in formset.forms:
                if inline_form.has_changed() and inline_form.instance.pk:
                    self._audit(
                        request, inline_form.instance, "changed", None, inline_form.changed_data
                    )

    def delete_model(self, request, obj):
        before = snapshot(obj, [f.name for f in obj._meta.concrete_fields])
        label = str(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        record(
            f"admin {obj._meta.model_name} deleted",
            user=request.user,
            subject=f"{obj._meta.verbose_name} {pk}",
            reason=label,
            before=before,
            after=None,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def _audit(self, request, obj, verb: str, before, fields) -> None:
        if verb == "changed" and not fields:
            return
        record(
            f"admin {obj._meta.model_name} {verb}",
            user=request.user,
            subject=f"{obj._meta.verbose_name} {obj.pk}",
            reason=str(obj),
            before=before,
            after=snapshot(obj, fields),
        )
