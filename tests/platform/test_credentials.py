"""Exchange API keys are stored encrypted and read back only with the same key."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from bots.models import Account, Venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    venue = Venue.objects.create(name="binance", label="Binance", kind=Venue.CCXT, exchange_id="binance")
    account = Account(venue=venue, name="hedging", role=Account.HEDGING)
    account.set_credentials(api_key="key-123", secret="s3cret-456")
    account.save()
    return account


def test_keys_are_not_stored_in_clear(account):
    row = Account.objects.filter(pk=account.pk).values("api_key_enc", "secret_enc", "password_enc").get()
    assert "key-123" not in row["api_key_enc"] and "s3cret-456" not in row["secret_enc"]
    assert row["password_enc"] == ""
    assert Account.objects.get(pk=account.pk).credentials() == {"apiKey": "key-123", "secret": "s3cret-456"}


def test_another_key_cannot_read_them_and_says_which_setting(account, settings):
    settings.CREDENTIALS_KEY = "a different key"
    with pytest.raises(ImproperlyConfigured, match="CREDENTIALS_KEY"):
        Account.objects.get(pk=account.pk).credentials()
