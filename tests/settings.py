"""The suite's settings: the project's own, with a fast password hash and, under pytest-xdist,
each worker apart from the others.

The real hasher is slow on purpose (PBKDF2, about 0.25 s a password here), and the suite makes
thousands of logins: every demo seeds three (an operator and two admins) and most tests add
personas. The processes the tests start (Daphne, workers, `manage.py`) inherit
DJANGO_SETTINGS_MODULE and the environment from the test run, so they check these hashes too and
land in their worker's Redis database, metrics folder and channel layer.

`make test` runs the suite in pytest-xdist workers (gw0, gw1, ...). Worker N takes Redis database
REDIS_URL's plus N, a metrics folder of its own, and its own prefix for the channel layer's
pub/sub channels (Redis publishes across databases); pytest-django gives each worker a test
database of its own (test_..._gw0). Nothing else differs from production's settings.
"""

import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... in an xdist worker


def _worker_redis_url(url: str, index: int) -> str:
    """`url` with its database number moved on by `index`: redis://h:p/8 -> redis://h:p/9;
    unix:///path?db=8 likewise (a unix socket URL has its database in the query)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(int(query.get("db") or 0) + index)
        return f"unix://{parts.path}?{urlencode(query)}"
    db = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{db + index}").geturl()


# Once per worker: the processes a test starts inherit what is set here (the marker too), and
# keep it, or take the REDIS_URL the test gives them.
_SETTLE = bool(_WORKER) and os.environ.get("BALLAST_TEST_WORKER") != _WORKER
if _SETTLE:
    if "ballast.settings" in sys.modules:  # its values would be the other workers' too
        raise RuntimeError("ballast.settings was imported before tests.settings")
    os.environ["BALLAST_TEST_WORKER"] = _WORKER
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _worker_redis_url(os.environ["REDIS_URL"], int(_WORKER[2:]))

from ballast.settings import *  # noqa: E402, F403
from ballast.settings import CHANNEL_LAYERS, PROMETHEUS_MULTIPROC_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if _WORKER:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-{_WORKER}"
if _SETTLE:
    PROMETHEUS_MULTIPROC_DIR = PROMETHEUS_MULTIPROC_DIR / _WORKER
    PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
