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


# ccxt counts a refused request time as a network error, but waiting does not fix a clock: the
# venue's client has measured the exchange's clock again and raised an alert (bots.venues.clients).
NEEDS_A_PERSON = (errors.InvalidNonce,)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT) and not isinstance(exc, NEEDS_A_PERSON)


def describe(exc: BaseException) -> str:
    """A one-line message for operators: the class and the venue's own words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500]
