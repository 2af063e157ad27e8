"""Reading performance MIDI files into NoteEvents (mido; tempo map honoured)."""

from __future__ import annotations

from pathlib import Path

import mido

from clef_app.notation.events import NoteEvent, sort_notes


class MidiError(Exception):
    """A MIDI file that cannot be read; the message names it and why."""


def read_midi_notes(path: str | Path) -> list[NoteEvent]:
    """Every note of every track and channel (drums excluded), times in seconds.

    Raises:
        MidiError: the file is missing or not a valid Standard MIDI File.
    """
    path = Path(path)
    try:
        midi = mido.MidiFile(str(path))
        messages = list(midi)  # merged tracks, delta times in seconds via the tempo map
    except Exception as exc:
        raise MidiError(f"{path.name}: not a readable MIDI file ({exc})") from exc
    now, notes = 0.0, []
    sounding: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for msg in messages:
        now += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == 9:
            continue
        key = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault(key, []).append((now, msg.velocity))
        elif sounding.get(key):
            onset, velocity = sounding[key].pop(0)
            if now > onset:
                notes.append(NoteEvent(onset, now, msg.note, velocity))
    for (_, pitch), starts in sounding.items():
        notes += [NoteEvent(onset, max(now, onset + 0.1), pitch, vel) for onset, vel in starts]
    return sort_notes(notes)
