"""Writing the audit log, from views, tasks and commands alike."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from bots.models import AuditEntry


def record(action: str, *, user=None, actor: str = "", market=None, subject: str = "",
           reason: str = "", **details) -> AuditEntry:
    """Add an entry. `user` for a person; `actor` names the part of Ballast otherwise
    (e.g. "price breaker"). Details are stored as JSON (Decimals as strings)."""
    return AuditEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        actor=(user.get_username() if user is not None and user.is_authenticated else actor) or "system",
        action=action,
        market=market,
        subject=subject,
        reason=reason,
        details=json.loads(json.dumps(details, cls=DjangoJSONEncoder)),
    )
