"""Serving static files: collectstatic's copies (with the .gz beside each) wherever they are
current, the apps' own files where nothing was collected or the source changed since.

WhiteNoise with WHITENOISE_USE_FINDERS lets the finders' files replace every collected one, so
browsers never got the gzipped copies; without finders, a run that skipped collectstatic (the
tests) would serve nothing, or a stale copy.
"""

from __future__ import annotations

import os

from django.contrib.staticfiles import finders
from whitenoise.middleware import WhiteNoiseMiddleware


class CollectedFirstWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    def add_files_from_finders(self):
        sources: dict[str, str] = {}
        for finder in finders.get_finders():
            for path, storage in finder.list(None):
                prefix = (getattr(storage, "prefix", None) or "").strip("/")
                url = f"{self.static_prefix}{prefix}{'/' if prefix else ''}{path.replace(os.sep, '/')}"
                sources.setdefault(url, storage.path(path))  # the first finder wins, as Django's
        for url, source in sources.items():
            collected = os.path.join(self.static_root or "", url[len(self.static_prefix):])
            if url in self.files and os.path.getmtime(collected) >= os.path.getmtime(source):
                continue  # collected after the last edit: keep it, and its .gz
            self.add_file_to_dictionary(url, source)
