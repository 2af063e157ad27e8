"""The score on screen in segments of SEGMENT_BARS bars, each engraved on its own.

An edit changes a bar or two; engraving only the segments whose bars changed (compared
by `segment_signature`) keeps the score on screen up to date without exporting and
laying out the whole piece again (music21's MusicXML writer takes seconds for a
three-minute piece). Each segment is a small score of deep copies of its measures, the
first given the clefs, key and time signature in force there.
"""

from __future__ import annotations

import copy

from music21 import chord, clef, instrument, layout, meter, note, stream
from music21 import key as m21key

from clef_app.notation.engrave import PART_ABBREVIATION, SCREEN_OPTIONS, to_musicxml
from clef_app.notation.engrave_child import CHILD
from clef_app.notation.score import ScoreResult

SEGMENT_BARS = 4  # bars engraved together on screen (a system or two)
_CONTEXT = (clef.Clef, m21key.KeySignature, meter.TimeSignature)


def segment_ranges(n_bars: int) -> list[tuple[int, int]]:
    """[first, end) bar indices of each segment."""
    return [(a, min(a + SEGMENT_BARS, n_bars)) for a in range(0, n_bars, SEGMENT_BARS)]


def segment_of(bar_index: int) -> int:
    return bar_index // SEGMENT_BARS


def _measures(result: ScoreResult, a: int, b: int) -> list[list[stream.Measure]]:
    return [list(part.getElementsByClass(stream.Measure))[a:b] for part in result.score.parts]


def segment_signature(result: ScoreResult, a: int, b: int) -> str:
    """Everything a segment shows: its bars' notes, rests, ties, ids and signs, and the
    clefs, key and time signature in force where it starts."""
    out = []
    for measures in _measures(result, a, b):
        first = measures[0]
        for cls in _CONTEXT:
            here = first.getElementsByClass(cls)
            ctx = here[0] if here else first.getContextByClass(cls)
            out.append(repr(ctx))
        for m in measures:
            out.append(f"|{m.number}:{m.paddingLeft}")
            for el in m.recurse():
                if isinstance(el, stream.Stream):
                    continue
                pitches = ",".join(p.nameWithOctave for p in getattr(el, "pitches", ()))
                tie = el.tie.type if getattr(el, "tie", None) is not None else ""
                if isinstance(el, chord.Chord):
                    ids = ",".join(str(n.id) for n in el.notes)
                else:
                    ids = str(el.id) if isinstance(el, note.Note) else ""  # others: an address
                out.append(f"{type(el).__name__}@{el.offset}/{el.duration.quarterLength}"
                           f"[{pitches}]{tie}{ids}"
                           f"{'h' if el.style.hideObjectOnPrint else ''}{repr(el)}")
    return "\n".join(out)


def segment_score(result: ScoreResult, a: int, b: int) -> stream.Score:
    """A score of bars [a, b) (deep copies), its first bar given the context it needs."""
    score = stream.Score()
    staves = []
    for k, measures in enumerate(_measures(result, a, b)):
        staff = stream.PartStaff(id=f"staff{k + 1}")
        if k == 0:
            staff.insert(0, instrument.Piano())
        for i, m in enumerate(measures):
            copied = copy.deepcopy(m)
            if i == 0:
                for cls in _CONTEXT:
                    if not copied.getElementsByClass(cls):
                        ctx = m.getContextByClass(cls)
                        if ctx is not None:
                            ctx = copy.deepcopy(ctx)
                            # a time signature is printed where it starts, not again
                            ctx.style.hideObjectOnPrint = cls is meter.TimeSignature
                            copied.insert(0, ctx)
            staff.append(copied)
        staves.append(staff)
        score.insert(0, staff)
    score.insert(0, layout.StaffGroup(staves, symbol="brace", barTogether=True))
    return score


def engrave_score(score: stream.Score, first: bool = True) -> str:
    """One SVG (the screen's options: as tall as its content) of a small score; the piano
    is named "Piano" on the `first` segment, "Pno." on later ones. Verovio lays it out in
    `engrave_child`'s process: inside `steps.stop_when`, a cancel stops it at once."""
    name = None if first else PART_ABBREVIATION
    return CHILD.engrave(to_musicxml(score, part_name=name), SCREEN_OPTIONS).pages[0]


def engrave_segment(result: ScoreResult, a: int, b: int) -> str:
    return engrave_score(segment_score(result, a, b), first=a == 0)
