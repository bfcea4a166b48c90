"""Static files go out gzipped once collectstatic has run, and a source edited since is served
as it is now rather than as a stale copy."""

from __future__ import annotations

import os
import time

import pytest
from django.core.management import call_command
from django.test import Client

SOURCE = "js/theme.js"


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def fetch(path: str):
    return Client().get(f"/static/{path}", HTTP_ACCEPT_ENCODING="gzip, deflate")


def test_collected_files_are_served_gzipped(collected):
    assert (collected / "vendor/plotly-basic-4.1.1.min.js.gz").exists()

    response = fetch("vendor/plotly-basic-4.1.1.min.js")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert int(response["Content-Length"]) < os.path.getsize(collected / "vendor/plotly-basic-4.1.1.min.js") / 2


@pytest.fixture
def own_sources(settings, tmp_path):
    """A static directory of the test's own, so editing a source touches nothing of the repo."""
    sources = tmp_path / "src"
    (sources / "js").mkdir(parents=True)
    (sources / SOURCE).write_text("// " + "the first version\n" * 200)
    settings.STATICFILES_DIRS = [sources]
    settings.STATIC_ROOT = tmp_path / "static"
    return sources


def test_a_source_edited_after_collectstatic_is_served_fresh(own_sources, settings):
    call_command("collectstatic", interactive=False, verbosity=0)
    assert fetch(SOURCE)["Content-Encoding"] == "gzip"
    later = time.time() + 60
    (own_sources / SOURCE).write_text("// the edit\n")
    os.utime(own_sources / SOURCE, (later, later))

    response = fetch(SOURCE)

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert b"".join(response.streaming_content) == b"// the edit\n"


def test_without_collectstatic_the_sources_are_served(own_sources, settings):
    settings.STATIC_ROOT.mkdir()  # empty: nothing collected

    response = fetch(SOURCE)

    assert response.status_code == 200 and "Content-Encoding" not in response
