"""ClefError: the base of every error the user can see, and how it is shown (one line).

Each layer raises its own subclass (AudioError, ModelError, ProjectError, NotesError, ...),
always with a message that names the file and the reason; the CLI prints `one_line(error)`
and exits 2, the app shows the same line in a message box or the status bar.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_LINE = 400  # characters of a message shown at most


class ClefError(Exception):
    """A failure caused by a file, an option or the machine, reported to the user as is."""


class CommandError(ClefError):
    """A command's failure (a bad option or input) to report as one line and a non-zero exit."""


def one_line(message: object, limit: int = MAX_LINE) -> str:
    """`message` as one printable line: control characters (newlines in a file name, escape
    sequences) written as `\\n`, `\\x1b`, ...; cut to `limit` characters."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                        str(message))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def naming(name: str, error: BaseException) -> str:
    """`error`'s message naming the file `name` once (a ClefError's names it already)."""
    text = str(error)
    return text if text.startswith(name) else f"{name}: {text}"
