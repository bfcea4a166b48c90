"""What every page of the desk shows around its content: the count of alerts waiting, and
the admins' own links, with the count of changes waiting for them to confirm."""

from __future__ import annotations

from django.conf import settings

from bots.desk import four_eyes
from bots.desk.roles import ADMIN, has_role
from bots.models import Alert, ChangeRequest


def desk(request) -> dict:
    if not request.user.is_authenticated:
        return {}
    # A callable: the template evaluates it only where the nav is drawn.
    return {
        "unresolved_alerts": lambda: Alert.objects.exclude(state=Alert.RESOLVED).count(),
        "is_admin_role": lambda: has_role(request.user, ADMIN),
        "changes_for_me": lambda: changes_for(request.user),
        "two_factor_on": settings.TWO_FACTOR,
    }


def changes_for(user) -> int:
    """Pending changes this admin may confirm: the other admins', not their own (four-eyes)."""
    pending = ChangeRequest.objects.filter(state=ChangeRequest.PENDING).select_related(
        "proposed_by"
    )
    return sum(1 for change in pending if not four_eyes.may_confirm(user, change))
