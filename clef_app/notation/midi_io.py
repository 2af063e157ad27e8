"""Reading performance MIDI files into NoteEvents (mido; tempo map honoured)."""

from __future__ import annotations

from pathlib import Path

import mido

from clef_app.notation.events import (
    MAX_NOTE_SECONDS,
    NoteEvent,
    NotesError,
    check_note_count,
    check_note_file_size,
    check_note_time,
    sort_notes,
)

MAX_MIDI_BYTES = 4 * 2**20  # B: 200,000 notes take ~1.6 MB; mido holds every message


class MidiError(NotesError):
    """A MIDI file that cannot be read; the message names it and why."""


def read_midi_notes(path: str | Path) -> list[NoteEvent]:
    """Every note of every track and channel (drums excluded), times in seconds.

    Bounded like every note file (notation.events): at most MAX_MIDI_BYTES bytes,
    MAX_NOTES notes, times within MAX_NOTE_SECONDS.

    Raises:
        MidiError: the file is missing, not a valid Standard MIDI File, or out of bounds.
    """
    path = Path(path)
    try:
        check_note_file_size(path, MAX_MIDI_BYTES)
        midi = mido.MidiFile(str(path))
        messages = list(midi)  # merged tracks, delta times in seconds via the tempo map
    except NotesError as exc:
        raise MidiError(str(exc)) from exc
    except Exception as exc:  # mido raises assorted types for hostile files: all mean "bad"
        raise MidiError(f"{path.name}: not a readable MIDI file ({str(exc)[:160]})") from exc
    try:
        return sort_notes(_notes(path.name, messages))
    except NotesError as exc:
        raise MidiError(str(exc)) from exc


def _notes(name: str, messages: list) -> list[NoteEvent]:
    now, notes = 0.0, []
    sounding: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for msg in messages:
        now += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == 9:
            continue
        check_note_time(name, f"a note at {now:.0f} s", now)
        key = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault(key, []).append((now, msg.velocity))
        elif sounding.get(key):
            onset, velocity = sounding[key].pop(0)
            if now > onset:
                notes.append(NoteEvent(onset, now, msg.note, velocity))
                check_note_count(name, len(notes))
    end = min(now, float(MAX_NOTE_SECONDS))
    for (_, pitch), starts in sounding.items():
        notes += [NoteEvent(onset, max(end, onset + 0.1), pitch, vel) for onset, vel in starts]
    check_note_count(name, len(notes))
    return notes
