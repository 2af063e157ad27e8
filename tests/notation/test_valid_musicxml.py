"""Every MusicXML Clef writes is valid MusicXML 4.0: checked against the XSD, with unique
ids, the user's title and composer (never music21's "Music21"), the tempo mark on the first
bar and a pickup numbered 0 and marked implicit, as MuseScore writes and reads it."""

from __future__ import annotations

import re
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
from music21 import metadata, meter, note, stream

from clef_app.notation.engrave import _unique_ids, to_mei, to_musicxml
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.export import export
from clef_app.notation.measures import Meter, split_span
from clef_app.notation.quality import PIECES, jitter, load_piece, play
from clef_app.notation.score import build_score, note_id_of

from .musescore import assert_musescore_opens, needs_mscore
from .musicxml_schema import assert_valid_musicxml, needs_xsd, schema_errors

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"


def upbeat_piece(bpm: float = 90.0) -> list[NoteEvent]:
    """A quarter upbeat, then bars of accented long bass notes on the downbeats."""
    spb = 60.0 / bpm
    melody = [(67, 0, 1)] + [(72 + (i % 3), 1 + i, 1) for i in range(12)]
    bass = [(48, 1 + 4 * b, 4) for b in range(3)]
    return [NoteEvent(0.3 + s * spb, 0.3 + (s + 0.9 * d) * spb, p, 90 if p == 48 else 70)
            for p, s, d in melody + bass]


def rubato_notes(seed: int, n: int = 300) -> list[NoteEvent]:
    """Random two-hand music on a 16th grid played with drifting tempo and loose timing:
    ties, off-beat spans and odd lengths of every kind."""
    rng = np.random.default_rng(seed)
    notes, t = [], 0.4
    for _ in range(n):
        step = rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 0.125, 1 / 3])
        spb = 0.5 * (1 + 0.25 * np.sin(t / 3.0))
        length = rng.choice([0.25, 0.5, 0.625, 1.0, 1.75, 2.5, 3.0]) * spb
        pitch = int(rng.integers(36, 90))
        on = t + rng.normal(0, 0.02)
        notes.append(NoteEvent(max(0.0, on), on + length, pitch, int(rng.integers(40, 100))))
        if rng.random() < 0.3:
            notes.append(NoteEvent(max(0.0, on), on + length * 0.7, pitch - 12 - int(
                rng.integers(0, 7)), 60))
        t += step * spb
    return notes


def note_ids(xml: str) -> list[str]:
    return re.findall(r'<note id="([^"]+)"', xml)


@needs_xsd
def test_the_schema_check_catches_a_duplicate_id():
    xml = to_musicxml(build_score(read_notes_tsv(DEMO)).score)
    assert_valid_musicxml(xml)
    first, second = note_ids(xml)[:2]
    broken = xml.replace(f'<note id="{second}"', f'<note id="{first}"', 1)
    assert any("xs:ID" in e for e in schema_errors(broken))


@needs_xsd
@pytest.mark.parametrize("seed", range(6))
def test_messy_performances_give_valid_musicxml_with_unique_ids(seed):
    r = build_score(rubato_notes(seed))
    xml = to_musicxml(r.score)
    ids = note_ids(xml)
    assert len(ids) == len(set(ids))
    assert_valid_musicxml(xml)
    assert all(note_id_of(i) is not None for i in ids)  # every id still names its note


@needs_xsd
@pytest.mark.parametrize("piece", PIECES[:12], ids=lambda p: p.work.rsplit("/", 1)[-1])
def test_corpus_pieces_played_with_rubato_give_valid_musicxml(piece):
    _, written, (_, bar), _, pickup = load_piece(piece)
    heard = jitter(play(written, piece, 1, bar, pickup), 1)
    assert_valid_musicxml(to_musicxml(build_score(heard).score))


@needs_xsd
@pytest.mark.parametrize("settings", [{"grid": "1/8"}, {"grid": "1/24", "meter": [(1, "6/8")]},
                                      {"meter": [(1, "3/4"), (5, "5/4")], "key": [(1, "Eb major")]},
                                      {"pickup": 0.5, "tempo": [(1, 70), (4, 140)]}])
def test_overrides_give_valid_musicxml(settings):
    r = build_score(rubato_notes(7, 120), settings)
    assert_valid_musicxml(to_musicxml(r.score))


@needs_xsd
def test_the_simple_baseline_gives_valid_musicxml():
    assert_valid_musicxml(to_musicxml(build_score(rubato_notes(3), {}, "simple").score))


def test_an_unwritable_span_off_the_beat_is_cut_where_it_meets_the_grid():
    four = Meter(4, 4)
    # 5/8 of a quarter from the fourth 32nd before the last beat's end: 32nd... then tied
    assert split_span(F(27, 8), F(4), four) == [F(27, 8), F(7, 2), F(4)]
    assert split_span(F(0), F(5, 8), four) == [F(0), F(1, 2), F(5, 8)]
    assert split_span(F(1, 8), F(1), four) == [F(1, 8), F(1, 2), F(1)]


def test_a_chord_tied_inside_a_bar_has_an_id_per_piece():
    # a chord from the last 16th-and-32nd of a bar: music21 would split it into two tied
    # pieces and copy its ids
    spb = 0.5
    notes = [NoteEvent(0.3 + b * spb, 0.3 + (b + 0.9) * spb, 60 + b % 5, 90 if b % 4 == 0
                       else 60) for b in range(16)]
    on = 0.3 + 3.375 * spb
    notes += [NoteEvent(on, on + 0.62 * spb, 40, 50), NoteEvent(on, on + 0.62 * spb, 44, 50)]
    r = build_score(notes, {"pickup": 0, "meter": [(1, "4/4")], "tempo": [(1, 120)]})
    ids = note_ids(to_musicxml(r.score))
    assert len(ids) == len(set(ids))


def test_repeated_ids_get_fresh_suffixes_that_still_name_their_note():
    from xml.etree.ElementTree import fromstring

    root = fromstring('<part id="P1"><note id="n5"/><note id="n5"/><note id="n5-2"/>'
                      '<note id="n5"/><midi-instrument id="I1"/><x id="I1"/></part>')
    _unique_ids(root)
    ids = [el.get("id") for el in root.iter() if el.tag == "note"]
    assert ids == ["n5", "n5-3", "n5-2", "n5-4"]
    assert {note_id_of(i) for i in ids} == {5}


def test_title_and_composer_are_the_users_in_musicxml_and_mei():
    notes = read_notes_tsv(DEMO)
    given = {"title": "Fürchtenmachen & <Kinderszenen>", "composer": "Robert Schumann"}
    r = build_score(notes, given)
    xml, mei = to_musicxml(r.score), to_mei(r.score)
    assert "<work-title>Fürchtenmachen &amp; &lt;Kinderszenen&gt;</work-title>" in xml
    assert '<creator type="composer">Robert Schumann</creator>' in xml
    assert "Music21" not in xml and "Music21" not in mei
    assert "<title>Fürchtenmachen &amp; &lt;Kinderszenen&gt;</title>" in mei
    assert '<persName role="composer">Robert Schumann</persName>' in mei


def test_without_a_title_or_composer_both_are_blank_not_music21():
    r = build_score(read_notes_tsv(DEMO))
    xml = to_musicxml(r.score)
    assert "Music21" not in xml and "<creator" not in xml
    assert "Music21" not in to_mei(r.score)
    # a score made elsewhere (no Clef metadata at all) gets no invented composer either
    s = stream.Score()
    part = stream.Part([meter.TimeSignature("4/4"), note.Note("C4", quarterLength=4)])
    s.insert(0, part)
    assert "Music21" not in to_musicxml(s)
    s.insert(0, metadata.Metadata(composer="Clara Wieck"))
    assert '<creator type="composer">Clara Wieck</creator>' in to_musicxml(s)


def test_the_piano_is_named_piano_then_pno():
    xml = to_musicxml(build_score(read_notes_tsv(DEMO)).score)
    assert "<part-name>Piano</part-name>" in xml
    assert "<part-abbreviation>Pno.</part-abbreviation>" in xml


def test_the_pickup_is_bar_0_implicit_and_carries_the_tempo_mark():
    r = build_score(upbeat_piece())
    assert r.timing.pickup == 1
    measures = r.score.parts[0].getElementsByClass(stream.Measure)
    assert measures[0].number == 0
    marks = [m.number for m in measures if m.getElementsByClass("MetronomeMark")]
    assert marks[0] == 0
    xml = to_musicxml(r.score)
    first = re.search(r"<measure [^>]*>", xml).group(0)
    assert 'number="0"' in first and 'implicit="yes"' in first
    pickup = xml[xml.index(first):xml.index("</measure>")]
    assert "<metronome" in pickup and "<sound tempo=" in pickup
    assert re.findall(r'<measure [^>]*implicit="yes"[^>]*>', xml) == [first]  # bar 1 is not


def test_without_a_pickup_the_tempo_mark_is_on_bar_1():
    r = build_score(read_notes_tsv(DEMO), {"pickup": 0})
    measures = r.score.parts[0].getElementsByClass(stream.Measure)
    assert measures[0].number == 1 and measures[0].getElementsByClass("MetronomeMark")
    assert 'implicit="yes"' not in to_musicxml(r.score)


@needs_mscore
@needs_xsd
def test_musescore_opens_the_exports_without_calling_them_invalid(tmp_path):
    for name, notes, settings in (("upbeat", upbeat_piece(), {"title": "Upbeat"}),
                                  ("messy", rubato_notes(1), {"composer": "Nobody"})):
        src = export(notes, settings, tmp_path / f"{name}.musicxml")
        assert_valid_musicxml(src.read_bytes())
        assert_musescore_opens(src, tmp_path)
