"""The two-factor step after the password (operators and admins, bots.desk.two_factor): set up
an authenticator the first time, with recovery codes shown once; give a code every log-in after.

require_two_factor is the middleware that keeps an operator or admin who has only given their
password on this page: no other page, no admin, no action, until the code is given.
"""

from __future__ import annotations

import django_otp
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import sync_and_async_middleware
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from bots.desk import two_factor
from bots.desk.audit import record


def _open_paths() -> tuple[str, ...]:
    return (reverse("two-factor"), reverse("logout"), reverse("login"), settings.STATIC_URL)


def _held(request, user) -> bool:
    """Whether this request must go to the two-factor page first."""
    return (
        two_factor.needs_two_factor(user)
        and not user.is_verified()
        and not request.path.startswith(_open_paths())
    )


def _to_two_factor(request):
    return redirect(f"{reverse('two-factor')}?next={request.get_full_path()}")


@sync_and_async_middleware
def require_two_factor(get_response):
    # Async as well as sync: one sync-only middleware makes Django run every async view (the
    # public demo's, which wait seconds for their worker) in a thread instead of on the loop.
    if iscoroutinefunction(get_response):

        async def middleware(request):
            user = await request.auser()
            # Visitors without a session (the demo's) cost no thread.
            if user.is_authenticated and await sync_to_async(_held)(request, user):
                return _to_two_factor(request)
            return await get_response(request)

    else:

        def middleware(request):
            user = getattr(request, "user", None)
            if user is not None and _held(request, user):
                return _to_two_factor(request)
            return get_response(request)

    return middleware


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
@login_required
def two_factor_page(request):
    user = request.user
    if not two_factor.needs_two_factor(user) or user.is_verified():
        return redirect(_next(request))
    device = two_factor.device_of(user)
    code = request.POST.get("code", "") if request.method == "POST" else ""
    context = {"next": _next(request)}
    if device is not None:
        if request.method == "POST":
            used = two_factor.matching_device(user, code)
            if used is not None:
                django_otp.login(request, used)
                record("two-factor log-in", user=user, device=type(used).__name__)
                return redirect(_next(request))
            context["error"] = "That code is not right, or was used already (after a wrong one, wait a few seconds)."
        return render(request, "registration/two_factor.html", context,
                      status=400 if code else 200)
    enrolling = two_factor.enrolling(user)
    if request.method == "POST":
        codes = two_factor.confirm_enrolment(enrolling, code)
        if codes is not None:
            django_otp.login(request, enrolling)
            record("two-factor set up", user=user)
            return render(request, "registration/two_factor.html", {**context, "codes": codes})
        context["error"] = "That code is not right: check the key and the phone's clock (after a wrong one, wait a few seconds)."
    context |= {
        "enrol": True,
        "secret": two_factor.secret_of(enrolling),
        "config_url": enrolling.config_url,
    }
    return render(request, "registration/two_factor.html", context, status=400 if code else 200)
