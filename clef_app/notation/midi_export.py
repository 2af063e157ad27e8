"""Two MIDI files of the same notes: as played, and as written.

- `performance_midi_bytes`: the notes in the recording's time (a fixed tempo, so a tick is
  always the same fraction of a second). Dropped into a DAW beside the audio, every note
  sits where it sounds; this is what Basic Pitch and NeuralNote write.
- `score_midi_bytes`: the quantised score. Its bar lines are the score's, and a tempo
  event at every tracked beat puts each beat where it was played; tick 0 is a bar line at
  or before the recording's start, so the first downbeat lands at its time in the
  recording, not at 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

import mido
import numpy as np

from clef_app.notation.events import NoteEvent

PPQ = 960  # ticks per quarter note
PERFORMANCE_TEMPO = 500_000  # µs per quarter (120 bpm): one tick = 1/1920 s
MAX_TEMPO = 0xFFFFFF  # µs per quarter: the largest a set_tempo event holds (16.7 s)


def performance_midi_bytes(notes: Sequence[NoteEvent]) -> bytes:
    """A Standard MIDI File (type 1) of the notes at their times in the recording."""
    ticks_per_s = PPQ * 1e6 / PERFORMANCE_TEMPO
    conductor = [mido.MetaMessage("set_tempo", tempo=PERFORMANCE_TEMPO, time=0)]
    played = [(round(n.onset * ticks_per_s), max(round(n.offset * ticks_per_s),
                                                 round(n.onset * ticks_per_s) + 1),
               n.pitch, n.velocity) for n in notes]
    return _smf(conductor, _note_track(played))


def score_midi_bytes(result) -> bytes:
    """A Standard MIDI File of a built score (`notation.score.ScoreResult`): its quantised
    notes, its meters, and a tempo map through the tracked beats."""
    tmap, bars = result.tempo_map, result.bars
    bar_q = float(bars[0].meter.bar_quarters) if bars else 4.0
    q_start = _start_quarter(tmap, bar_q)

    def tick(q: float | Fraction) -> int:
        return round((float(q) - q_start) * PPQ)

    conductor: list[tuple[int, mido.MetaMessage]] = []
    for q, us in _tempo_changes(tmap, q_start):
        conductor.append((tick(q), mido.MetaMessage("set_tempo", tempo=us)))
    meter = None
    for bar in bars:
        if bar.number >= 1 and bar.meter != meter:
            meter = bar.meter
            at = 0 if bar.number == 1 else tick(bar.start)
            conductor.append((at, mido.MetaMessage(
                "time_signature", numerator=meter.numerator, denominator=meter.denominator)))
    for first_bar, name in result.keys:
        at = 0 if first_bar <= 1 else tick(result.timing.bar_start(first_bar))
        conductor.append((at, mido.MetaMessage("key_signature", key=_mido_key(name))))
    written = [(tick(p.note.start), max(tick(p.note.end), tick(p.note.start) + 1),
                p.note.pitch, p.note.velocity) for p in result.placed.values()]
    return _smf(_delta(conductor), _note_track(written))


def _mido_key(name: str) -> str:
    """'F# minor' -> 'F#m', 'B- major' -> 'Bb' (mido's key names)."""
    from clef_app.notation.keys import parse_key

    k = parse_key(name)
    tonic = k.tonic.name.replace("-", "b")
    return tonic + ("m" if k.mode == "minor" else "")


def _start_quarter(tmap, bar_q: float) -> float:
    """The score position of tick 0: a bar line at or before 0 s, early enough that the
    tempo up to the first tracked beat fits in a set_tempo event."""
    q0 = float(tmap.to_quarters(0.0))
    start = np.floor(q0 / bar_q + 1e-9) * bar_q
    s1, q1 = float(tmap.seconds[0]), float(tmap.quarters[0])
    while s1 > 0 and q1 > start and s1 * 1e6 / (q1 - start) > MAX_TEMPO:
        start -= bar_q
    return float(start)


def _tempo_changes(tmap, q_start: float) -> list[tuple[float, int]]:
    """(score position, µs per quarter) at tick 0 and at every anchor of the tempo map."""
    s, q = np.asarray(tmap.seconds, float), np.asarray(tmap.quarters, float)
    out: list[tuple[float, int]] = []
    if s[0] > 0 and q[0] > q_start:  # silence (and a pickup) before the first tracked beat
        out.append((q_start, _us(s[0] / (q[0] - q_start))))
    elif q[0] > q_start:
        out.append((q_start, _us((s[1] - s[0]) / (q[1] - q[0]))))
    for i in range(len(s) - 1):
        if q[i] >= q_start:
            out.append((q[i], _us((s[i + 1] - s[i]) / (q[i + 1] - q[i]))))
    return out


def _us(seconds_per_quarter: float) -> int:
    return int(np.clip(round(seconds_per_quarter * 1e6), 1, MAX_TEMPO))


def _note_track(notes: Iterable[tuple[int, int, int, int]]) -> list[mido.Message]:
    """(on tick, off tick, pitch, velocity) -> a track; a note_off sorts before a note_on
    at the same tick, so a repeated key is not cut short."""
    events = []
    for on, off, pitch, velocity in notes:
        v = int(np.clip(velocity, 1, 127))
        events.append((max(on, 0), 1, mido.Message("note_on", note=pitch, velocity=v)))
        events.append((max(off, 1), 0, mido.Message("note_off", note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    return _delta([(t, m) for t, _, m in events])


def _delta(events: list[tuple[int, mido.Message]]) -> list[mido.Message]:
    out, now = [], 0
    for t, msg in sorted(events, key=lambda e: e[0]):
        out.append(msg.copy(time=max(0, t - now)))
        now = max(now, t)
    return out


def _smf(conductor: list, notes: list) -> bytes:
    import io

    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    midi.tracks.append(mido.MidiTrack(conductor))
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="Piano"),
                                       mido.Message("program_change", program=0), *notes]))
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()
