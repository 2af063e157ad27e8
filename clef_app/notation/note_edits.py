"""The one edit vocabulary: every change a user makes to notes, as plain data (Qt-free).

The spectrogram and the score both edit through these functions, so an edit follows the
same rules and has the same undo name whichever view it was made in. Each takes the
document's notes (and, for score edits, its settings and the score built from them) and
the ids the user targets, and returns one `NoteEdit` or `SettingsEdit` for the document's
undo stack, or None when there is nothing to change. Written durations are in the
score's quarter notes and become seconds through the score's tempo map, so a note made a
half note sounds as long as a half note at the tempo where it stands.
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
from clef_app.notation.settings import check_tempo, with_override

MIN_SECONDS = 0.02  # s: no edit makes a note shorter
PITCH_RANGE = (0, 127)  # MIDI pitches
VELOCITY_RANGE = (1, 127)
VELOCITY_STEP = 5  # velocity per step (Alt+wheel, [ and ])

# the undo names, one per kind of edit, whichever view it is made in
ADD = "Add note"
DELETE = "Delete notes"
MOVE = "Move notes"
TRANSPOSE = "Transpose"
NUDGE = "Nudge"
RESIZE = "Resize notes"
VELOCITY = "Change velocity"
RESPELL = "Respell"
INSERT_REST = "Insert rest"
CONFIRM = "Mark as right"  # no change: the notes become the user's, kept by "Transcribe Again"


def _targets(notes: Sequence[NoteEvent], ids: Iterable[int]) -> list[NoteEvent]:
    wanted = set(ids)
    return [n for n in notes if n.id in wanted]


def _changed(text: str, old: Sequence[NoteEvent], new: Sequence[NoteEvent]
             ) -> NoteEdit | None:
    """One edit of the notes that changed (None when none did)."""
    pairs = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    if not pairs:
        return None
    return NoteEdit.replace(text, [a for a, _ in pairs], [b for _, b in pairs])


def add(note: NoteEvent) -> NoteEdit:
    """A new note (drawn, or added by a double-click)."""
    return NoteEdit.replace(ADD, (), (note,))


def confirm(notes: Sequence[NoteEvent], ids: Iterable[int]) -> NoteEdit | None:
    """Mark notes as right: nothing changes but whose they are (`notation.corrections`)."""
    old = _targets(notes, ids)
    return NoteEdit(CONFIRM, tuple(old), tuple(old)) if old else None


def delete(notes: Sequence[NoteEvent], ids: Iterable[int]) -> NoteEdit | None:
    old = _targets(notes, ids)
    return NoteEdit(DELETE, tuple(old), ()) if old else None


def transpose(notes: Sequence[NoteEvent], ids: Iterable[int], semitones: int) -> NoteEdit | None:
    """Pitch up or down (1 = a semitone, 12 = an octave); nothing moves if any note would
    leave the MIDI range, so a chord keeps its shape."""
    old = _targets(notes, ids)
    lo, hi = PITCH_RANGE
    if not old or not all(lo <= n.pitch + semitones <= hi for n in old):
        return None
    return _changed(TRANSPOSE, old, [n.moved(dpitch=semitones) for n in old])


def nudge(notes: Sequence[NoteEvent], ids: Iterable[int], seconds: float) -> NoteEdit | None:
    """Earlier or later in time; the earliest note stops at 0 s."""
    old = _targets(notes, ids)
    if not old:
        return None
    seconds = max(seconds, -min(n.onset for n in old))
    return _changed(NUDGE, old, [n.moved(seconds, 0) for n in old])


def move(notes: Sequence[NoteEvent], ids: Iterable[int], seconds: float, semitones: int
         ) -> NoteEdit | None:
    """A drag: time and pitch together, kept at or after 0 s and in the MIDI range."""
    old = _targets(notes, ids)
    if not old:
        return None
    seconds = max(seconds, -min(n.onset for n in old))
    lo, hi = PITCH_RANGE
    semitones = max(min(semitones, hi - max(n.pitch for n in old)),
                    lo - min(n.pitch for n in old))
    return _changed(MOVE, old, [n.moved(seconds, semitones) for n in old])


def resize(notes: Sequence[NoteEvent], ids: Iterable[int], seconds: float,
           shortest: float = MIN_SECONDS) -> NoteEdit | None:
    """Each note's end later (or earlier) by `seconds`, never shorter than `shortest`."""
    old = _targets(notes, ids)
    return _changed(RESIZE, old, [replace(n, offset=max(n.onset + shortest, n.offset + seconds))
                                  for n in old])


def velocity(notes: Sequence[NoteEvent], ids: Iterable[int], value: int | None = None,
             steps: int = 0) -> NoteEdit | None:
    """Set every note's velocity to `value`, or change it by `steps` of VELOCITY_STEP."""
    lo, hi = VELOCITY_RANGE
    old = _targets(notes, ids)
    new = [replace(n, velocity=int(min(hi, max(lo, value if value is not None
                                                 else n.velocity + VELOCITY_STEP * steps))))
           for n in old]
    return _changed(VELOCITY, old, new)


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
    return NoteEdit.replace(RESIZE, old, new) if old else None


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
    return NoteEdit.replace(RESIZE, old, new) if old else None


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
    return NoteEdit.replace(INSERT_REST, later, [n.moved(dt=dt) for n in later])


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
    return SettingsEdit(RESPELL, "spelling", old or None, new)


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
    bpm = check_tempo(bpm)  # the range every reader of settings accepts
    new = with_override(settings, "tempo", bar, bpm)["tempo"]
    return SettingsEdit(f"Tempo {bpm:g} from bar {bar}", "tempo", settings.get("tempo"), new)


def bar_of(result: ScoreResult, note_id: int) -> int:
    """The bar number where a note is written (1 if unknown)."""
    placed = result.placed.get(note_id)
    return result.bar_at(placed.note.start).number if placed else 1
