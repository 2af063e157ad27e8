"""A score's MusicXML written a chunk of bars at a time: progress, a chance to stop, and
no copy of the whole score.

music21's writer (`GeneralObjectExporter`) deep-copies the whole score, notates it
(rests, accidentals, beams, tuplet brackets) and writes it in one call. For the largest
note file Clef accepts (`events.MAX_NOTES` notes in `events.MAX_NOTE_SECONDS`) that is one
call of many minutes, with nothing to report and no way to stop it, and its searches for a
bar's clef, key and meter grow with the score. Here each chunk of CHUNK_BARS bars is
copied with the bar before it, notated and written on its own, and its bars (without the
bar before) are appended to the first chunk's document. The bar before gives the chunk's
first bar what one pass over the score would: the accidentals and ties carried over the
bar line, and the clef, key and meter in force (given to it as they were last set).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from music21 import clef, layout, meter, stream
from music21 import key as m21key
from music21.musicxml.m21ToXml import ScoreExporter

from clef_app.notation.steps import Steps, checkpoint

CHUNK_BARS = 48  # bars notated and written at a time: ~0.5 s of CPU for dense piano music.
# The MusicXML of 10,000 notes (715 bars) took 8.6, 8.1 and 7.2 s of CPU in chunks of 8, 24
# and 64 bars: larger chunks cost less setup, smaller ones show progress more often
_CONTEXT = (clef.Clef, m21key.KeySignature, meter.TimeSignature)


def musicxml_steps(score: stream.Score) -> Steps[ScoreExporter]:
    """Notate and write `score` (parts of measures, as `notation.score` builds them) chunk
    by chunk; yields the fraction done, returns the writer whose `xmlRoot` holds the whole
    document (its `asBytes()` serialises it). The score itself is not changed."""
    parts = list(score.parts)
    bars = [list(p.getElementsByClass(stream.Measure)) for p in parts]
    n = min((len(b) for b in bars), default=0)
    context: list[dict] = [{} for _ in parts]  # per part: the signs in force before bar `seen`
    seen = 0
    first: ScoreExporter | None = None
    yield 0.0
    for a in range(0, max(n, 1), CHUNK_BARS):
        b, start = min(a + CHUNK_BARS, n), max(a - 1, 0)
        _advance(context, bars, seen, start)
        seen = start
        chunk = _chunk(score, parts, [m[start:b] for m in bars], context, with_header=a == 0)
        checkpoint()
        writer = _write(chunk)
        if first is None:
            first = writer
        else:
            _append_bars(first.xmlRoot, writer.xmlRoot, skip=a - start)
        yield b / max(n, 1)
    assert first is not None
    return first


def _advance(context: list[dict], bars: Sequence[list[stream.Measure]], lo: int, hi: int
             ) -> None:
    """Take the clefs, keys and meters set in bars [lo, hi) into `context`."""
    for ctx, measures in zip(context, bars, strict=True):
        for m in measures[lo:hi]:
            for cls in _CONTEXT:
                found = m.getElementsByClass(cls)
                if found:
                    ctx[cls] = found.last()


def _chunk(score: stream.Score, parts: list, bars: list[list[stream.Measure]],
           context: list[dict], with_header: bool) -> stream.Score:
    """A score of deep copies of `bars` (per part), the first bar given `context`'s signs
    where it sets none itself, the parts grouped as in `score`."""
    chunk = stream.Score()
    if with_header and score.metadata is not None:
        chunk.insert(0, copy.deepcopy(score.metadata))
    staves = []
    for part, measures, ctx in zip(parts, bars, context, strict=True):
        staff = type(part)(id=part.id)
        for el in part.getElementsByOffset(0, 0, classList=["Instrument"]):
            staff.insert(0, copy.deepcopy(el))
        for i, m in enumerate(measures):
            copied = copy.deepcopy(m)
            if i == 0:
                for cls, sign in ctx.items():
                    if not copied.getElementsByClass(cls):
                        copied.insert(0, copy.deepcopy(sign))
            staff.append(copied)
        checkpoint()
        staves.append(staff)
        chunk.insert(0, staff)
    for group in score.getElementsByClass(layout.StaffGroup):
        members = [staves[parts.index(p)] for p in group.getSpannedElements() if p in parts]
        chunk.insert(0, layout.StaffGroup(members, symbol=group.symbol,
                                          barTogether=group.barTogether))
    return chunk


def _write(chunk: stream.Score) -> ScoreExporter:
    """What music21's `GeneralObjectExporter` does to a score, on a chunk of our own: fill
    gaps with hidden rests, notate in place, write."""
    chunk.makeRests(refStreamOrTimeRange=[0.0, chunk.highestTime], fillGaps=True,
                    inPlace=True, hideRests=True, timeRangeFromBarDuration=True)
    checkpoint()  # between the stages of a chunk too: each is a good part of a second
    chunk.makeNotation(inPlace=True)  # on a machine busy with other work
    checkpoint()
    writer = ScoreExporter(chunk, makeNotation=True)
    writer.parse()
    return writer


def _append_bars(root, more, skip: int) -> None:
    """Append what each <part> of `more` holds after its first `skip` <measure>s (the
    measures and the comments naming them) to the same part of `root`."""
    for part, extra in zip(root.findall("part"), more.findall("part"), strict=True):
        children = list(extra)
        measures = [i for i, el in enumerate(children) if el.tag == "measure"]
        start = measures[skip - 1] + 1 if skip else 0
        part.extend(children[start:])
