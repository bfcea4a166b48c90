"""Two-factor log-in (TOTP through django-otp, with single-use recovery codes as its static
device) for the people who can move money: operators, who approve transfers, and admins.

With settings.TWO_FACTOR on (the default), an operator or admin who logged in with a password
reaches no page but the two-factor one until they give a code (dashboard.desk.two_factor_views);
approving a transfer above its policy's two-approver threshold asks for a fresh code as well,
one never used before (django-otp refuses a TOTP code it has seen).
"""

from __future__ import annotations

import secrets
from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from bots.desk.roles import OPERATOR, has_role

RECOVERY_CODES = 10
DEMO_DEVICE = "seed_demo"  # the only device whose current code `manage.py demo_code` prints


def required() -> bool:
    return settings.TWO_FACTOR


def needs_two_factor(user) -> bool:
    return required() and user.is_authenticated and has_role(user, OPERATOR)


def device_of(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrolling(user) -> TOTPDevice:
    """The authenticator being set up: one unconfirmed device, kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (base32)."""
    return b32encode(device.bin_key).decode()


def confirm_enrolment(device: TOTPDevice, code: str) -> list[str] | None:
    """The first code from the new authenticator: the device counts from now on, and the
    recovery codes (shown once) replace any earlier ones. None when the code is wrong."""
    if not device.verify_token(code.strip()):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(device.user)


def new_recovery_codes(user) -> list[str]:
    static, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": "recovery codes"})
    static.token_set.all().delete()
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def matching_device(user, code: str):
    """The device (authenticator or a recovery code, used up) this code is good for, or None."""
    code = (code or "").strip()
    if not code:
        return None
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(code):
                return device
    return None


def fresh_code_ok(user, code: str | None) -> bool:
    """A code from the user's authenticator that was never used (not a recovery code)."""
    device = device_of(user)
    if device is None or not code:
        return False
    allowed, _ = device.verify_is_allowed()
    return bool(allowed and device.verify_token(code.strip()))


def current_code(device: TOTPDevice) -> str:
    """The code the authenticator shows now, or the next one if this one was used (the demo's
    printer and the tests' log-in)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


def enrol_for_demo(user) -> TOTPDevice:
    """The demo's login gets an authenticator at once (seed_demo): its key is printed with
    the password, and `manage.py demo_code` prints its current code."""
    device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE).first()
    return device or TOTPDevice.objects.create(user=user, name=DEMO_DEVICE, confirmed=True)


def verified_in(user, session) -> bool:
    """Whether this login gave its code (for websockets, which OTPMiddleware does not see)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk
