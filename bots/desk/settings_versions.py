"""A market's settings changed as numbered versions: the quote settings (bots.market_making
.operator_commands) and the price-action detectors' (bots.interventions.workflow) alike.

A change is saved only over the version its editor started from (a save made meanwhile is not
silently overwritten), only if some value differs, and always with a version row keeping each
value before and after, who and why, and an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models, transaction

from bots.desk.audit import record


class SettingsRefused(Exception):
    """The change was not saved; the message says why, for the editor."""


class VersionConflict(SettingsRefused):
    """Someone saved a version after the one the editor started from."""


class NothingChanged(SettingsRefused):
    pass


@dataclass(frozen=True)
class Versioned:
    """One kind of versioned settings: a model with a row per market (`market`, `version`,
    `values()`), its versions' model (`market`, `number`, `user`, `actor`, `changes`, `reason`,
    newest first), and the words of its audit entries."""

    settings: type[models.Model]
    versions: type[models.Model]
    audit_action: str
    subject: str  # "quote settings": the entry's subject is "quote settings v7"


def as_text(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def save_version(
    kind: Versioned, market, values: dict[str, object], *, expected_version: int, user, actor: str,
    reason: str,
):
    """Save `values` as the market's next version of `kind`; the new version row. A market
    without a settings row gets one, every value counting as changed. Raises VersionConflict or
    NothingChanged, and then saves nothing."""
    with transaction.atomic():
        row = kind.settings.objects.select_for_update().filter(market=market).first()
        created = row is None
        if created:
            row = kind.settings(market=market)
        if row.version != expected_version:
            latest = kind.versions.objects.filter(market=market).first()
            by = f" by {latest.actor} at {latest.at:%H:%M:%S} UTC" if latest else ""
            raise VersionConflict(
                f"These settings were changed{by} (version {row.version}) since you opened them: "
                "reload to see that change, then make yours."
            )
        old = row.values()
        changes = {
            name: {"old": "" if created else as_text(old[name]), "new": as_text(value)}
            for name, value in values.items()
            if created or old[name] != value
        }
        if not changes:
            raise NothingChanged("Nothing changed: every value is what it was.")
        for name in changes:
            setattr(row, name, values[name])
        row.version += 1
        row.save()
        version = kind.versions.objects.create(
            market=market, number=row.version,
            user=user if user is not None and user.is_authenticated else None,
            actor=actor, changes=changes, reason=reason[:2000],
        )
        record(kind.audit_action, user=user, actor=actor, market=market,
               subject=f"{kind.subject} v{row.version}", reason=reason, changes=changes)
    return version
