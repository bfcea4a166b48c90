"""Who may do what: viewers look, operators act, admins configure (Django groups)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"
RANKS = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}


def group(role: str):
    """The Django group of a role (created on first use, so a flushed test database has it too)."""

    return Group.objects.get_or_create(name=role)[0]


def rank(user) -> int:
    if not user.is_authenticated:
        return 0
    if user.is_superuser:
        return RANKS[ADMIN]
    return max((RANKS.get(g.name, 0) for g in user.groups.all()), default=0)


def has_role(user, role: str) -> bool:
    return rank(user) >= RANKS[role]


def role_required(role: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(f"this needs the {role} role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
