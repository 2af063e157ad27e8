"""Edits made in the score, as plain-data document edits (Qt-free).

Each function takes the document's notes and score settings, the ids the user targets
and the score built from them, and returns one `NoteEdit` or `SettingsEdit` (or None
when there is nothing to change) for the document's undo stack. Durations are in the
score's quarter notes and become seconds through the score's tempo map, so a note made
a half note sounds as long as a half note at the tempo where it stands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from fractions import Fraction

from music21 import pitch as m21pitch

from clef_app.notation.edits import NoteEdit, SettingsEdit
from clef_app.notation.events import NoteEvent
from clef_app.notation.keys import parse_key
from clef_app.notation.measures import Meter
from clef_app.notation.score import ScoreResult, written_pitch
from clef_app.notation.settings import with_override

MIN_SECONDS = 0.02  # s: no edit makes a note shorter


def _targets(notes: Sequence[NoteEvent], ids: Iterable[int]) -> list[NoteEvent]:
    wanted = set(ids)
    return [n for n in notes if n.id in wanted]


def transpose(notes: Sequence[NoteEvent], ids: Iterable[int], semitones: int) -> NoteEdit | None:
    """Pitch up or down (1 = a semitone, 12 = an octave); notes stay in the MIDI range."""
    old = [n for n in _targets(notes, ids) if 0 <= n.pitch + semitones <= 127]
    if not old or semitones == 0:
        return None
    word = "up" if semitones > 0 else "down"
    text = f"Pitch {word}" if abs(semitones) == 1 else f"Transpose {semitones:+d}"
    return NoteEdit.replace(text, old, [n.moved(dpitch=semitones) for n in old])


def delete(notes: Sequence[NoteEvent], ids: Iterable[int]) -> NoteEdit | None:
    old = _targets(notes, ids)
    return NoteEdit("Delete notes", tuple(old), ()) if old else None


def set_length(
    notes: Sequence[NoteEvent], ids: Iterable[int], quarters: Fraction, result: ScoreResult
) -> NoteEdit | None:
    """Give the notes a written length (in quarter notes) from where they are written."""
    tm = result.tempo_map
    old, new = [], []
    for n in _targets(notes, ids):
        placed = result.placed.get(n.id)
        if placed is None:
            continue
        start = placed.note.start
        end_s = float(tm.to_seconds(float(start + quarters)))
        offset = max(n.onset + MIN_SECONDS, end_s)
        if abs(offset - n.offset) > 1e-6:
            old.append(n)
            new.append(replace(n, offset=offset))
    return NoteEdit.replace("Change duration", old, new) if old else None


def scale_length(
    notes: Sequence[NoteEvent], ids: Iterable[int], factor: Fraction, result: ScoreResult
) -> NoteEdit | None:
    """Halve, double or dot (factor 3/2) each note's written length."""
    edits = []
    for n in _targets(notes, ids):
        placed = result.placed.get(n.id)
        if placed is not None:
            edits.append(set_length([n], [n.id], placed.note.length * factor, result))
    old = [n for e in edits if e for n in e.removed]
    new = [n for e in edits if e for n in e.added]
    return NoteEdit.replace("Change duration", old, new) if old else None


def insert_rest(
    notes: Sequence[NoteEvent], ids: Iterable[int], result: ScoreResult,
    quarters: Fraction | None = None,
) -> NoteEdit | None:
    """A rest before the first target note: it and every later note move later.

    The rest is `quarters` long, or as long as the first target note is written.
    """
    targets = [n for n in _targets(notes, ids) if n.id in result.placed]
    if not targets:
        return None
    first = min(targets, key=lambda n: (result.placed[n.id].note.start, n.onset))
    start = result.placed[first.id].note.start
    length = quarters if quarters is not None else result.placed[first.id].note.length
    t0, t1 = (float(x) for x in result.tempo_map.to_seconds([float(start), float(start + length)]))
    dt = t1 - t0
    later = [n for n in notes if n.onset >= first.onset - 1e-6]
    return NoteEdit.replace("Insert rest", later, [n.moved(dt=dt) for n in later])


def respell(
    settings: dict, ids: Iterable[int], result: ScoreResult
) -> SettingsEdit | None:
    """The next enharmonic spelling of each target note (F# -> G-flat -> E## ...)."""
    old = dict(settings.get("spelling") or {})
    new = dict(old)
    for nid in ids:
        placed = result.placed.get(nid)
        if placed is None:
            continue
        current = written_pitch(result, placed.note, settings)
        options = _enharmonics(current)
        nxt = options[(options.index(current.name) + 1) % len(options)]
        new[str(nid)] = nxt
    if new == old:
        return None
    return SettingsEdit("Respell", "spelling", old or None, new)


def _enharmonics(p: m21pitch.Pitch) -> list[str]:
    """Spellings of p's pitch class with at most a double accidental, current one first."""
    names = [p.name] + [e.name for e in p.getAllCommonEnharmonics(alterLimit=2)]
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def set_meter_from(settings: dict, bar: int, meter: str) -> SettingsEdit:
    """The time signature from `bar` on (raises ValueError for an unusable meter)."""
    Meter.parse(meter)
    new = with_override(settings, "meter", bar, meter)["meter"]
    return SettingsEdit(f"Time signature {meter} from bar {bar}", "meter",
                        settings.get("meter"), new)


def set_key_from(settings: dict, bar: int, key_name: str) -> SettingsEdit:
    """The key from `bar` on (raises ValueError for an unknown key)."""
    parse_key(key_name)
    new = with_override(settings, "key", bar, key_name)["key"]
    return SettingsEdit(f"Key {key_name} from bar {bar}", "key", settings.get("key"), new)


def set_tempo_from(settings: dict, bar: int, bpm: float) -> SettingsEdit:
    """Quarter notes per minute from `bar` on."""
    if not 10 <= bpm <= 400:
        raise ValueError(f"tempo {bpm}: expected 10-400 quarter notes per minute")
    new = with_override(settings, "tempo", bar, float(bpm))["tempo"]
    return SettingsEdit(f"Tempo {bpm:g} from bar {bar}", "tempo", settings.get("tempo"), new)


def bar_of(result: ScoreResult, note_id: int) -> int:
    """The bar number where a note is written (1 if unknown)."""
    placed = result.placed.get(note_id)
    return result.bar_at(placed.note.start).number if placed else 1
