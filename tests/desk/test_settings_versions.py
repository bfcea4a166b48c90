"""A market's quote settings and its detectors' settings are versioned by one mechanism
(bots.desk.settings_versions): each save is the next numbered version, with every value before
and after, who and why, and an audit entry; a save over a version someone else saved meanwhile is
refused naming them, and a save that changes nothing is refused; neither writes anything."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.engine.interventions.settings import DEFAULTS as DETECTOR_DEFAULTS
from bots.interventions import workflow
from bots.market_making import operator_commands
from bots.models import (
    AuditEntry,
    InterventionSettings,
    InterventionSettingsVersion,
    QuoteSettings,
    QuoteSettingsVersion,
)
from tests.support.users import make_user

pytestmark = pytest.mark.django_db


def save_quotes(market, user, expected, **values):
    config = QuoteSettings.objects.get(market=market).config().replace(**values)
    return operator_commands.change_quote_settings(
        market, config, expected_version=expected, user=user, reason="wider"
    )


def save_detectors(market, user, expected, **values):
    config = workflow.config_from({**vars(DETECTOR_DEFAULTS), **values})
    return workflow.change_settings(market, config, expected_version=expected, user=user, reason="wider")


KINDS = {
    "quote settings": (save_quotes, {"bid_spread_bps": D("20")}, {"bid_spread_bps": D("25")},
                       QuoteSettings, QuoteSettingsVersion, "settings",
                       operator_commands.CommandRefused, operator_commands.CommandRefused),
    "intervention settings": (save_detectors, {"flow_threshold": "2"}, {"flow_threshold": "3"},
                              InterventionSettings, InterventionSettingsVersion,
                              "intervention settings", workflow.InterventionConflict,
                              workflow.InterventionError),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_save_is_a_version_and_a_stale_or_empty_one_writes_nothing(kind, demo_market):
    save, first, second, row_model, version_model, action, conflict, unchanged = KINDS[kind]
    ada, bea = make_user("ada", "admin"), make_user("bea", "admin")

    version = save(demo_market, ada, 0, **first)

    name, new = next(iter(first.items()))
    assert (version.number, version.actor, version.reason) == (1, "ada", "wider")
    assert version.changes[name]["new"] == f"{D(new).normalize():f}"
    entry = AuditEntry.objects.get(action=action)
    assert (entry.subject, entry.actor, entry.details["changes"]) == (f"{kind} v1", "ada", version.changes)

    with pytest.raises(conflict, match=r"changed by ada at \d\d:\d\d:\d\d UTC \(version 1\) since you opened"):
        save(demo_market, bea, 0, **second)
    with pytest.raises(unchanged, match="Nothing changed"):
        save(demo_market, bea, 1, **first)

    assert row_model.objects.get(market=demo_market).version == 1
    assert version_model.objects.filter(market=demo_market).count() == 1
    assert AuditEntry.objects.filter(action=action).count() == 1
