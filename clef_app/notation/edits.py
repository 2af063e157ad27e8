"""Document edits as plain data: what the undo stack holds and a project file stores.

An edit is applied to a document's notes (`dict[id, NoteEvent]`) or its score settings
(`dict[str, JSON value]`). Changing a note is removing its old version and adding the new
one under the same id, so one `NoteEdit` covers add, delete, move, resize and velocity.
Qt-free: the GUI wraps each edit in one generic QUndoCommand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clef_app.notation.events import NoteEvent

EDIT_FORMAT = 1  # version of the dict layout written by `to_dict`


def note_to_dict(n: NoteEvent) -> dict:
    return {"onset": n.onset, "offset": n.offset, "pitch": n.pitch, "velocity": n.velocity,
            "id": n.id, "confidence": n.confidence}


def note_from_dict(d: dict) -> NoteEvent:
    """Raises ValueError/KeyError/TypeError on a malformed note."""
    return NoteEvent(float(d["onset"]), float(d["offset"]), int(d["pitch"]),
                     int(d.get("velocity", 80)), id=int(d["id"]),
                     confidence=float(d.get("confidence", 1.0)))


@dataclass(frozen=True)
class NoteEdit:
    """Remove `removed` (matched by id), then add `added`; `text` names it for the Edit menu."""

    text: str
    removed: tuple[NoteEvent, ...] = ()
    added: tuple[NoteEvent, ...] = ()

    @classmethod
    def replace(cls, text: str, old: Iterable[NoteEvent], new: Iterable[NoteEvent]) -> NoteEdit:
        return cls(text, tuple(old), tuple(new))

    def is_empty(self) -> bool:
        return not self.removed and not self.added

    def inverse(self) -> NoteEdit:
        return NoteEdit(self.text, self.added, self.removed)

    def apply(self, notes: dict[int, NoteEvent]) -> None:
        """Apply in place; a removed id that is absent is ignored."""
        for n in self.removed:
            notes.pop(n.id, None)
        for n in self.added:
            notes[n.id] = n

    def touched_ids(self) -> set[int]:
        return {n.id for n in self.removed} | {n.id for n in self.added}

    def to_dict(self) -> dict:
        return {"kind": "notes", "format": EDIT_FORMAT, "text": self.text,
                "removed": [note_to_dict(n) for n in self.removed],
                "added": [note_to_dict(n) for n in self.added]}

    @classmethod
    def from_dict(cls, d: dict) -> NoteEdit:
        return cls(str(d["text"]), tuple(note_from_dict(n) for n in d.get("removed", ())),
                   tuple(note_from_dict(n) for n in d.get("added", ())))


@dataclass(frozen=True)
class SettingsEdit:
    """Set score setting `key` from `old` to `new` (None: the key is absent)."""

    text: str
    key: str
    old: Any = None
    new: Any = None

    def inverse(self) -> SettingsEdit:
        return SettingsEdit(self.text, self.key, self.new, self.old)

    def apply(self, settings: dict[str, Any]) -> None:
        if self.new is None:
            settings.pop(self.key, None)
        else:
            settings[self.key] = self.new

    def to_dict(self) -> dict:
        return {"kind": "settings", "format": EDIT_FORMAT, "text": self.text, "key": self.key,
                "old": self.old, "new": self.new}

    @classmethod
    def from_dict(cls, d: dict) -> SettingsEdit:
        return cls(str(d["text"]), str(d["key"]), d.get("old"), d.get("new"))


Edit = NoteEdit | SettingsEdit


def edit_from_dict(d: dict) -> Edit:
    """Read an edit written by `to_dict`; raises ValueError for an unknown kind."""
    kind = d.get("kind")
    if kind == "notes":
        return NoteEdit.from_dict(d)
    if kind == "settings":
        return SettingsEdit.from_dict(d)
    raise ValueError(f"unknown edit kind {kind!r}")


def compose(first: NoteEdit, second: NoteEdit, text: str | None = None) -> NoteEdit:
    """One edit equal to applying `first` then `second` (for merging repeated nudges)."""
    added_first = {n.id for n in first.added}
    removed_second = {n.id for n in second.removed}
    removed = first.removed + tuple(n for n in second.removed if n.id not in added_first)
    added = tuple(n for n in first.added if n.id not in removed_second) + second.added
    # a note added by `first` and removed by `second` vanishes from both sides
    return NoteEdit(first.text if text is None else text, removed, added)
