"""Checking what a project file says about score settings and the undo history.

A hostile or damaged file must fail here, at open, with a ProjectError, rather than later
when the score is built or an edit is undone.
"""

from __future__ import annotations

from typing import Any

from clef_app.notation.edits import Edit, NoteEdit, SettingsEdit, edit_from_dict
from clef_app.notation.settings import ScoreSettings
from clef_app.project.errors import ProjectError
from clef_app.project.validate import Fields, read_notes


def check_settings(name: str, settings: dict[str, Any], where: str = "settings") -> None:
    """Raise ProjectError unless `ScoreSettings.from_dict` accepts `settings`."""
    try:
        ScoreSettings.from_dict(settings)
    except Exception as exc:  # from_dict reports bad values with assorted exception types
        detail = f"{type(exc).__name__}: {exc}"[:160]
        raise ProjectError(f"{name}: {where} is not valid ({detail})") from exc


def decode_edits(name: str, rows: list[dict[str, Any]]) -> list[Edit]:
    """Edits from their `to_dict` form, each checked like the project's own notes/settings."""
    edits: list[Edit] = []
    for i, row in enumerate(rows):
        where = f"history.edits[{i}]"
        f = Fields(name, where, row)
        kind = row.get("kind")
        if kind == "notes":
            f.string("text", 200)
            read_notes(name, f.array("removed", 1_000_000), f"{where}.removed")
            read_notes(name, f.array("added", 1_000_000), f"{where}.added")
        elif kind == "settings":
            key = f.string("key", 100)
            f.string("text", 200)
            for side in ("old", "new"):
                if row.get(side) is not None:
                    check_settings(name, {key: row[side]}, f"{where}.{side}")
        else:
            raise f.fail("kind", "must be 'notes' or 'settings'")
        try:
            edit = edit_from_dict(row)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"{name}: {where} is not a valid edit ({exc})"[:240]) from exc
        assert isinstance(edit, NoteEdit | SettingsEdit)
        edits.append(edit)
    return edits
