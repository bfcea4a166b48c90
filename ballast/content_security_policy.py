"""The Content-Security-Policy header on every response: scripts only from Ballast's own static
files (no inline script, no inline event handler, no eval), so that markup slipped into a page
cannot run. Django 5.2 has no CSP of its own (6.0 adds one); this is the whole of it.

Styles may be inline (the inventory bars set their widths in style attributes, and htmx and
Plotly add style elements); everything else comes from the desk's own origin.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.utils.decorators import sync_and_async_middleware


@sync_and_async_middleware
def content_security_policy(get_response):
    # Async as well as sync: a sync-only middleware would put every async view in a thread.
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return _with_policy(await get_response(request))

    else:

        def middleware(request):
            return _with_policy(get_response(request))

    return middleware


def _with_policy(response):
    policy = settings.CONTENT_SECURITY_POLICY
    if policy and "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = policy
    return response
