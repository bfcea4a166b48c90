"""Serving static files: collectstatic's copies (with the .gz beside each) wherever they are
current, the apps' own files where nothing was collected or the source changed since.

WhiteNoise with WHITENOISE_USE_FINDERS lets the finders' files replace every collected one, so
browsers never got the gzipped copies; without finders, a run that skipped collectstatic (the
tests) would serve nothing, or a stale copy.
"""

from __future__ import annotations

import os

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib.staticfiles import finders
from whitenoise.middleware import WhiteNoiseMiddleware


class CollectedFirstWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    # Async too: WhiteNoise's own middleware is sync only, and one sync-only middleware makes
    # Django run every request below it (async views too) inside its one thread for sync code,
    # holding that thread until the answer, so a slow async view would hold up every page.
    sync_capable = True
    async_capable = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        static_file = (
            self.find_file(request.path_info) if self.autorefresh
            else self.files.get(request.path_info)
        )
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)

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
