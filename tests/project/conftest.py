"""The stub demo on exchange stubs served in the test process, for tests that run Ballast's real
processes on it (two of each, the restart drill)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from bots.desk import two_factor
from bots.models import Market, Venue
from tests.support import stub_desk
from tests.support.users import make_user


@pytest.fixture
def stubs():
    stubs = stub_desk.serve()
    yield stubs
    stubs.stop()


@pytest.fixture
def stub_demo(stubs):
    """The stub demo (seed_demo --venues stub: its accounts take the stubs' keys) on the stubs
    served here, and two admins with their authenticators."""
    call_command("seed_demo", "--venues", "stub", "--trades-per-minute", "0", stdout=io.StringIO())
    for name, ws in (("own", stubs.own_ws), ("external", stubs.outside_ws)):
        venue = Venue.objects.get(name=name)
        venue.options = {**venue.options, **ws.ccxt_config()}
        venue.save()
    admins = [make_user(name, "admin") for name in ("ada", "adam")]
    for admin in admins:
        two_factor.enrol_for_demo(admin)
    return Market.objects.get(), admins
