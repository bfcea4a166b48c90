"""A request whose query string or form fields hold a NUL character is answered 400 before any
view runs: PostgreSQL cannot store a NUL, and a view that reached the database with one would
answer 500, perhaps half way through an action.

Forms and operator commands refuse every control character with their own messages
(dashboard.forms, bots.platform.text); this is the guard for whatever does not go through them.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.http import HttpResponseBadRequest
from django.utils.decorators import sync_and_async_middleware
from django.utils.html import escape


def _field_with_nul(data) -> str | None:
    for name, values in data.lists():
        if "\0" in name or any("\0" in value for value in values if isinstance(value, str)):
            return name.replace("\0", "\\0")
    return None


def _refusal(request) -> HttpResponseBadRequest | None:
    field = _field_with_nul(request.GET)
    if field is None and request.method == "POST":
        field = _field_with_nul(request.POST)
    if field is None:
        return None
    note = (
        f"The field “{field}” contains a NUL character, which is not accepted: remove it "
        "and send again. Nothing was changed."
    )
    if request.headers.get("HX-Request"):  # shown where the form's answer goes
        return HttpResponseBadRequest(f'<span class="error" role="status">{escape(note)}</span>')
    return HttpResponseBadRequest(note, content_type="text/plain; charset=utf-8")


# Async too: a sync-only middleware would make every request below it, async views too, run
# inside Django's one thread for sync code (ballast.static_files says more).
@sync_and_async_middleware
def refuse_nul(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            refused = _refusal(request)
            return refused if refused is not None else await get_response(request)

    else:

        def middleware(request):
            refused = _refusal(request)
            return refused if refused is not None else get_response(request)

    return middleware
