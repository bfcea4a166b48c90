"""The suite's settings: the project's own, with a fast password hash.

The real hasher is slow on purpose (PBKDF2, about 0.25 s a password here), and the suite makes
thousands of logins: every demo seeds three (an operator and two admins) and most tests add
personas. The processes the tests start (Daphne, workers, `manage.py`) inherit
DJANGO_SETTINGS_MODULE from the test run, so they check these hashes too. Nothing else differs
from production's settings.
"""

from ballast.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
