"""Compound meters: 6/8, 9/8, 12/8 and 3/8 estimated from performances of corpus pieces."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from music21 import converter, stream

from clef_app.notation.engrave import engrave, to_musicxml
from clef_app.notation.events import NoteEvent
from clef_app.notation.measures import Meter
from clef_app.notation.quality import Piece, evaluate_piece, jitter, load_piece, play
from clef_app.notation.score import build_score

from .musescore import assert_musescore_opens, needs_mscore

JIG = Piece("ryansMammoth/GarryOwenJig.abc", 16, 170)  # 6/8, never in the training data


def performed(piece: Piece, seed: int = 0) -> list[NoteEvent]:
    _, written, (_, bar), _, pickup = load_piece(piece)
    return jitter(play(written, piece, seed, bar, pickup), seed)


@pytest.mark.parametrize("piece, meter", [
    (Piece("mozart/k458/movement1.mxl", 12, 160), "6/8"),
    (Piece("schumann_robert/opus41no1/movement2.mxl", 8, 110), "6/8"),  # eighths tracked
    (Piece("mozart/k458/movement1.mxl", 12, 70), "6/8"),  # slow: eighths tracked too
    (Piece("ryansMammoth/CockAndTheHenJig.abc", 12, 170), "9/8"),
    (Piece("beethoven/opus18no1/movement2.mxl", 6, 100), "9/8"),  # quarters tracked
    (Piece("bach/bwv248.23-2.mxl", 6, 84), "12/8"),
    (Piece("mozart/k156/movement1.mxl", 16, 130), "3/8"),
])
def test_compound_meter_of_a_corpus_piece(piece, meter):
    score = evaluate_piece(piece, "auto", oracle=True, seed=0)
    assert score.meter == f"{meter}/{meter}" and score.meter_ok  # bar lines in place too
    assert score.onset > 0.8  # eighths written as eighths, not as quarters (then < 0.1)


def test_simple_meters_stay_simple_in_the_original_set():
    for work, bars, bpm, meter in [("bach/bwv57.8.mxl", 10, 90, "3/4"),
                                   ("mozart/k156/movement4.mxl", 8, 100, "4/4")]:
        score = evaluate_piece(Piece(work, bars, bpm), "auto", oracle=True, seed=0)
        assert score.meter == f"{meter}/{meter}" and score.onset > 0.9


def test_6_8_is_written_in_dotted_quarter_beats_beamed_in_threes(tmp_path):
    result = build_score(performed(JIG))
    assert str(result.timing.meters[0][1]) == "6/8"
    assert result.timing.beat_quarters == F(3, 2)
    back = converter.parseData(to_musicxml(result.score), format="musicxml")
    assert back.recurse().getElementsByClass("TimeSignature")[0].ratioString == "6/8"
    mark = back.recurse().getElementsByClass("MetronomeMark")[0]
    assert mark.referent.quarterLength == 1.5 and 100 <= mark.number <= 130  # 170 / 1.5
    groups = beamed_groups(back.parts[0])
    eighths = [g for g in groups if all(d == 0.5 for d in g)]
    assert len(eighths) > 10 and all(len(g) == 3 for g in eighths)
    # no beam crosses the middle of a 6/8 bar
    for m in back.parts[0].getElementsByClass(stream.Measure):
        for n in m.flatten().notes:
            if n.offset < 1.5 < n.offset + n.quarterLength:
                assert n.offset == 0 and n.quarterLength >= 3 or n.tie is not None
    assert engrave(result.score).pages  # Verovio lays it out


def beamed_groups(part) -> list[list[float]]:
    """Quarter lengths of the notes of each beamed group, in order."""
    groups, current = [], []
    for n in part.flatten().notes:
        types = n.beams.getTypes() if n.beams else []
        if types and types[0] in ("start", "continue", "stop"):
            current.append(float(n.quarterLength))
            if types[0] == "stop":
                groups.append(current)
                current = []
    return groups


@needs_mscore
def test_musescore_reads_the_6_8_export(tmp_path):
    src = tmp_path / "jig.musicxml"
    src.write_text(to_musicxml(build_score(performed(JIG)).score))
    assert_musescore_opens(src, tmp_path)


def test_user_6_8_is_kept_when_the_beats_tracked_are_quarters():
    # quarter-eighth patterns at quarter = 120: the tracker follows quarters
    notes, t = [], 0.3
    for bar in range(8):
        for k, (length, pitch) in enumerate([(2, 72), (1, 74), (2, 76), (1, 71)]):
            spe = 0.25  # s per eighth
            notes.append(NoteEvent(t, t + 0.9 * length * spe, pitch + bar % 2,
                                   90 if k == 0 else 70))
            t += length * spe
    result = build_score(notes, {"meter": [(1, "6/8")]})
    assert [str(b.meter) for b in result.bars[:2]] == ["6/8", "6/8"]
    starts = sorted({p.note.start % 3 for p in result.placed.values()})
    assert starts == [0, 1, F(3, 2), F(5, 2)]  # quarter-eighth, quarter-eighth in every bar


def test_meter_3_8_is_one_dotted_quarter_beat():
    assert Meter.parse("3/8").compound and Meter.parse("3/8").beat_quarters == F(3, 2)
    assert not Meter.parse("3/4").compound and Meter.parse("12/8").half_bar == 3
