"""Every model in Django's admin either lands its adds, changes and deletes in the audit log
(AuditedAdmin) or cannot be written there at all: a model registered later without either fails
here, before an edit escapes the audit log."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from bots.desk.admin_audit import AuditedAdmin

pytestmark = pytest.mark.django_db


def test_each_registered_model_is_audited_or_read_only(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    escaping, audited_writable = [], []
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, AuditedAdmin):
            if model_admin.has_change_permission(request):
                audited_writable.append(model.__name__)
            continue
        writes = [
            can for can, allowed in (
                ("add", model_admin.has_add_permission(request)),
                ("change", model_admin.has_change_permission(request)),
                ("delete", model_admin.has_delete_permission(request)),
            ) if allowed
        ]
        if writes:
            escaping.append(f"{model.__name__}: {', '.join(writes)}")

    assert escaping == []
    # The admin may write at all (else every permission above would be False for that alone).
    assert {"Venue", "Account", "Market"} <= set(audited_writable)
