"""Clefs: the fewest ledger lines, and a change of clef only for a passage that gains."""

from __future__ import annotations

import itertools
from pathlib import Path

from music21 import clef

from clef_app.notation.clefs import (
    BASS,
    MIN_RUN,
    TREBLE,
    choose_clefs,
    ledger_lines,
    min_run_bars,
)
from clef_app.notation.events import NoteEvent, read_notes_tsv
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


def test_a_clef_once_set_holds_for_min_run_bars():
    # two low bars in a treble staff are worth a change, but not a change back after one
    bars = [[72, 76]] * 3 + [[40, 43, 45, 41]] * 2 + [[50, 47]] + [[74, 77]] * 4
    out = choose_clefs(bars, TREBLE)
    runs = [len(list(g)) for _, g in itertools.groupby(out)]
    assert all(r >= MIN_RUN for r in runs[:-1]), out


def test_a_bar_a_note_is_tied_into_keeps_the_clef():
    bars = [[48, 55, 52]] * 4 + [[67, 72, 76, 79]] * 4 + [[48, 43]] * 4
    assert choose_clefs(bars, BASS)[4] == TREBLE
    tied = [False] * 12
    tied[4] = True  # a bass note held from bar 4 into bar 5
    out = choose_clefs(bars, BASS, tied)
    assert out[3] == out[4] and out[5] == TREBLE


def test_no_clef_change_in_the_score_falls_inside_a_tied_note():
    """A left hand climbs for seven bars and comes back, a note tied over the bar line
    where each clef change would fall: the changes move to bars no tie crosses."""
    spb = 0.5
    notes = []
    for bar in range(14):
        high = 4 <= bar < 11
        for beat in range(4):
            t = 0.3 + (bar * 4 + beat) * spb
            notes.append(NoteEvent(t, t + 0.9 * spb, 76 + beat % 3, 90 if beat == 0 else 60))
            low = 67 + beat if high else 43 + beat
            notes.append(NoteEvent(t, t + 0.9 * spb, low, 80 if beat == 0 else 50))
    for bar in (4, 9):  # a note held from beat 3 over the bar line where the clef would change
        t = 0.3 + (bar * 4 + 2) * spb
        notes.append(NoteEvent(t, t + 3.9 * spb, 55, 70))
    r = build_score(notes, {"pickup": 0, "meter": [(1, "4/4")]})
    lower = r.score.parts[1]
    changes = [m.number for m in lower.getElementsByClass("Measure")
               if m.getElementsByClass(clef.Clef)][1:]
    assert changes, "the climb changes clef"
    for m in lower.getElementsByClass("Measure"):
        if m.number in changes:
            first = [n for n in m.flatten().notes if n.offset == 0]
            assert not any(n.tie is not None and n.tie.type in ("stop", "continue")
                           for n in first), f"bar {m.number} opens mid-tie in a new clef"


def test_the_hysteresis_is_a_stretch_of_music_not_a_count_of_bars():
    assert min_run_bars(4.0) == MIN_RUN and min_run_bars(2.0) == 2 * MIN_RUN
    # six bars of 2/4 are worth a bass clef in a 4/4 count of bars, not in 2/4's
    bars = [[40, 43, 45, 41]] * 6 + [[74, 77]] * 10
    assert choose_clefs(bars, TREBLE)[:6] == [BASS] * 6
    out = choose_clefs(bars, TREBLE, min_run=min_run_bars(2.0))
    runs = [len(list(g)) for _, g in itertools.groupby(out)]
    assert all(r >= 8 for r in runs[:-1]), out
