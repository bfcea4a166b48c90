"""ccxt's exception classes without ccxt's exchanges, and the same classes once ccxt is loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_classes_load_without_the_exchanges_and_are_ccxts_own():
    out = run(
        """
        import sys
        from bots.venues import ccxt_errors
        print("ccxt" in sys.modules, ccxt_errors.NetworkError.__mro__[1].__name__)
        import ccxt
        print(ccxt.NetworkError is ccxt_errors.NetworkError, ccxt.BaseError is ccxt_errors.BaseError)
        try:
            raise ccxt.RequestTimeout("slow")
        except ccxt_errors.NetworkError as exc:
            print("caught", type(exc).__name__)
        """
    )
    assert out.splitlines() == ["False OperationFailed", "True True", "caught RequestTimeout"]


def test_loaded_after_ccxt_it_hands_out_ccxts_classes():
    out = run(
        """
        import ccxt
        from bots.venues import ccxt_errors
        print(ccxt_errors.InvalidOrder is ccxt.InvalidOrder)
        """
    )
    assert out == "True"


def test_the_web_process_does_not_load_ccxt():
    out = run(
        """
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")
        import django
        django.setup()
        import ballast.asgi, ballast.urls
        from django.urls import get_resolver
        get_resolver().url_patterns
        print(sorted(m for m in ("ccxt", "ccxt.async_support") if m in sys.modules))
        """
    )
    assert out == "[]"
