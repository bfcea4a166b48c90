"""Test connection, with the real ccxt against the local stubs: markets loaded, balances read,
the key's permissions where the exchange says them, a verdict, and the clock offset."""

from __future__ import annotations

import pytest

from bots.desk.onboarding import check_connection
from bots.models import Account, AuditEntry, Venue
from tests.onboarding.conftest import stub_options

pytestmark = pytest.mark.django_db


def account_on(stub, exchange_id, key=None, secret=None) -> Account:
    venue = Venue.objects.create(name=exchange_id, label=exchange_id.title(), kind=Venue.CCXT,
                                 exchange_id=exchange_id, options=stub_options(stub))
    account = Account(venue=venue, name="bot", role=Account.HEDGING)
    account.set_credentials(key or stub.API_KEY, secret or stub.SECRET)
    account.save()
    return account


def test_a_trade_only_key_passes_with_its_verdict(admin_client, binance_stub):
    account = account_on(binance_stub, "binance")
    response = admin_client.post(f"/onboarding/accounts/{account.pk}/test")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.check_passed
    report = account.check_report
    assert report["markets"] == 1
    assert report["verdicts"] == [[True, "trading key: trade yes, withdraw no: good"]]
    assert isinstance(report["clock_offset_ms"], int)
    page = admin_client.get("/onboarding/accounts/").content.decode()
    assert "trading key: trade yes, withdraw no: good" in page
    assert "balances read: BTC, USDT" in page
    assert "ms ahead of the exchange" in page
    assert AuditEntry.objects.get(action="connection tested").details["passed"] is True


def test_the_clock_offset_is_measured(admin_user, binance_stub):
    binance_stub.clock_offset_ms = -3000  # the exchange 3 s behind this host
    account = account_on(binance_stub, "binance")
    report = check_connection(account, user=admin_user)
    assert report["passed"]
    assert 2500 < report["clock_offset_ms"] < 3500


def test_a_trading_key_that_can_withdraw_beside_a_withdrawal_key_fails(admin_user, binance_stub):
    binance_stub.restrictions[binance_stub.API_KEY]["enableWithdrawals"] = True
    account = account_on(binance_stub, "binance")
    account.set_withdrawal_credentials(binance_stub.WITHDRAW_API_KEY, binance_stub.WITHDRAW_SECRET)
    account.save()
    report = check_connection(account, user=admin_user)
    assert not report["passed"]
    assert report["verdicts"][0] == [
        False, "trading key: trade yes, withdraw yes: bad, the withdrawal key withdraws; turn "
        "withdrawals off on the trading key"]
    assert report["verdicts"][1] == [
        True, "withdrawal key: withdraw yes, IP restricted yes: good"]
    assert not Account.objects.get(pk=account.pk).check_passed


def test_a_key_that_cannot_trade_fails(admin_user, binance_stub):
    binance_stub.restrictions[binance_stub.API_KEY]["enableSpotAndMarginTrading"] = False
    report = check_connection(account_on(binance_stub, "binance"), user=admin_user)
    assert not report["passed"]
    assert "this key cannot trade" in report["verdicts"][0][1]


def test_a_wrong_secret_fails_with_the_exchanges_words(admin_user, binance_stub):
    account = account_on(binance_stub, "binance", secret="not-the-secret")
    report = check_connection(account, user=admin_user)
    assert not report["passed"]
    assert report["steps"][-1][:2] == ["connect", False]
    assert "Signature for this request is not valid" in report["steps"][-1][2]


def test_an_exchange_that_hides_permissions_passes_on_its_balances(admin_user, hollaex_stub):
    report = check_connection(account_on(hollaex_stub, "hollaex"), user=admin_user)
    assert report["passed"]
    assert ["permissions", True, "hollaex does not expose a key's permissions"] in report["steps"]
    assert "trade unknown, withdraw unknown" in report["verdicts"][0][1]
