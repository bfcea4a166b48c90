"""The templates hold no inline script and no inline event handler: the content security policy
allows scripts from static files only (htmx's hx- attributes are markup, not scripts)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("dashboard/**/templates/**/*.html")]


def test_no_template_has_an_inline_script_or_handler():
    assert len(TEMPLATES) > 20
    found = []
    for path in TEMPLATES:
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.I):
            if "src=" not in tag:
                found.append(f"{path.relative_to(ROOT)}: {tag}")
        found += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text, flags=re.I)]
        found += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"javascript:", text, flags=re.I)]
    assert found == []
