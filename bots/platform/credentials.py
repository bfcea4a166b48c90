"""Encryption at rest for exchange API keys, with the key from CREDENTIALS_KEY (or SECRET_KEY).

Decrypting costs about 70 us a value (Fernet's HMAC and AES), and every hedge and tick builds its
venue from the account's keys: `decrypt_kept` keeps each account's decrypted keys in the process,
for as long as the stored tokens and CREDENTIALS_KEY are the ones they came from. Keys replaced
from the desk are new tokens (Fernet encrypts with a fresh IV each time), so they take effect at
the next read of the account's row, as before.
"""

from __future__ import annotations

import base64
import hashlib
import threading

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    # A Fernet key is 32 url-safe base64 bytes; hashing lets any long secret serve as one.
    digest = hashlib.sha256(settings.CREDENTIALS_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "Stored API credentials cannot be decrypted: CREDENTIALS_KEY differs from the key "
            "they were saved with."
        ) from exc


# (owner, e.g. the account's id and which key) -> (CREDENTIALS_KEY and the tokens, their values)
_kept: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}
_kept_lock = threading.Lock()


def decrypt_kept(owner: tuple, tokens: tuple[str, ...]) -> tuple[str, ...]:
    """decrypt() of each token, kept per `owner`: decrypted again only when the tokens or
    CREDENTIALS_KEY differ from the ones last decrypted for it (one entry per owner, so a
    replaced key's values do not linger)."""
    stamp = (settings.CREDENTIALS_KEY, *tokens)
    with _kept_lock:
        found = _kept.get(owner)
    if found is not None and found[0] == stamp:
        return found[1]
    values = tuple(decrypt(token) for token in tokens)
    with _kept_lock:
        _kept[owner] = (stamp, values)
    return values


def forget_kept() -> None:
    """Drop every kept decryption (tests)."""
    with _kept_lock:
        _kept.clear()
