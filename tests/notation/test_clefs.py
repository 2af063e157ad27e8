"""Clefs: the fewest ledger lines, and a change of clef only for a passage that gains."""

from __future__ import annotations

from pathlib import Path

from music21 import clef

from clef_app.notation.clefs import BASS, TREBLE, choose_clefs, ledger_lines
from clef_app.notation.events import read_notes_tsv
from clef_app.notation.score import build_score

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"


def test_ledger_lines_count_like_an_engraver():
    # treble: middle C one line below, A3 two; A5 one above, C6 two
    assert [ledger_lines(p, TREBLE) for p in (62, 60, 59, 57, 79, 81, 84)] == [0, 1, 1, 2, 0, 1, 2]
    # bass: middle C one line above, E4 two, E2 one below; a sharp sits on its natural
    assert [ledger_lines(p, BASS) for p in (57, 60, 64, 40, 61)] == [0, 1, 2, 1, 1]


def test_a_staff_keeps_its_clef_through_a_single_stray_note():
    bars = [[48, 55, 52]] * 4 + [[76]] + [[48, 52]] * 4
    assert choose_clefs(bars, BASS) == [BASS] * 9


def test_a_passage_that_climbs_changes_clef_and_back():
    bars = [[48, 55, 52]] * 4 + [[67, 72, 76, 79]] * 4 + [[48, 43]] * 4
    assert choose_clefs(bars, BASS) == [BASS] * 4 + [TREBLE] * 4 + [BASS] * 4


def test_an_empty_staff_keeps_its_own_clef():
    assert choose_clefs([[]] * 3, TREBLE) == [TREBLE] * 3
    assert choose_clefs([[]] * 3, BASS) == [BASS] * 3
    assert choose_clefs([], BASS) == []


def test_the_demo_left_hand_opens_in_treble_then_goes_down_to_bass():
    """K.545: the Alberti figure round middle C reads in treble clef (three ledger lines per
    G4 in bass), and the left hand's lower bars that follow return to bass clef."""
    lower = build_score(read_notes_tsv(DEMO)).score.parts[1]
    shown = [(m.number, type(c).__name__) for m in lower.getElementsByClass("Measure")
             for c in m.getElementsByClass(clef.Clef)]
    assert shown[0] == (1, "TrebleClef")
    assert (5, "BassClef") in shown
    assert all(a[1] != b[1] for a, b in zip(shown, shown[1:], strict=False))  # only changes
