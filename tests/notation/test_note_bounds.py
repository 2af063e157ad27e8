"""Hostile note files (TSV, MIDI) and score settings: one shared bound (4 h, MAX_NOTES,
size), errors that name the file, settings range-checked where they are read."""

from __future__ import annotations

import time
from pathlib import Path

import mido
import pytest

from clef_app.cli import main
from clef_app.notation import events
from clef_app.notation.events import (
    MAX_NOTE_SECONDS,
    MAX_NOTES,
    NotesError,
    read_notes_tsv,
)
from clef_app.notation.midi_io import MidiError, read_midi_notes
from clef_app.notation.settings import MAX_BAR, ScoreSettings

HEADER = "onset_s\toffset_s\tmidi_pitch\tvelocity\n"


def tsv(tmp_path: Path, body: str, name: str = "notes.tsv", **kw) -> Path:
    path = tmp_path / name
    path.write_text(body, **kw)
    return path


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tsv(tmp_path, HEADER + "0.5\t1.0\t60\t80\n", encoding="utf-8-sig")
    assert [(n.onset, n.pitch) for n in read_notes_tsv(path)] == [(0.5, 60)]


@pytest.mark.parametrize(("body", "needle"), [
    ("0\t1\t60\t" + "9" * 200_000 + "\n", "not a notes table"),  # > csv's field limit
    ("0\t1\tC4\n", "not a number"),
    ("0\t1\n", "expected onset, offset and pitch"),
    ("nan\t1\t60\n", "times must lie"),
    ("0\tinf\t60\n", "times must lie"),
    (f"0\t{MAX_NOTE_SECONDS + 1}\t60\n", "times must lie"),
    ("-1\t1\t60\n", "times must lie"),
    ("0\t1\t500\n", "pitch must lie"),
    ("0\t1\t60\tnan\n", "pitch must lie"),
])
def test_a_bad_row_is_a_notes_error_naming_the_file(tmp_path, body, needle):
    path = tsv(tmp_path, HEADER + body, name="take 3.tsv")
    with pytest.raises(NotesError, match=needle) as caught:
        read_notes_tsv(path)
    assert str(caught.value).startswith("take 3.tsv: ")


def test_text_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"0\t1\t60\t80 \xe9\xff\n")
    with pytest.raises(NotesError, match="not UTF-8"):
        read_notes_tsv(path)


def test_an_oversized_table_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.tsv"
    with open(path, "wb") as f:
        f.truncate(events.MAX_NOTE_FILE_BYTES + 1)  # sparse: no time spent writing it
    started = time.perf_counter()
    with pytest.raises(NotesError, match="MiB"):
        read_notes_tsv(path)
    assert time.perf_counter() - started < 1.0


def test_more_notes_than_the_shared_bound_are_refused(tmp_path):
    rows = "".join(f"{i * 0.05:.2f}\t{i * 0.05 + 0.04:.2f}\t{21 + i % 88}\n"
                   for i in range(MAX_NOTES + 1))
    path = tsv(tmp_path, rows)
    with pytest.raises(NotesError, match=f"{MAX_NOTES:,}"):
        read_notes_tsv(path)


def midi_file(path: Path, notes: list[tuple[float, float, int]]) -> Path:
    """A type-0 MIDI file at 120 bpm, 480 ticks a quarter, of (onset s, offset s, pitch)."""
    mf = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mf.tracks.append(track)
    events_ = sorted([(on, "note_on", p) for on, _, p in notes]
                     + [(off, "note_off", p) for _, off, p in notes])
    now = 0
    for t, kind, pitch in events_:
        tick = int(round(mido.second2tick(t, 480, 500_000)))
        track.append(mido.Message(kind, note=pitch, velocity=64, time=tick - now))
        now = tick
    mf.save(path)
    return path


def test_a_midi_note_at_a_million_seconds_is_refused_at_once(tmp_path):
    path = midi_file(tmp_path / "far.mid", [(1_000_000.0, 1_000_001.0, 60)])
    assert path.stat().st_size < 64
    with pytest.raises(MidiError, match="far.mid: .*0..14400 s"):
        read_midi_notes(path)


def test_midi_with_more_notes_than_the_bound_is_refused(tmp_path, monkeypatch):
    path = midi_file(tmp_path / "many.mid", [(0.1 * i, 0.1 * i + 0.05, 60) for i in range(30)])
    assert len(read_midi_notes(path)) == 30
    monkeypatch.setattr(events, "MAX_NOTES", 29)
    with pytest.raises(MidiError, match="more than 29 notes"):
        read_midi_notes(path)


def test_an_oversized_midi_file_is_refused_before_mido_reads_it(tmp_path):
    from clef_app.notation.midi_io import MAX_MIDI_BYTES

    path = tmp_path / "big.mid"
    with open(path, "wb") as f:
        f.write(b"MThd")
        f.truncate(MAX_MIDI_BYTES + 1)
    with pytest.raises(MidiError, match="big.mid: .*MiB"):
        read_midi_notes(path)


def test_export_of_the_far_midi_ends_at_once_with_one_line(tmp_path, capsys):
    path = midi_file(tmp_path / "far.mid", [(0.0, 0.5, 60), (1_000_000.0, 1_000_001.0, 60)])
    started = time.perf_counter()
    assert main(["export", str(path), "-o", str(tmp_path / "far.musicxml")]) == 2
    assert time.perf_counter() - started < 5
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "far.mid" in lines[0]


@pytest.mark.parametrize(("settings", "needle"), [
    ({"tempo": [(10**18, 90.0)]}, "bars are numbered"),
    ({"tempo": [(0, 90.0)]}, "bars are numbered"),
    ({"meter": [(1, "100000/1")]}, "not supported"),
    ({"meter": [(1, "3/5")]}, "not supported"),
    ({"meter": [(MAX_BAR + 1, "3/4")]}, "bars are numbered"),
    ({"tempo": [(1, 0)]}, "10..400"),
    ({"tempo": [(1, 401)]}, "10..400"),
    ({"tempo": [(1, float("nan"))]}, "10..400"),
    ({"tempo_bpm": 0}, "10..400"),
    ({"pickup": -1}, "pickup"),
    ({"pickup": 100}, "pickup"),
    ({"split": 500}, "split"),
    ({"grid": "1/7"}, "grid"),
])
def test_score_settings_out_of_range_are_refused(settings, needle):
    with pytest.raises(ValueError, match=needle):
        ScoreSettings.from_dict(settings)


def test_settings_within_range_are_read():
    s = ScoreSettings.from_dict({"tempo": [(1, 10), (MAX_BAR, 400)], "meter": [(1, "32/16")],
                                 "pickup": 1, "split": 60})
    assert s.tempo == ((1, 10.0), (MAX_BAR, 400.0)) and s.meter == ((1, "32/16"),)


def test_the_longest_span_builds_in_bounded_time_with_progress():
    """Two notes 4 hours apart (the widest accepted input: 13,000 bars) build their score
    with steady progress; it took 38 s and said nothing, and notes everywhere in it were
    quadratic in places (each beat's onsets, written lengths, voice cuts)."""
    from clef_app.notation.events import NoteEvent
    from clef_app.notation.score import build_score_steps
    from clef_app.notation.steps import run_to_end

    notes = [NoteEvent(0.0, 0.5, 60), NoteEvent(MAX_NOTE_SECONDS - 1.0, MAX_NOTE_SECONDS, 62)]
    fractions, started = [], time.process_time()  # CPU time: the machine may be busy
    result = run_to_end(build_score_steps(notes, {}), fractions.append)
    assert time.process_time() - started < 60  # ~15 s of CPU on this 2-core machine
    assert len(result.bars) > 10_000
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(fractions) > 200  # a report every 50 bars written


def test_a_score_build_stops_when_its_consumer_does():
    from clef_app.notation.events import NoteEvent
    from clef_app.notation.score import build_score_steps

    notes = [NoteEvent(0.5 * i, 0.5 * i + 0.4, 60 + i % 5) for i in range(2000)]
    steps = build_score_steps(notes, {})
    seen = [next(steps) for _ in range(5)]
    steps.close()  # what a cancelled worker does between steps
    assert seen == sorted(seen) and seen[-1] < 1.0
    with pytest.raises(StopIteration):
        next(steps)
