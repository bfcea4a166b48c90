"""An account's keys are decrypted once per process and kept while its stored keys stay the
same: a hedge or tick pays no decryption, and keys replaced from the desk (or another
CREDENTIALS_KEY) take effect at the next read of the account."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from bots.desk.onboarding import set_keys
from bots.models import Account, Venue
from bots.platform.credentials import forget_kept
from bots.venues import venue_for
from bots.venues.clients import forget_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def decryptions(monkeypatch):
    forget_kept()
    count = []
    real = Fernet.decrypt
    monkeypatch.setattr(Fernet, "decrypt", lambda self, token, *a: count.append(1) or real(self, token, *a))
    return count


@pytest.fixture
def account():
    venue = Venue.objects.create(name="binance", label="Binance", kind=Venue.CCXT, exchange_id="binance")
    account = Account(venue=venue, name="hedging", role=Account.HEDGING)
    account.set_credentials(api_key="key-123", secret="s3cret-456")
    account.save()
    return account


def test_the_keys_are_decrypted_once_per_process(account, decryptions):
    for _ in range(3):
        assert Account.objects.get(pk=account.pk).credentials() == {"apiKey": "key-123", "secret": "s3cret-456"}
    assert len(decryptions) == 2  # the key and the secret, once; no password stored


def test_keys_replaced_from_the_desk_take_effect_at_the_next_read(account, decryptions, operator):
    forget_clients()
    assert venue_for(Account.objects.get(pk=account.pk)).client.apiKey == "key-123"

    set_keys(Account.objects.get(pk=account.pk), user=operator, api_key="key-789", secret="other")

    fresh = Account.objects.get(pk=account.pk)
    assert fresh.credentials() == {"apiKey": "key-789", "secret": "other"}
    assert venue_for(fresh).client.apiKey == "key-789"
    assert len(decryptions) == 4


def test_the_withdrawal_key_is_kept_apart_from_the_trading_key(account, decryptions):
    account.set_withdrawal_credentials(api_key="withdraw-1", secret="w-secret")
    account.save()
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.credentials() == {"apiKey": "key-123", "secret": "s3cret-456"}
    assert fresh.withdrawal_credentials() == {"apiKey": "withdraw-1", "secret": "w-secret"}
    assert fresh.credentials() == {"apiKey": "key-123", "secret": "s3cret-456"}
    assert len(decryptions) == 4


def test_another_credentials_key_is_not_answered_from_what_was_kept(account, decryptions, settings):
    assert Account.objects.get(pk=account.pk).credentials()["apiKey"] == "key-123"
    settings.CREDENTIALS_KEY = "a different key"
    with pytest.raises(ImproperlyConfigured, match="CREDENTIALS_KEY"):
        Account.objects.get(pk=account.pk).credentials()
