"""ccxt's exception classes, without loading ccxt's hundred-odd exchanges.

Venues raise ccxt's own exception classes and most of Ballast only catches them. `import ccxt`
loads every exchange ccxt supports, about 70 MB per process: a Daphne process that only shows
pages and catches an error now and then should not carry that. ccxt keeps its classes in one
self-contained file, ccxt/base/errors.py, which this module loads on its own and registers under
its real name: when a process does import ccxt later (a worker that talks to a real exchange),
ccxt finds that module already loaded and uses it, so the classes here are ccxt's own objects
and `except` clauses match either way (tests/venues/test_ccxt_errors.py checks it).

Use it as `from bots.venues import ccxt_errors as ccxt` where only the exception classes are
needed; code that calls an exchange imports ccxt itself.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NAME = "ccxt.base.errors"


def _errors_module():
    if _NAME in sys.modules:  # ccxt itself, or an earlier load of this module
        return sys.modules[_NAME]
    package = importlib.util.find_spec("ccxt")  # finds the package without running it
    path = Path(package.submodule_search_locations[0]) / "base" / "errors.py"
    spec = importlib.util.spec_from_file_location(_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


_errors = _errors_module()
globals().update(
    {name: value for name, value in vars(_errors).items()
     if isinstance(value, type) and issubclass(value, Exception)}
)
