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
from xml.etree import ElementTree

from music21 import clef, layout, meter, stream
from music21 import key as m21key
from music21.musicxml import helpers
from music21.musicxml.m21ToXml import ScoreExporter

from clef_app.notation.beaming import log_beam_warnings, repair_beams
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
    log_beam_warnings()
    chunk.makeNotation(inPlace=True)  # on a machine busy with other work
    repair_beams(chunk)
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


def serialise_steps(writer: ScoreExporter) -> Steps[bytes]:
    """`writer.asBytes()` (music21's indentation, sorted attributes, ElementTree's text)
    a part's SERIALISE_BARS bars at a time, yielding the fraction done between them: the
    document of the largest input is some 10 s of CPU to write out, too long for one step.
    The bytes are the same (a test compares them)."""
    root = writer.xmlRoot
    out = [writer.xmlHeader().decode("utf-8")]
    _indent_shallow(root, 0)
    parts = [el for el in root if el.tag == "part"]
    total = max(1, sum(len(part) for part in parts))
    done = 0
    head, tail = _shell(root)
    out.append(head)
    for child in root:
        if child.tag != "part":
            _indent_child(root, child, 0)
            out.append(_text(child))
            continue
        _indent_shallow(child, 1)
        _indent_child(root, child, 0, deep=False)
        part_head, part_tail = _shell(child)
        out.append(part_head)
        for k in range(0, len(child), SERIALISE_BARS):
            for bar in child[k : k + SERIALISE_BARS]:
                _indent_child(child, bar, 1)
                out.append(_text(bar))
            done += len(child[k : k + SERIALISE_BARS])
            checkpoint()
            yield done / total
        out.append(part_tail)
    out.append(tail)
    return "".join(out).rstrip().encode("utf-8")


SERIALISE_BARS = 200  # bars of a part written out between two steps of progress


def _indent_shallow(elem, level: int) -> None:
    """What `helpers.indent(elem, level)` sets on `elem` itself (its children are indented
    one by one, `_indent_child`)."""
    if not len(elem):
        helpers.indent(elem, level)
        return
    i = "\n" + level * "  "
    if not elem.text or not elem.text.strip():
        elem.text = i + "  "
    if not elem.tail or not elem.tail.strip():
        elem.tail = i


def _indent_child(parent, child, level: int, deep: bool = True) -> None:
    """`helpers.indent` of one child of `parent` (at `level`), as indenting the parent does
    it: the last child's tail then steps back to the parent's level."""
    if deep:
        helpers.indent(child, level + 1)
    if child is parent[-1]:
        child.tail = "\n" + level * "  "


def _sorted_attributes(elem) -> None:
    """music21's `dumpString` order: more than one attribute are sorted by name."""
    for el in elem.iter():
        if len(el.attrib) > 1:
            items = sorted(el.attrib.items())
            el.attrib.clear()
            el.attrib.update(items)


def _text(elem) -> str:
    """The element (its attributes sorted) as ElementTree writes it, tail included."""
    _sorted_attributes(elem)
    return ElementTree.tostring(elem, encoding="unicode")


def _shell(elem) -> tuple[str, str]:
    """The text before and after the children of `elem` as ElementTree writes it."""
    shell = ElementTree.Element(elem.tag, elem.attrib)
    _sorted_attributes(shell)
    shell.text = elem.text
    whole = ElementTree.tostring(shell, encoding="unicode")
    end = f"</{elem.tag}>"
    mark = ElementTree.Element("t")
    bare = ElementTree.tostring(mark, encoding="unicode")
    mark.tail = elem.tail  # escaped as ElementTree escapes a tail
    return whole[: -len(end)], end + ElementTree.tostring(mark, encoding="unicode")[len(bare):]
