"""What to do about a venue error, decided by its ccxt class.

Both venue implementations raise ccxt's own exception classes; callers ask here whether an
error is worth retrying or is final, instead of matching on messages.
"""

from __future__ import annotations

from bots.venues import ccxt_errors as errors  # ccxt's exception classes, without its exchanges

# Worth another try after a pause: the request may not even have reached the venue.
TRANSIENT = (
    errors.RequestTimeout,
    errors.DDoSProtection,
    errors.RateLimitExceeded,
    errors.ExchangeNotAvailable,
    errors.NetworkError,
)

# Retrying the same request cannot succeed; a person or a setting has to change something.
PERMANENT = (
    errors.InsufficientFunds,
    errors.InvalidOrder,
    errors.BadSymbol,
    errors.AuthenticationError,
    errors.PermissionDenied,
    errors.BadRequest,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def describe(exc: BaseException) -> str:
    """A one-line message for operators: the class and the venue's own words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500]
