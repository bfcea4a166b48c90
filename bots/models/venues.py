"""Exchanges Ballast trades on, and the bots' accounts there."""

from __future__ import annotations

from django.db import models

from bots.platform.credentials import decrypt, decrypt_kept, encrypt


class Venue(models.Model):
    PAPER = "paper"
    CCXT = "ccxt"
    KIND_CHOICES = [(PAPER, "Paper (Ballast's own matching engine)"), (CCXT, "Real exchange via ccxt")]
    FAULT_CHOICES = [
        ("", "none"),
        ("ExchangeNotAvailable", "down (ExchangeNotAvailable)"),
        ("RequestTimeout", "timing out (RequestTimeout)"),
        ("DDoSProtection", "rate limited (DDoSProtection)"),
    ]

    name = models.SlugField(unique=True)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    exchange_id = models.CharField(
        max_length=50, blank=True, help_text="ccxt exchange id, e.g. binance (ccxt venues only)"
    )
    options = models.JSONField(
        default=dict, blank=True, help_text="Extra ccxt constructor options, e.g. urls of a sandbox"
    )
    sandbox = models.BooleanField(
        default=False,
        help_text="Testnet: ccxt's sandbox mode (the exchange's test environment, no real money)",
    )
    fault = models.CharField(
        max_length=40,
        blank=True,
        choices=FAULT_CHOICES,
        help_text="Paper venues only: while set, every call fails with this ccxt error",
    )

    def __str__(self) -> str:
        # Everywhere a venue is named, a testnet says so.
        return f"{self.label} (testnet)" if self.sandbox else self.label


class Account(models.Model):
    MARKET_MAKING = "mm"
    HEDGING = "hedge"
    USERS = "users"
    LIQUIDITY = "liquidity"
    ROLE_CHOICES = [
        (MARKET_MAKING, "market-making bot"),
        (HEDGING, "hedging bot"),
        (USERS, "simulated users"),
        (LIQUIDITY, "simulated outside liquidity"),
    ]

    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="accounts")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=10, choices=ROLE_CHOICES)
    # Encrypted at rest with CREDENTIALS_KEY; read only through credentials().
    api_key_enc = models.TextField(blank=True, editable=False)
    secret_enc = models.TextField(blank=True, editable=False)
    password_enc = models.TextField(blank=True, editable=False)
    # An optional second key used only to withdraw, so the trading key can stay trade-only.
    withdraw_api_key_enc = models.TextField(blank=True, editable=False)
    withdraw_secret_enc = models.TextField(blank=True, editable=False)
    withdraw_password_enc = models.TextField(blank=True, editable=False)
    # The last connection test (bots.venues.connection_check): a market is enabled only on
    # accounts whose keys passed it, and setting new keys clears it.
    checked_at = models.DateTimeField(null=True, blank=True)
    check_passed = models.BooleanField(default=False)
    check_report = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "name"], name="account_unique_per_venue")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.venue}"

    def set_credentials(self, api_key: str = "", secret: str = "", password: str = ""):
        self.api_key_enc = encrypt(api_key)
        self.secret_enc = encrypt(secret)
        self.password_enc = encrypt(password)

    def set_withdrawal_credentials(self, api_key: str = "", secret: str = "", password: str = ""):
        self.withdraw_api_key_enc = encrypt(api_key)
        self.withdraw_secret_enc = encrypt(secret)
        self.withdraw_password_enc = encrypt(password)

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key_enc)

    @property
    def has_withdrawal_key(self) -> bool:
        return bool(self.withdraw_api_key_enc)

    def withdrawal_credentials(self) -> dict[str, str]:
        """The withdrawal key's ccxt constructor keys; empty when the account has none."""
        return self._decrypted("withdraw", (self.withdraw_api_key_enc, self.withdraw_secret_enc,
                                            self.withdraw_password_enc))

    def credentials(self) -> dict[str, str]:
        """ccxt constructor keys; empty ones are left out."""
        return self._decrypted("trade", (self.api_key_enc, self.secret_enc, self.password_enc))

    def _decrypted(self, which: str, tokens: tuple[str, str, str]) -> dict[str, str]:
        # Kept decrypted per account in the process while its stored tokens stay the same
        # (bots/platform/credentials.py): a hedge or tick pays no decryption.
        values = decrypt_kept((self.pk, which), tokens) if self.pk else tuple(map(decrypt, tokens))
        return {key: value for key, value in zip(("apiKey", "secret", "password"), values, strict=True) if value}
