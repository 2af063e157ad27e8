"""MIDI in the recording's time (the default) and the score's MIDI: read back, the first
lines up with the notes at 10 ms; the second's beats land on the tracked beats."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
from mir_eval.transcription import precision_recall_f1_overlap

from clef_app.notation.beats import track_beats
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.export import export
from clef_app.notation.midi_export import PPQ
from clef_app.notation.midi_io import read_midi_notes
from clef_app.notation.score import build_score

ROOT = Path(__file__).resolve().parents[2]
DEMO_NOTES = ROOT / "resources" / "demo" / "demo.notes.tsv"


def onset_f1(truth: list[NoteEvent], got: list[NoteEvent], tolerance: float) -> float:
    def arrays(notes):
        return (np.array([[n.onset, n.offset] for n in notes]),
                440.0 * 2 ** ((np.array([n.pitch for n in notes]) - 69) / 12))

    (ri, rp), (ei, ep) = arrays(truth), arrays(got)
    return precision_recall_f1_overlap(ri, rp, ei, ep, onset_tolerance=tolerance,
                                       offset_ratio=None)[2]


def late_demo(seconds: float) -> list[NoteEvent]:
    """The demo's notes with `seconds` of silence before them, as in a real take."""
    return [n.moved(dt=seconds) for n in read_notes_tsv(DEMO_NOTES)]


def test_clef_export_writes_midi_in_the_recordings_time(tmp_path):
    notes = late_demo(3.37)
    tsv = _write_tsv(notes, tmp_path / "take.tsv")
    out = tmp_path / "take.mid"
    done = _clef("export", str(tsv), "-o", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    back = read_midi_notes(out)
    assert len(back) == len(notes)
    assert onset_f1(notes, back, 0.010) >= 0.99
    assert back[0].onset == pytest.approx(notes[0].onset, abs=0.002)  # the silence is kept


def _tick_seconds(midi: mido.MidiFile):
    """tick -> seconds through the file's tempo map."""
    changes = sorted((tick, m.tempo) for tick, m in _absolute(midi.tracks[0])
                     if m.type == "set_tempo")
    ticks = np.array([t for t, _ in changes], dtype=float)
    spt = np.array([us for _, us in changes], dtype=float) / 1e6 / midi.ticks_per_beat
    starts = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * spt[:-1])])

    def seconds(tick):
        i = np.searchsorted(ticks, tick, side="right") - 1
        return starts[i] + (tick - ticks[i]) * spt[i]
    return seconds


def _absolute(track):
    now = 0
    for m in track:
        now += m.time
        yield now, m


@pytest.mark.parametrize("silence", [0.0, 3.37])
def test_score_midi_starts_at_the_first_downbeat_and_follows_the_tracked_beats(
        tmp_path, silence):
    notes = late_demo(silence)
    result = build_score(notes, {})
    path = export(notes, {}, tmp_path / "score.mid", result, kind="midi_score")
    _check_score_midi(path, notes, result)


def test_clef_export_midi_score_writes_the_scores_midi(tmp_path):
    """`clef export --midi score`: the app's "MIDI (score)" from the command line."""
    notes = late_demo(3.37)
    tsv = _write_tsv(notes, tmp_path / "take.tsv")
    out = tmp_path / "score.mid"
    done = _clef("export", str(tsv), "-o", str(out), "--midi", "score")
    assert done.returncode == 0, done.stderr[-2000:]
    _check_score_midi(out, read_notes_tsv(tsv), build_score(read_notes_tsv(tsv), {}))
    refused = _clef("export", str(tsv), "-o", str(tmp_path / "x.musicxml"), "--midi", "score")
    assert refused.returncode == 2 and "--midi score" in refused.stderr
    assert not (tmp_path / "x.musicxml").exists()


def _write_tsv(notes: list[NoteEvent], path: Path) -> Path:
    path.write_text("".join(f"{n.onset}\t{n.offset}\t{n.pitch}\t{n.velocity}\n"
                            for n in notes))
    return path


def _clef(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "clef_app", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT)


def _check_score_midi(path: Path, notes: list[NoteEvent], result) -> None:
    """Tick 0 is a bar line at or before 0 s, the first downbeat at its time in the
    recording, every tracked beat within 50 ms, the notes quantised yet in place."""
    midi = mido.MidiFile(str(path))
    seconds = _tick_seconds(midi)
    first_on = min(t for t, m in _absolute(midi.tracks[1]) if m.type == "note_on")
    first_q = min(float(p.note.start) for p in result.placed.values())
    q_start = first_q - first_on / PPQ  # the score position of tick 0
    assert q_start <= float(result.tempo_map.to_quarters(0.0)) + 1e-6  # tick 0 is at 0 s
    assert (q_start / float(result.bars[0].meter.bar_quarters)).is_integer()  # a bar line
    downbeat = seconds((0.0 - q_start) * PPQ)
    assert downbeat == pytest.approx(float(result.tempo_map.to_seconds(0.0)), abs=0.05)
    beats = track_beats(notes)
    beat_q = result.tempo_map.to_quarters(beats)
    off = [abs(seconds((q - q_start) * PPQ) - b) for q, b in zip(beat_q, beats, strict=True)]
    assert max(off) < 0.050
    assert onset_f1(notes, read_midi_notes(path), 0.05) >= 0.8  # quantised, yet in place
