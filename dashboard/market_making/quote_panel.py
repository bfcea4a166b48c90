"""The market maker's part of a market's snapshot: its levels with their edge, why a side is
off, the desk's kill switch, and the recent pauses, resumes and kills with who did them and why."""

from __future__ import annotations

from django.db.models import Q

from bots.models import AuditEntry, KillSwitch, Market

ACTIONS_SHOWN = 12
# What the bot panel lists: the state changes and who caused them.
STATE_ACTIONS = (
    "pause", "resume", "kill", "cancel_all", "hold", "kill_all", "resume_all", "settings", "dead_man_switch",
)


def quoting_snapshot(market: Market) -> dict:
    switch = KillSwitch.objects.filter(pk=1).first()
    entries = (
        AuditEntry.objects.filter(action__in=STATE_ACTIONS)
        .filter(Q(market=market) | Q(market__isnull=True, action__in=("kill_all", "resume_all")))
        .order_by("-at", "-id")[:ACTIONS_SHOWN]
    )
    return {
        "quoting": market.quote_summary or {},
        "protect_until": market.protect_until,
        "kill_switch": {
            "engaged": bool(switch and switch.engaged),
            "actor": switch.actor if switch else "",
            "reason": switch.reason if switch else "",
        },
        "actions": [
            {"at": e.at, "actor": e.actor, "action": e.action, "reason": e.reason, "subject": e.subject}
            for e in entries
        ],
    }
