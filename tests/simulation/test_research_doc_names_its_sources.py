"""The research section of docs/simulation.md compares with two versions of the Avellaneda-Stoikov
paper: each comparison names the version and the table (by γ) its figures come from."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIMULATION = (ROOT / "docs" / "simulation.md").read_text()
EVERY_DOC = "\n".join(p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# Figures that only the 2006 working paper's table or only the 2008 paper's table carries.
WORKING_PAPER = ("62.94", "5.89", "2.80", "67.21", "13.43", "8.66", "1.29")
PUBLISHED = ("65.0 (std 6.6)", "68.4 (std 12.7)")


def research_section() -> str:
    start = SIMULATION.index("### The Avellaneda-Stoikov experiment")
    return SIMULATION[start : SIMULATION.index("\n#", start + 10)]


def blocks(text: str) -> list[str]:
    """Paragraphs and list items, each as one line of text."""
    parts = re.split(r"\n\s*\n|\n(?=- )", text)
    return [" ".join(part.split()) for part in parts if part.strip()]


def test_no_comparison_with_an_unnamed_table():
    assert "the paper's table" not in EVERY_DOC
    assert "the paper's figures" not in EVERY_DOC


def test_each_figure_stands_beside_its_version_and_table():
    comparisons = 0
    for block in blocks(research_section()):
        if block.startswith(("$", "strategy", "inventory", "symmetric", "```")):
            continue  # the command's own output
        if any(figure in block for figure in WORKING_PAPER) and "Avellaneda" not in block:
            if "2006 working paper" in block:
                comparisons += 1
                assert "γ = 0.1 table" in block, block
            else:
                # our own figures may name 1.29 as a term of the formula, never as a table's
                assert not any(f in block for f in WORKING_PAPER[:-1]), block
                assert "table" not in block, block
        if any(figure in block for figure in PUBLISHED):
            comparisons += 1
            assert "2008 published paper" in block and "γ = 0.1 table" in block, block
    assert comparisons == 2


def test_it_says_plainly_what_could_not_be_checked():
    section = " ".join(research_section().split())
    assert "What could not be checked from here" in section
    assert "third party's transcription" in section
