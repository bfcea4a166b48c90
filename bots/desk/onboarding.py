"""Connecting an exchange from the desk: venues, accounts and their keys, connection tests.

The onboarding pages (dashboard/onboarding/) call these and nothing else. Keys are encrypted as
they arrive (bots.platform.credentials) and never read back out to a page; setting, replacing or
removing one is audited (who, when, which account, which key: never the key). New keys clear the
account's connection test, so a market cannot be enabled on keys nobody tested.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bots.desk import four_eyes
from bots.desk.audit import record
from bots.models import Account, ChangeRequest, Venue
from bots.platform.credentials import encrypt
from bots.venues.venue_options import check_exchange_id, check_options, check_sandbox

# Account roles a desk admin connects; the simulated ones belong to the paper demo.
BOT_ROLES = [(Account.MARKET_MAKING, "market-making bot"), (Account.HEDGING, "hedging bot")]


def _venue_state(venue: Venue) -> dict:
    return {"label": venue.label, "exchange_id": venue.exchange_id, "sandbox": venue.sandbox,
            "options": venue.options}


class NothingChanged(Exception):
    """An edit that leaves the venue as it was: nothing saved, nothing audited."""


def save_venue(venue: Venue, *, user) -> Venue:
    """Create or change a ccxt venue after checking its exchange id, testnet and options
    (bots.venues.venue_options raises InvalidVenue with the reason). A changed testnet switch
    or options send the keys somewhere else: the venue's accounts must pass a test again."""
    check_exchange_id(venue.exchange_id)
    check_sandbox(venue.exchange_id, venue.sandbox)
    check_options(venue.options)
    venue.kind = Venue.CCXT
    created = venue.pk is None
    with transaction.atomic():
        before = None if created else _venue_state(
            Venue.objects.select_for_update().get(pk=venue.pk)
        )
        after = _venue_state(venue)
        if before == after:
            raise NothingChanged(f"{venue} is like that already: nothing to change.")
        venue.save()
        details = {}
        if before is not None and (before["sandbox"], before["options"]) != (
            after["sandbox"], after["options"]
        ):
            details["tests_cleared"] = Account.objects.filter(venue=venue).update(
                checked_at=None, check_passed=False, check_report={}
            )
        record("venue added" if created else "venue changed", user=user,
               subject=f"venue {venue.name}", before=before, after=after, **details)
    return venue


def add_account(venue: Venue, name: str, role: str, *, user, api_key: str, secret: str,
                password: str = "") -> Account:
    """A bot's account on a venue with its trading key: 'account added' in the audit log with
    what it holds (never the key), then 'key set'."""
    with transaction.atomic():
        account = Account.objects.create(venue=venue, name=name, role=role)
        record("account added", user=user, subject=f"account {account.pk}", before=None,
               after={"venue": venue.name, "name": name, "role": role})
        set_keys(account, user=user, api_key=api_key, secret=secret, password=password)
    return account


def _clear_check(account: Account) -> None:
    account.checked_at, account.check_passed, account.check_report = None, False, {}


def set_keys(account: Account, *, user, api_key: str, secret: str, password: str = "") -> None:
    """The account's trading key, encrypted; replaces any before it."""
    replaced = account.has_keys
    account.set_credentials(api_key.strip(), secret.strip(), password.strip())
    _clear_check(account)
    with transaction.atomic():
        account.save()
        record("key replaced" if replaced else "key set", user=user,
               subject=f"account {account.pk}", account=str(account), key="trading")


def remove_keys(account: Account, *, user, withdrawal: bool = False) -> None:
    if withdrawal:
        account.set_withdrawal_credentials()
    else:
        account.set_credentials()
    _clear_check(account)
    with transaction.atomic():
        account.save()
        record("key removed", user=user, subject=f"account {account.pk}", account=str(account),
               key="withdrawal" if withdrawal else "trading")


def set_withdrawal_key(account: Account, *, user, api_key: str, secret: str,
                       password: str = "", reason: str = "") -> ChangeRequest:
    """Propose the account's separate withdrawal key: it moves money, so it is set only when
    another admin confirms (bots.desk.four_eyes, on the Changes page). The request holds the key
    encrypted; people see its last four characters."""
    api_key, secret, password = api_key.strip(), secret.strip(), password.strip()
    encrypted = {"withdraw_api_key_enc": encrypt(api_key), "withdraw_secret_enc": encrypt(secret),
                 "withdraw_password_enc": encrypt(password)}
    return four_eyes.propose_key_change(user, account, encrypted, what="withdrawal key",
                                        reason=reason, fingerprint=api_key[-4:])


def check_connection(account: Account, *, user) -> dict:
    """Test the account's keys against its exchange and keep the report on the account."""
    from bots.venues import connection_check  # ccxt: only when a connection is tested

    report = connection_check.check(account)
    account.checked_at, account.check_passed = timezone.now(), report["passed"]
    account.check_report = report
    account.save(update_fields=["checked_at", "check_passed", "check_report"])
    record("connection tested", user=user, subject=f"account {account.pk}", account=str(account),
           passed=report["passed"], verdicts=[text for _, text in report["verdicts"]])
    return report

