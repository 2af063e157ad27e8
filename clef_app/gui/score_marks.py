"""An edit drawn on the score at once (issue 17), before Verovio engraves it again.

Engraving an edit's bars takes a child process and a few hundred ms of CPU: seconds on a
busy machine. So the moment the notes change, each page hides the notes it shows in a
version that is no longer the document's, and draws the document's version over itself
as a mark in the selection's colour: a notehead (hollow from a half note on) on its staff
line or space, with its accidental against the key signature and ledger lines, and a bar
as long as the note. Where it goes is read from the page itself: the staff lines and
noteheads Verovio drew (its SVG: `<g class="staff">` opens with its five lines, a note
group with its notehead's `translate(x, y)`, x its left edge, y its centre), the bar's
box, and the clef in force. The pages engraved next replace the marks.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Protocol

from music21 import clef, stream
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtSvg import QSvgRenderer

from clef_app.notation import segments
from clef_app.notation.events import NoteEvent
from clef_app.notation.keys import parse_key
from clef_app.notation.quantize import QNote
from clef_app.notation.score import ScoreResult, note_id_of, written_pitch

MARK_COLOR = QColor("#d0302a")  # the selection's colour: an edited note is selected
LENGTH_ALPHA = 70  # of 255: the bar showing a marked note's length
HEAD_WIDTH = 1.18  # staff spaces: a notehead's width (SMuFL's black notehead)
HOLLOW_FROM = 2  # quarter notes: a note this long or longer has a hollow head
WHOLE = 4  # quarter notes: ... and no stem
STEM_LENGTH = 3.5  # staff spaces
ACCIDENTALS = {-2: "\u266d\u266d", -1: "\u266d", 0: "\u266e", 1: "\u266f", 2: "x"}
_STAFF = re.compile(r'class="staff">((?:\s*<path d="M[-\d.]+ [-\d.]+ L[-\d.]+ [-\d.]+"[^>]*/>){5})')
_LINE_Y = re.compile(r'<path d="M[-\d.]+ ([-\d.]+) L')
_HEAD = re.compile(r'<g id="(n\d+(?:-\d+)?)" class="note"[^>]*>\s*<g class="notehead">\s*'
                   r'<use [^>]*transform="translate\(([-\d.]+), ([-\d.]+)\)')
_MEASURE = re.compile(r'<g id="([^"]+)" class="measure"')


class Page(Protocol):
    """What marks need of a `score_pages.Page` (which imports this module)."""

    svg: str
    renderer: QSvgRenderer
    boxes: dict[str, QRectF]
    source: dict[int, NoteEvent]

    def measure_box(self, index: int) -> QRectF | None: ...


@dataclass(frozen=True)
class Mark:
    """A note drawn where an edit put it, in page (viewBox) coordinates."""

    x: float  # the notehead's left edge
    y: float  # the notehead's centre
    end: float | None  # x where its length ends (within its bar), drawn when its timing changed
    space: float  # the staff's line spacing
    ledgers: tuple[float, ...] = ()  # y of the ledger lines it needs
    accidental: str = ""
    hollow: bool = False
    stem: int = 0  # 1 up, -1 down, 0 none (a whole note, or its timing changed)


@dataclass
class PageLayout:
    """Where a page's bars, staves and noteheads are (page coordinates)."""

    staves: list[list[tuple[float, float]]]  # per bar: (top line, bottom line) y per staff
    heads: list[dict[str, QPointF]]  # per bar: element id -> notehead (left x, centre y)

    def head(self, element_id: str) -> tuple[int, QPointF] | None:
        for index, heads in enumerate(self.heads):
            if element_id in heads:
                return index, heads[element_id]
        return None


def page_layout(page: Page) -> PageLayout:
    """The page's staves and noteheads, read from its SVG once (kept on the page)."""
    cached = getattr(page, "_layout", None)
    if cached is not None:
        return cached
    found = list(_MEASURE.finditer(page.svg))
    to_page = (page.renderer.transformForElement(found[0].group(1)) if found
               else QTransform())
    staves, heads = [], []
    for k, m in enumerate(found):
        chunk = page.svg[m.start():found[k + 1].start() if k + 1 < len(found) else None]
        lines = []
        for s in _STAFF.finditer(chunk):
            ys = [float(y) for y in _LINE_Y.findall(s.group(1))]
            lines.append((to_page.map(QPointF(0, ys[0])).y(), to_page.map(QPointF(0, ys[-1])).y()))
        staves.append(lines)
        heads.append({h.group(1): to_page.map(QPointF(float(h.group(2)), float(h.group(3))))
                      for h in _HEAD.finditer(chunk)})
    page._layout = PageLayout(staves, heads)
    return page._layout


def differing(source: dict[int, NoteEvent], now: dict[int, NoteEvent]) -> list[int]:
    """Ids of the notes that differ between two versions of the notes (added, removed or
    changed)."""
    out = [i for i, n in now.items() if source.get(i) != n]
    return out + [i for i in source if i not in now]


def _elements_by_note(page: Page) -> dict[int, list[str]]:
    """Note id -> the page's elements of that note (kept on the page)."""
    cached = getattr(page, "_by_note", None)
    if cached is None:
        cached = {}
        for e in page.boxes:
            cached.setdefault(note_id_of(e), []).append(e)
        page._by_note = cached
    return cached


def edit_marks(result: ScoreResult, settings: dict, pages: list[Page],
               now: dict[int, NoteEvent], changed: set[int]
               ) -> list[tuple[frozenset[str], list[Mark]]]:
    """Per page: the note elements to hide and the marks to draw for these changed notes
    (ids), where `now` holds the document's notes and each page's `source` the notes it
    was engraved from."""
    hidden: list[set[str]] = [set() for _ in pages]
    marks: list[list[Mark]] = [[] for _ in pages]
    for k, page in enumerate(pages):
        stale = [i for i in changed if page.source.get(i) != now.get(i)]
        hidden[k] = {e for i in stale for e in _elements_by_note(page).get(i, ())}
    for i in sorted(changed):
        note = now.get(i)
        placed = _place(result, settings, pages, note) if note is not None else None
        if placed is not None:
            marks[placed[0]].append(placed[1])
    return [(frozenset(h), m) for h, m in zip(hidden, marks, strict=True)]


def _place(result: ScoreResult, settings: dict, pages: list[Page], note: NoteEvent
           ) -> tuple[int, Mark] | None:
    """The page and mark of a note as the document has it now (None: not on a page, or
    already engraved so)."""
    start, end = (Fraction(float(q)).limit_denominator(48)
                  for q in result.tempo_map.to_quarters([note.onset, note.offset]))
    starts = [b.start for b in result.bars]
    bar = max(0, bisect_right(starts, start) - 1)
    if start >= result.bars[-1].end:
        return None
    k = segments.segment_of(bar)
    if k >= len(pages) or pages[k].source.get(note.id) == note:
        return None
    page, index = pages[k], bar - segments.segment_ranges(len(result.bars))[k][0]
    lay = page_layout(page)
    box = page.measure_box(index)
    if box is None or index >= len(lay.staves):
        return None
    was = page.source.get(note.id)
    placed = result.placed.get(note.id)
    staff = placed.staff if placed is not None else int(note.pitch < 60)
    staff = min(staff, len(lay.staves[index]) - 1)
    top, bottom = lay.staves[index][staff]
    space = (bottom - top) / 4
    new = written_pitch(result, QNote(note.id, note.pitch, start, end), settings)
    old_head = lay.heads[index].get(f"n{note.id}")
    if was is not None and was.onset == note.onset and old_head is not None:
        old = written_pitch(result, QNote(note.id, was.pitch, start, end), settings)
        x = old_head.x()
        y = old_head.y() - (new.diatonicNoteNum - old.diatonicNoteNum) * space / 2
    else:
        line = _clef_at(result, staff, bar)
        x = _x_at(result, lay.heads[index], box, bar, start, space)
        y = bottom - (new.diatonicNoteNum - line) * space / 2
    ledgers, sign = _ledgers(y, top, bottom, space), _accidental(new, result, bar)
    if placed is not None and was is not None and (was.onset, was.offset) == (
            note.onset, note.offset):  # only its pitch changed: written as it was
        length = placed.note.length
        stem = 0 if length >= WHOLE else (1 if y > (top + bottom) / 2 else -1)
        return k, Mark(x, y, None, space, ledgers, sign, length >= HOLLOW_FROM, stem)
    end_x = _x_at(result, lay.heads[index], box, bar, min(end, result.bars[bar].end), space)
    return k, Mark(x, y, max(end_x, x + HEAD_WIDTH * space), space, ledgers, sign,
                   end - start >= HOLLOW_FROM)


def _clef_at(result: ScoreResult, staff: int, bar: int) -> int:
    """The diatonic number of the bottom line of the clef in force on a staff at a bar."""
    part = result.score.parts[min(staff, len(result.score.parts) - 1)]
    measure = part.getElementsByClass(stream.Measure)[bar]
    here = measure.getElementsByClass(clef.Clef)
    found = here[0] if here else measure.getContextByClass(clef.Clef)
    return found.lowestLine if found is not None else clef.TrebleClef().lowestLine


def _x_at(result: ScoreResult, heads: dict[str, QPointF], box: QRectF, bar: int,
          position: Fraction, space: float) -> float:
    """x of a position in a bar: between the noteheads of the notes starting in it (their
    positions known from the score), or across the bar's box where it has none."""
    b = result.bars[bar]
    anchors = sorted({(float(result.placed[i].note.start), p.x())
                      for e, p in heads.items()
                      if (i := note_id_of(e)) is not None and e == f"n{i}" and i in result.placed
                      and b.start <= result.placed[i].note.start < b.end})
    right = box.right() - 2 * space
    if not anchors:
        anchors = [(float(b.start), box.left() + 0.25 * box.width())]
    q = float(position)
    pts = anchors + [(float(b.end), max(right, anchors[-1][1]))]
    if q <= pts[0][0]:
        per_quarter = (pts[-1][1] - pts[0][1]) / max(pts[-1][0] - pts[0][0], 1e-9)
        return max(box.left(), pts[0][1] - (pts[0][0] - q) * per_quarter)
    for (q0, x0), (q1, x1) in zip(pts, pts[1:], strict=False):
        if q <= q1:
            return x0 + (x1 - x0) * (q - q0) / max(q1 - q0, 1e-9)
    return pts[-1][1]


def _ledgers(y: float, top: float, bottom: float, space: float) -> tuple[float, ...]:
    """y of the ledger lines between a notehead and its staff."""
    above = int((top - y) / space + 0.25)
    below = int((y - bottom) / space + 0.25)
    return (tuple(top - space * n for n in range(1, above + 1))
            + tuple(bottom + space * n for n in range(1, below + 1)))


def _accidental(pitch, result: ScoreResult, bar: int) -> str:
    """The sign the key signature does not give this pitch (none when it does)."""
    alter = int(pitch.alter)
    if alter == _key_alters(result.key_at(result.bars[bar].number)).get(pitch.step, 0):
        return ""
    return ACCIDENTALS.get(alter, "")


@lru_cache(maxsize=64)
def _key_alters(key_name: str) -> dict[str, int]:
    """Step -> the alteration a key signature gives it ("F" -> 1 in D major)."""
    return {p.step: int(p.alter) for p in parse_key(key_name).alteredPitches}


def draw_marks(painter: QPainter, marks: list[Mark]) -> None:
    """Draw marks with the painter in page coordinates."""
    for m in marks:
        head_w = HEAD_WIDTH * m.space
        if m.end is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(MARK_COLOR.red(), MARK_COLOR.green(), MARK_COLOR.blue(),
                                    LENGTH_ALPHA))
            painter.drawRect(QRectF(m.x + head_w / 2, m.y - 0.25 * m.space,
                                    m.end - m.x - head_w / 2, 0.5 * m.space))
        painter.setPen(QPen(MARK_COLOR, 0.16 * m.space))
        for ly in m.ledgers:
            painter.drawLine(QPointF(m.x - 0.35 * m.space, ly),
                             QPointF(m.x + head_w + 0.35 * m.space, ly))
        if m.stem:
            painter.setPen(QPen(MARK_COLOR, 0.12 * m.space))
            sx = m.x + head_w - 0.05 * m.space if m.stem > 0 else m.x + 0.05 * m.space
            painter.drawLine(QPointF(sx, m.y), QPointF(sx, m.y - m.stem * STEM_LENGTH * m.space))
        _draw_head(painter, m, head_w)
        if m.accidental:
            _draw_accidental(painter, m)


def _draw_head(painter: QPainter, m: Mark, head_w: float) -> None:
    painter.save()
    painter.translate(m.x + head_w / 2, m.y)
    painter.rotate(-20)
    painter.setBrush(Qt.BrushStyle.NoBrush if m.hollow else QBrush(MARK_COLOR))
    painter.setPen(QPen(MARK_COLOR, 0.2 * m.space if m.hollow else 0.05 * m.space))
    painter.drawEllipse(QRectF(-0.5 * head_w, -0.42 * m.space, head_w, 0.84 * m.space))
    painter.restore()


def _draw_accidental(painter: QPainter, m: Mark) -> None:
    font = QFont("DejaVu Sans")
    font.setPixelSize(100)
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, m.accidental)
    size = 2.4 * m.space / 100  # the text drawn 2.4 staff spaces tall
    bounds = path.boundingRect()
    painter.save()
    painter.translate(m.x - 0.25 * m.space - bounds.right() * size,
                      m.y - (bounds.center().y()) * size)
    painter.scale(size, size)
    painter.fillPath(path, MARK_COLOR)
    painter.restore()
