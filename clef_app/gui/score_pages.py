"""Verovio SVG pages for Qt: QtSvg-ready SVG, note boxes, and a widget stacking pages.

QtSvg ignores Verovio's nested `<svg class="definition-scale">`, so each page's nested
svg becomes an equivalent `<g transform="scale(...)">`; then every element id resolves
and a note's box on the page is `transformForElement(id).mapRect(boundsOnElement(id))`.
QtSvg also wants text with one level of tspans. Selected notes are recoloured in the SVG
text; the page is not engraved again for that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget

from clef_app.gui.score_marks import MARK_COLOR, Mark, draw_marks

SELECTED_COLOR = MARK_COLOR.name()  # selected notes in the engraving (and edits' marks)
PAGE_GAP = 0  # px between pages (the score's segments: Verovio leaves a margin on each)
CLICK_SLOP = 3.0  # px: a click this close to a note's box hits it
CURSOR_COLOR = QColor(66, 133, 244, 48)  # the bar playback is in
_MEASURE_IDS = re.compile(r'<g id="([^"]+)" class="measure"')
_NESTED_SVG = re.compile(
    r'<svg class="definition-scale"([^>]*?)viewBox="0 0 ([\d.]+) ([\d.]+)"([^>]*)>')
_ROOT_VIEWBOX = re.compile(r'<svg viewBox="0 0 ([\d.]+) ([\d.]+)"')
_NOTE_IDS = re.compile(r'<g id="(n\d+(?:-\d+)?)" class="note"')
_TEXT = re.compile(r"<text([^>]*)(?<!/)>(.*?)</text>", re.S)  # not an empty <text/>
_EMPTY_TEXT = re.compile(r"<text\b[^>]*/>")  # Verovio's hidden bar numbers
_LEAF_TSPAN = re.compile(r"<tspan([^>]*)>([^<]*)</tspan>")


def flatten_text(svg: str) -> str:
    """Text with only one level of tspans and no zero font size (QtSvg's SVG Tiny rules);
    empty text elements, which draw nothing, dropped."""

    def one(m: re.Match) -> str:
        attrs = m.group(1).replace(' font-size="0px"', "")
        leaves = "".join(f"<tspan{a}>{t}</tspan>" for a, t in _LEAF_TSPAN.findall(m.group(2)))
        return f"<text{attrs}>{leaves}</text>"

    return _TEXT.sub(one, _EMPTY_TEXT.sub("", svg))


def flatten_definition_scale(svg: str) -> str:
    """Replace Verovio's nested definition-scale svg by an equivalent scaled group."""
    root = _ROOT_VIEWBOX.search(svg)
    inner = _NESTED_SVG.search(svg)
    if root is None or inner is None:
        return svg
    sx = float(root.group(1)) / float(inner.group(2))
    sy = float(root.group(2)) / float(inner.group(3))
    attrs = (inner.group(1) + inner.group(4)).strip()
    group = f'<g class="definition-scale" {attrs} transform="scale({sx:.6g}, {sy:.6g})">'
    svg = svg[: inner.start()] + group + svg[inner.end() :]
    last = svg.rfind("</svg>")
    inner_close = svg.rfind("</svg>", 0, last)
    if inner_close < 0:
        return svg
    return svg[:inner_close] + "</g>" + svg[inner_close + len("</svg>") :]


def highlight(svg: str, element_ids: Iterable[str], color: str = SELECTED_COLOR) -> str:
    """Colour these note groups (fill and stroke inherit to heads, stems and accidentals)."""
    return _note_attributes(svg, element_ids, f'fill="{color}" stroke="{color}" color="{color}"')


def hide(svg: str, element_ids: Iterable[str]) -> str:
    """Leave these note groups undrawn (an edit's mark stands for them)."""
    return _note_attributes(svg, element_ids, 'display="none"')


def _note_attributes(svg: str, element_ids: Iterable[str], attributes: str) -> str:
    """These note groups with `attributes` added to their opening tag."""
    for eid in element_ids:
        svg = svg.replace(f'<g id="{eid}" class="note"',
                          f'<g id="{eid}" class="note" {attributes}', 1)
    return svg


class Page:
    """One engraved page: its SVG, a renderer, the box of each note element, the notes it
    was engraved from (`source`, id -> NoteEvent) and the edits marked on it since."""

    def __init__(self, svg: str, source: dict | None = None) -> None:
        self.source: dict = source if source is not None else {}
        self.selected: frozenset[str] = frozenset()
        self.hidden: frozenset[str] = frozenset()
        self.marks: list[Mark] = []
        self.svg = flatten_text(flatten_definition_scale(svg))
        self.renderer = QSvgRenderer(self.svg.encode("utf-8"))
        self.size = self.renderer.viewBoxF().size()
        self.measures = _MEASURE_IDS.findall(self.svg)  # its bars' groups, in order
        self.boxes: dict[str, QRectF] = {}
        for eid in _NOTE_IDS.findall(self.svg):
            if self.renderer.elementExists(eid):
                box = self.renderer.transformForElement(eid).mapRect(
                    self.renderer.boundsOnElement(eid))
                self.boxes[eid] = box

    def measure_box(self, index: int) -> QRectF | None:
        """Where the page's `index`-th bar is drawn (page coordinates), if it has one."""
        if not 0 <= index < len(self.measures):
            return None
        mid = self.measures[index]
        return self.renderer.transformForElement(mid).mapRect(self.renderer.boundsOnElement(mid))

    def show_selection(self, element_ids: set[str]) -> None:
        self.selected = frozenset(e for e in element_ids if e in self.boxes)
        self._load()

    def set_marks(self, hidden: frozenset[str], marks: list[Mark]) -> None:
        """Hide these note elements and draw these marks (`score_marks`) over the page."""
        self.marks = marks
        if hidden != self.hidden:
            self.hidden = hidden
            self._load()

    def _load(self) -> None:
        self.renderer.load(hide(highlight(self.svg, self.selected), self.hidden).encode("utf-8"))

    def hit(self, point: QPointF, slop: float) -> str | None:
        """The note element under a point in page (viewBox) coordinates, if any."""
        best, best_d = None, slop
        for eid, box in self.boxes.items():
            dx = max(box.left() - point.x(), 0.0, point.x() - box.right())
            dy = max(box.top() - point.y(), 0.0, point.y() - box.bottom())
            d = (dx * dx + dy * dy) ** 0.5
            if d < best_d or (d == 0 and best_d == 0 and best is not None
                              and box.width() * box.height() < _area(self.boxes[best])):
                best, best_d = eid, d
        return best


def _area(r: QRectF) -> float:
    return r.width() * r.height()


class PagesWidget(QWidget):
    """Pages stacked vertically, scaled to the widget's width; `cursor` (page index, box in
    page coordinates) is drawn as a highlighted bar: where playback is."""

    clicked = Signal(str, bool)  # element id, shift held
    contextRequested = Signal(str, object)  # element id ("" = none), global QPoint
    painted = Signal()  # the pages were drawn on screen (what a user sees is current)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages: list[Page] = []
        self.cursor: tuple[int, QRectF] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor("white"))
        self.setPalette(pal)

    def set_pages(self, pages: list[Page]) -> None:
        self.pages = pages
        self.updateGeometry()
        self.setMinimumHeight(self.heightForWidth(max(self.width(), 1)))
        self.update()

    def _scale(self) -> float:
        widest = max((p.size.width() for p in self.pages), default=1.0)
        return self.width() / widest if widest > 0 else 1.0

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        widest = max((p.size.width() for p in self.pages), default=1.0)
        k = width / widest if widest else 1.0
        return int(sum(p.size.height() * k + PAGE_GAP for p in self.pages)) + 1

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(600, self.heightForWidth(600))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.setMinimumHeight(self.heightForWidth(self.width()))
        super().resizeEvent(event)

    def page_rects(self) -> list[QRectF]:
        k, y, out = self._scale(), 0.0, []
        for p in self.pages:
            out.append(QRectF(0, y, p.size.width() * k, p.size.height() * k))
            y += p.size.height() * k + PAGE_GAP
        return out

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        k = self._scale()
        for page, rect in zip(self.pages, self.page_rects(), strict=True):
            if rect.intersects(QRectF(event.rect())):
                page.renderer.render(painter, rect)
                if page.marks:
                    painter.save()
                    painter.translate(rect.topLeft())
                    painter.scale(k, k)
                    draw_marks(painter, page.marks)
                    painter.restore()
        box = self.cursor_rect()
        if box is not None:
            painter.fillRect(box, CURSOR_COLOR)
        painter.end()
        self.painted.emit()

    def cursor_rect(self) -> QRectF | None:
        """The playback cursor's bar in widget coordinates."""
        if self.cursor is None or not 0 <= self.cursor[0] < len(self.pages):
            return None
        return self.box_rect(*self.cursor)

    def box_rect(self, index: int, box: QRectF) -> QRectF:
        """A box on the `index`-th page (page coordinates) in widget coordinates."""
        k, rect = self._scale(), self.page_rects()[index]
        return QRectF(rect.x() + box.x() * k, rect.y() + box.y() * k, box.width() * k,
                      box.height() * k)

    def element_at(self, pos: QPointF) -> str | None:
        k = self._scale()
        for page, rect in zip(self.pages, self.page_rects(), strict=True):
            if rect.contains(pos):
                local = QPointF((pos.x() - rect.x()) / k, (pos.y() - rect.y()) / k)
                return page.hit(local, CLICK_SLOP / k)
        return None

    def element_rect(self, element_id: str) -> QRectF | None:
        """Where a note element is drawn, in widget coordinates (for tests and scrolling)."""
        for index, page in enumerate(self.pages):
            box = page.boxes.get(element_id)
            if box is not None:
                return self.box_rect(index, box)
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        eid = self.element_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and eid is not None:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.clicked.emit(eid, shift)
        elif event.button() == Qt.MouseButton.RightButton:
            self.contextRequested.emit(eid or "", event.globalPosition().toPoint())
        super().mousePressEvent(event)
