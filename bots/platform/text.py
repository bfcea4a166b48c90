"""Text people type: what Ballast refuses in it, with a message naming the field.

Control characters are refused everywhere: NUL (PostgreSQL cannot store it, in text or JSON),
the other C0 controls and DEL. A multi-line field (a reason, a comment) may hold tabs and line
breaks; a single-line one (a name, an address, a transaction id) may not.
"""

from __future__ import annotations

MULTILINE_ALLOWED = frozenset("\t\n\r")
NAMES = {"\0": "a NUL character", "\t": "a tab", "\n": "a line break", "\r": "a line break"}


class TextRefused(ValueError):
    """The message says which field holds what, for the person who typed it."""


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"


def problem(text: str, *, multiline: bool = False) -> str:
    """What is wrong with the text ("contains a NUL character (character 4)"), or ""."""
    for position, char in enumerate(text, start=1):
        if _is_control(char) and not (multiline and char in MULTILINE_ALLOWED):
            name = NAMES.get(char, f"the control character U+{ord(char):04X}")
            return f"contains {name} (character {position})"
    return ""


def check_text(text: str, field: str, *, multiline: bool = False) -> str:
    """The text unchanged, or TextRefused naming the field and what is wrong."""
    why = problem(text, multiline=multiline)
    if why:
        raise TextRefused(f"The {field} {why}, which is not accepted: remove it and send again.")
    return text
