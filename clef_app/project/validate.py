"""Checking a parsed `project.json` field by field, with messages that say which field."""

from __future__ import annotations

import json
import math
from typing import Any

from clef_app.notation.events import (  # noqa: F401 - MAX_NOTES re-exported for format
    MAX_NOTE_SECONDS,
    MAX_NOTES,
    NoteEvent,
    reserve_note_ids,
)
from clef_app.project.errors import ProjectError

MAX_JSON_BYTES = 32 * 2**20  # B: project.json; ~150k notes plus history fit easily
MAX_CONTAINERS = 2_000_000  # JSON objects + arrays: bounds the memory a hostile file can take
MAX_EDITS = 100_000  # MAX_NOTES: the bound every note file shares (notation.events)
MAX_PATH_CHARS = 4096
MAX_NOTE_ID = 2**40  # leaves room below 2**53 (exact in JSON) for ids made after loading
AUDIO_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"}


def parse_json(name: str, data: bytes) -> dict[str, Any]:
    """Parse bytes as one JSON object, refusing NaN/Infinity, deep nesting and excess size."""
    if len(data) > MAX_JSON_BYTES:
        raise ProjectError(f"{name}: project.json is larger than {MAX_JSON_BYTES // 2**20} MiB")
    if data.count(b"[") + data.count(b"{") > MAX_CONTAINERS:
        raise ProjectError(f"{name}: project.json holds too many objects")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{name}: project.json is not UTF-8 text") from exc
    except RecursionError as exc:
        raise ProjectError(f"{name}: project.json is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, NaN, over-long integers
        raise ProjectError(f"{name}: project.json is not valid JSON ({str(exc)[:120]})") from exc
    if not isinstance(value, dict):
        raise ProjectError(f"{name}: project.json is not a JSON object")
    return value


def _no_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


class Fields:
    """Typed access to a JSON object; every failure is a ProjectError naming the field."""

    def __init__(self, name: str, where: str, obj: object) -> None:
        if not isinstance(obj, dict):
            raise ProjectError(f"{name}: {where} must be an object")
        self.name, self.where, self.obj = name, where, obj

    def fail(self, key: str, why: str) -> ProjectError:
        return ProjectError(f"{self.name}: {self.where}.{key} {why}")

    def has(self, key: str) -> bool:
        return key in self.obj and self.obj[key] is not None

    def integer(self, key: str, lo: int, hi: int, default: int | None = None) -> int:
        value = self.obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "must be a whole number")
        if not lo <= value <= hi:
            raise self.fail(key, f"must lie in {lo}..{hi} (it is {value})")
        return value

    def number(self, key: str, lo: float, hi: float, default: float | None = None) -> float:
        value = self.obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number")
        value = float(value)
        if not (math.isfinite(value) and lo <= value <= hi):
            raise self.fail(key, f"must lie in {lo:g}..{hi:g} (it is {value:g})")
        return value

    def string(self, key: str, max_chars: int, default: str | None = None) -> str:
        value = self.obj.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "must be text")
        if len(value) > max_chars or "\x00" in value:
            raise self.fail(key, f"must be at most {max_chars} characters without NUL")
        return value

    def array(self, key: str, max_items: int) -> list:
        value = self.obj.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        if len(value) > max_items:
            raise self.fail(key, f"has {len(value)} items; at most {max_items} are allowed")
        return value

    def child(self, key: str) -> Fields:
        return Fields(self.name, f"{self.where}.{key}", self.obj.get(key))


def read_notes(name: str, rows: list, where: str = "notes") -> list[NoteEvent]:
    """NoteEvents from `[{onset, offset, pitch, velocity, id, confidence}, ...]`; ids unique.

    New note ids made afterwards (`new_note_id`) are kept above the ids read here.
    """
    notes: list[NoteEvent] = []
    seen: set[int] = set()
    for i, row in enumerate(rows):
        f = Fields(name, f"{where}[{i}]", row)
        onset = f.number("onset", 0.0, MAX_NOTE_SECONDS)
        offset = f.number("offset", 0.0, MAX_NOTE_SECONDS)
        if offset <= onset:
            raise f.fail("offset", f"must be after the onset ({offset:g} <= {onset:g})")
        note_id = f.integer("id", 1, MAX_NOTE_ID)
        if note_id in seen:
            raise f.fail("id", f"repeats id {note_id}")
        seen.add(note_id)
        notes.append(NoteEvent(
            onset, offset, f.integer("pitch", 0, 127), f.integer("velocity", 1, 127, 80),
            id=note_id, confidence=f.number("confidence", 0.0, 1.0, 1.0),
        ))
    reserve_note_ids(max(seen, default=0))
    return notes


def read_edits(name: str, f: Fields) -> tuple[list[dict[str, Any]], int]:
    """The undo history: a list of edit objects (opaque here) and the index of the next redo."""
    edits = f.array("edits", MAX_EDITS)
    for i, edit in enumerate(edits):
        if not isinstance(edit, dict):
            raise ProjectError(f"{name}: {f.where}.edits[{i}] must be an object")
    index = f.integer("index", 0, len(edits), len(edits))
    return edits, index


def audio_path_text(f: Fields, key: str) -> str:
    """A referenced recording's path: text, not too long, with an audio file suffix."""
    text = f.string(key, MAX_PATH_CHARS)
    suffix = "." + text.rsplit(".", 1)[-1].lower() if "." in text else ""
    if not text or suffix not in AUDIO_SUFFIXES:
        raise f.fail(key, f"must name an audio file ({', '.join(sorted(AUDIO_SUFFIXES))})")
    return text
