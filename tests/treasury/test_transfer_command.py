"""manage.py transfers: the panel's commands from the shell, as a named user whose role counts."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from bots.models import PaperBalance, TransferProposal
from bots.treasury.balances import refresh_balances

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("transfers", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def planned(rebalance_market):
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    refresh_balances(rebalance_market.mm_account, ["BTC"])
    assert run("plan") == "1 new proposal(s).\n"
    return TransferProposal.objects.get()


def test_an_operator_approves_from_the_shell(planned, operator):
    assert run("approve", str(planned.pk), "--user", "olivia", "--comment", "ok") == (
        f"Approved transfer #{planned.pk}: it may be sent.\n"
    )
    assert f"#{planned.pk:<5} approved" in run("list")


def test_a_viewer_is_refused_with_the_reason(planned, viewer):
    with pytest.raises(CommandError, match="needs the operator role"):
        run("approve", str(planned.pk), "--user", "victor")
    assert TransferProposal.objects.get().state == TransferProposal.PROPOSED


def test_an_unknown_user_or_a_missing_number_is_refused(planned):
    with pytest.raises(CommandError, match="--user must name"):
        run("approve", str(planned.pk), "--user", "nobody")
    with pytest.raises(CommandError, match="needs the transfer's number"):
        run("approve", "--user", "olivia")
