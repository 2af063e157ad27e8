"""Exports of large scores (issue 16): the MusicXML is written a chunk of bars at a time and
is the same document music21 writes in one call; a cancel acts inside the long stages of a
score's analysis and while Verovio works in its child process; progress comes steadily."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from clef_app.notation import engrave, score_xml, svg_pdf
from clef_app.notation.beaming import repair_beams
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.export import export_steps
from clef_app.notation.score import build_score
from clef_app.notation.steps import run_to_end

OPENING = Path(__file__).resolve().parents[1] / "data" / "opening.notes.tsv"
_RANDOM_IDS = re.compile(r'id="[PI][0-9a-f]{32}"')  # music21's part and instrument ids


def _piece(n_notes: int, seed: int = 16) -> list[NoteEvent]:
    """Dense two-hand piano texture: 16ths over triads, chromatic notes, some held over
    bar lines (ties, accidentals carried or not into the next bar)."""
    rng, notes, t = random.Random(seed), [], 0.0
    while len(notes) < n_notes:
        for k in range(4):
            on = t + k * 0.125 + rng.uniform(-0.01, 0.01)
            long = 0.6 if rng.random() < 0.1 else 0.11
            notes.append(NoteEvent(max(on, 0.0), on + long, rng.randint(62, 86)))
        root = rng.choice([36, 37, 39, 42, 43])
        notes += [NoteEvent(t, t + 0.48, p, 70) for p in (root, root + 4, root + 7)]
        t += 0.5
    return notes[:n_notes]


def _music21_in_one_call(score) -> str:
    """What Clef wrote before: music21's writer on a copy of the whole score (its beams
    repaired as in every chunk, `beaming.repair_beams`), then _tidy."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter, ScoreExporter

    exporter = GeneralObjectExporter(score)
    notated = exporter.fromGeneralObject(score)
    repair_beams(notated)
    writer = ScoreExporter(notated, makeNotation=True)
    writer.parse()
    md = score.metadata
    engrave._tidy(writer.xmlRoot, md.title or "", md.composer or "", "a4", engrave.PART_NAME)
    return writer.asBytes().decode("utf-8")


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_the_chunked_musicxml_is_what_music21_writes_in_one_call(monkeypatch, chunk):
    notes = _piece(900) + [n.moved(60.0) for n in read_notes_tsv(OPENING)]
    score = build_score(notes, {"title": "T", "composer": "C",
                                "key": [(1, "C major"), (9, "E- major")]}).score
    whole = _RANDOM_IDS.sub("", _music21_in_one_call(score))
    monkeypatch.setattr(score_xml, "CHUNK_BARS", chunk)
    chunked = _RANDOM_IDS.sub("", engrave.to_musicxml(score, "a4"))
    assert chunked.count("<measure ") == whole.count("<measure ") > 30
    assert chunked == whole


def test_a_large_export_reports_progress_often_and_stops_within_a_second(tmp_path):
    """Between two chances to stop (a yield or a `cancelled()` call) goes little CPU
    time, also inside beat tracking, quantisation and hands; a cancel in the last third
    ends the export at once and writes nothing."""
    notes = _piece(6000)
    calls: list[float] = []

    def cancelled() -> bool:
        calls.append(time.process_time())
        return False

    out = tmp_path / "big.musicxml"
    steps = export_steps(notes, {}, out, cancelled=cancelled)
    fractions = []
    while True:
        try:
            fractions.append(next(steps))
        except StopIteration as done:
            assert done.value == out
            break
        calls.append(time.process_time())
    gaps = sorted(b - a for a, b in zip(calls, calls[1:], strict=False))
    assert gaps[-1] < 0.5, gaps[-5:]  # CPU seconds (~3 % of wall time at this machine's load)
    assert fractions == sorted(fractions)
    assert len(fractions) > 30
    assert out.is_file()

    n_calls, asked = len(calls), []

    def cancel_late() -> bool:
        asked.append(time.perf_counter())
        return len(asked) > n_calls // 3  # in the score's analysis, between two yields

    steps = export_steps(notes, {}, tmp_path / "cancelled.musicxml", cancelled=cancel_late)
    with pytest.raises(StopIteration) as done:
        while True:
            next(steps)
    assert done.value.value is None
    assert time.perf_counter() - asked[n_calls // 3] < 1.0
    assert not (tmp_path / "cancelled.musicxml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.musicxml"]


def test_a_pdf_or_mei_export_stops_while_verovio_works(tmp_path):
    """The child engraving the score is polled: closing the steps (a cancel) while it
    works ends them, and the child, within a second."""
    xml = engrave.to_musicxml(build_score(_piece(3000)).score)
    for steps in (svg_pdf.pdf_steps(None, "a4", musicxml=xml), svg_pdf.mei_steps(xml)):
        started = time.perf_counter()
        assert next(steps) == 0.0  # nothing done yet: the child is still reading the score
        assert time.perf_counter() - started < 1.0
        started = time.perf_counter()
        steps.close()
        assert time.perf_counter() - started < 1.0


def test_the_mei_made_in_the_child_is_the_one_made_here():
    xml = engrave.to_musicxml(build_score(read_notes_tsv(OPENING)).score)
    value = run_to_end(svg_pdf.mei_steps(xml))
    here = engrave.musicxml_to_mei(xml)
    verovio_ids = re.compile(r'(xml:id="|"#)(?!n\d+(?:-\d+)?")[^"]*"')  # new each load
    head = re.compile(r"<meiHead.*</meiHead>", re.S)  # a time stamp

    def same(mei: str) -> str:
        return verovio_ids.sub(r'\1x"', head.sub("", mei))

    assert same(value) == same(here)
    assert 'meter.count="' in value and 'xml:id="n' in value


def test_a_pdf_shows_progress_as_each_page_is_drawn_and_converted():
    """Verovio's layout is one call that tells nothing; then each page drawn and each page
    converted is a step of progress (before, the pages were all drawn first, silently)."""
    import io

    from pypdf import PdfReader

    xml = engrave.to_musicxml(build_score(_piece(700)).score)
    fractions = []
    pdf = run_to_end(svg_pdf.pdf_steps(None, "a4", musicxml=xml), fractions.append)
    n = len(PdfReader(io.BytesIO(pdf)).pages)
    assert n >= 2
    assert fractions == sorted(fractions)
    assert set(fractions) >= {k / (2 * n) for k in range(1, 2 * n + 1)}, (n, sorted(set(fractions)))


def test_the_document_is_written_out_a_few_bars_at_a_time(monkeypatch):
    """Serialising the whole document was one step (some 10 s of CPU for the largest
    input); now a step every SERIALISE_BARS bars of each part, the same bytes (above)."""
    monkeypatch.setattr(score_xml, "SERIALISE_BARS", 2)
    score = build_score(_piece(200)).score
    steps, fractions = engrave.musicxml_steps(score), []
    while True:
        try:
            fractions.append(next(steps))
        except StopIteration as done:
            assert done.value.startswith("<?xml")
            break
    bars = len(score.parts[0].getElementsByClass("Measure"))
    late = [f for f in fractions if f > engrave.WRITTEN_SHARE]
    assert bars > 4 and len(late) >= bars  # two parts, a step every two bars of each
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
