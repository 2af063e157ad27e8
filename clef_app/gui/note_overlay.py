"""Notes drawn over the spectrogram, and the mouse editing of them.

Data coordinates are (seconds, MIDI pitch). A note spans onset..offset and its key's band,
p - 0.5 .. p + 0.5; zoomed far out a band is thin, so a note is drawn at least MIN_NOTE_PX
tall.
`NotesItem` only paints and hit-tests; `NoteEditor` turns mouse gestures and keys into one
document edit each, from the edit vocabulary the score shares (`notation.note_edits`),
previewing a gesture on the item until the button is released.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen

from clef_app.gui.axes import format_time, pitch_bounds, pitch_name
from clef_app.gui.document import MERGE_NUDGE, NO_MERGE, Document
from clef_app.notation import note_edits
from clef_app.notation.confidence import SHIPPED_BANDS, ConfidenceBands
from clef_app.notation.events import NoteEvent

MIN_NOTE_PX = 5.0  # px: minimum drawn (and clickable) note height
EDGE_PX = 6.0  # px: grab zone for resizing at a note's right edge
MIN_NOTE_S = 0.03  # s: shortest note a resize or drawing can make
NEW_NOTE_S = 0.25  # s: length of a note made by a click or double-click
PITCH_RANGE = (0, 127)

HIGH_CONF = QColor(70, 215, 255)  # confident notes: cyan
LOW_CONF = QColor(225, 225, 235)  # doubtful notes: pale grey, faint and dashed
SELECTED = QColor(255, 236, 120)
GHOST = QColor(255, 255, 255, 110)
PROVISIONAL = QColor(255, 255, 255)  # live notes not final yet: a light wash, thin outline


def confidence_colour(confidence: float) -> QColor:
    """Pale grey (0) to cyan (1), colours the spectrogram's colour maps do not use; the
    fill's opacity also grows with confidence."""
    c = float(np.clip(confidence, 0.0, 1.0))
    rgb = [a + (b - a) * c for a, b in zip(LOW_CONF.getRgb()[:3], HIGH_CONF.getRgb()[:3],
                                          strict=True)]
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), int(25 + 85 * c))


_PITCHES = np.arange(128)
BAND_LO, BAND_HI = (np.asarray(b, dtype=np.float64) for b in pitch_bounds(_PITCHES))
ROW = _PITCHES.astype(np.float64)  # y of each pitch's fundamental


CONFIDENCE_STEPS = 8  # notes that are not doubtful are drawn in this many shades (+1)
DOUBTFUL = -1  # the style key of doubtful notes
SOLID_FLOOR = 0.4  # the least sure note that is not doubtful is tinted this far to cyan


def _pen(colour: QColor, width: float, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width, style)
    pen.setCosmetic(True)  # width in pixels whatever the zoom
    return pen


def confidence_bucket(confidence: float, bands: ConfidenceBands = SHIPPED_BANDS) -> int:
    """DOUBTFUL, or 0..CONFIDENCE_STEPS: how sure a note looks (see notation.confidence)."""
    if bands.doubtful(confidence):
        return DOUBTFUL
    return round(bands.level(confidence) * CONFIDENCE_STEPS)


def _paint_order(key: str | int) -> int:
    order = {"ghost": -2, "provisional": -1, "selected": CONFIDENCE_STEPS + 1}
    return order.get(key, key)  # type: ignore[arg-type]


@cache
def note_style(key: str | int) -> tuple[QPen, QBrush]:
    """Pen and brush for a role ("ghost", "selected", "provisional") or a
    `confidence_bucket`."""
    if key == "ghost":
        return _pen(GHOST, 1, Qt.PenStyle.DashLine), QBrush(Qt.BrushStyle.NoBrush)
    if key == "provisional":
        edge, fill = QColor(PROVISIONAL), QColor(PROVISIONAL)
        edge.setAlpha(170)
        fill.setAlpha(75)
        return _pen(edge, 1), QBrush(fill)
    if key == "selected":
        return (_pen(QColor(255, 255, 255), 2),
                QBrush(QColor(SELECTED.red(), SELECTED.green(), SELECTED.blue(), 185)))
    doubtful = int(key) == DOUBTFUL  # a dashed outline as well as a pale colour
    level = 0.0 if doubtful else SOLID_FLOOR + (1 - SOLID_FLOOR) * int(key) / CONFIDENCE_STEPS
    fill = confidence_colour(level)
    edge = QColor(fill)
    edge.setAlpha(255)
    return (_pen(edge, 1.5, Qt.PenStyle.DashLine if doubtful else Qt.PenStyle.SolidLine),
            QBrush(fill))


class NotesItem(pg.GraphicsObject):
    """Paints every note as a rectangle; culls to the visible time range."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: dict[int, NoteEvent] = {}
        self.selection: frozenset[int] = frozenset()
        self.preview: dict[int, NoteEvent] = {}  # notes shown at a dragged position
        self.preview_selection: frozenset[int] | None = None  # during a rubber band
        self.draft: NoteEvent | None = None  # the note being drawn
        self.bands = SHIPPED_BANDS  # how confidence is shaded (the window sets the model's)
        self.provisional = False  # every note is drawn as not final yet (the live view's)
        self._bounds = QRectF(0, -1, 1, 130)
        self._onsets = np.zeros(0)  # sorted, for culling to a time range
        self._by_onset: list[int] = []
        self._longest = 0.0
        self.setZValue(10)
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # valid exposedRect

    def set_notes(self, notes: dict[int, NoteEvent]) -> None:
        self.notes = dict(notes)
        order = sorted(self.notes.values(), key=lambda n: n.onset)
        self._onsets = np.array([n.onset for n in order], dtype=np.float64)
        self._by_onset = [n.id for n in order]
        self._longest = max((n.duration for n in order), default=0.0)
        end = max((n.offset for n in notes.values()), default=1.0)
        if end + 1 > self._bounds.width():
            self.prepareGeometryChange()
            self._bounds = QRectF(0, -1, end + 60.0, 130)
        self.update()

    def set_selection(self, ids: frozenset[int]) -> None:
        self.selection = ids
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def _pixel(self) -> tuple[float, float]:
        vb = self.getViewBox()
        px = vb.viewPixelSize() if vb is not None else (0.01, 0.1)
        return abs(px[0]) or 0.01, abs(px[1]) or 0.1

    def band(self, pitch: int, px_y: float) -> tuple[float, float]:
        """The rows a note of `pitch` covers on screen (at least MIN_NOTE_PX tall)."""
        lo, hi = float(BAND_LO[pitch]), float(BAND_HI[pitch])
        need = MIN_NOTE_PX * px_y
        if hi - lo < need:
            mid = float(ROW[pitch])
            lo, hi = mid - need / 2, mid + need / 2
        return lo, hi

    def ids_between(self, t0: float, t1: float) -> list[int]:
        """Ids of the notes sounding somewhere in [t0, t1] s (by onset order)."""
        first = int(np.searchsorted(self._onsets, t0 - self._longest, side="left"))
        last = int(np.searchsorted(self._onsets, t1, side="right"))
        return [i for i in self._by_onset[first:last] if self.notes[i].offset >= t0]

    def shown_notes(self, t0: float = -np.inf, t1: float = np.inf) -> list[tuple[NoteEvent, str]]:
        """(note, role) in paint order for notes around [t0, t1] s; role is normal, selected,
        ghost (where a dragged note was) or the draft being drawn (as selected)."""
        sel = self.preview_selection if self.preview_selection is not None else self.selection
        moving = self.preview
        near = self.ids_between(t0, t1) if np.isfinite(t0) or np.isfinite(t1) else self.notes
        out = [(self.notes[i], "normal") for i in near if i not in sel and i not in moving]
        out += [(self.notes[i], "ghost") for i in self.preview if i in self.notes]
        out += [(n, "normal") for i, n in self.preview.items() if i not in sel]
        out += [(self.preview.get(i, self.notes[i]), "selected") for i in sel if i in self.notes]
        if self.draft is not None:
            out.append((self.draft, "selected"))
        return out

    def paint(self, p, option, *args) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        (x0, x1), _ = vb.viewRange()
        exposed = option.exposedRect  # a moving cursor exposes only a thin strip
        if not exposed.isEmpty():
            x0, x1 = max(x0, exposed.left()), min(x1, exposed.right())
        _, px_y = self._pixel()
        groups: dict[str | int, list[QRectF]] = {}
        for note, role in self.shown_notes(x0, x1):
            if note.offset < x0 or note.onset > x1:
                continue
            lo, hi = self.band(note.pitch, px_y)
            if role != "normal":
                key: str | int = role
            elif self.provisional:
                key = "provisional"
            else:
                key = confidence_bucket(note.confidence, self.bands)
            groups.setdefault(key, []).append(QRectF(note.onset, lo, note.duration, hi - lo))
        p.setRenderHint(p.RenderHint.Antialiasing, False)
        for key in sorted(groups, key=_paint_order):  # selected last, so on top
            pen, brush = note_style(key)
            p.setPen(pen)
            p.setBrush(brush)
            p.drawRects(groups[key])

    def hit(self, t: float, row: float) -> tuple[int, str] | None:
        """The note under (t, row) and the part grabbed: "edge" (right end) or "body"."""
        px_x, px_y = self._pixel()
        best: tuple[float, int, str] | None = None
        for note, role in self.shown_notes(t - EDGE_PX * px_x, t + EDGE_PX * px_x):
            if role in ("ghost",) or note.id not in self.notes:
                continue
            lo, hi = self.band(note.pitch, px_y)
            if not (lo <= row <= hi and note.onset <= t <= note.offset + EDGE_PX * px_x / 2):
                continue
            width_px = note.duration / px_x
            edge_zone = min(EDGE_PX, width_px / 3) * px_x
            part = "edge" if t >= note.offset - edge_zone else "body"
            score = abs(row - (lo + hi) / 2) / (hi - lo) - (0.5 if role == "selected" else 0.0)
            if best is None or score <= best[0]:
                best = (score, note.id, part)
        return None if best is None else (best[1], best[2])

    def ids_in_rect(self, t0: float, t1: float, r0: float, r1: float) -> set[int]:
        """Notes whose drawn rectangle intersects the time/row rectangle."""
        t0, t1, r0, r1 = min(t0, t1), max(t0, t1), min(r0, r1), max(r0, r1)
        _, px_y = self._pixel()
        out = set()
        for n in (self.notes[i] for i in self.ids_between(t0, t1)):
            lo, hi = self.band(n.pitch, px_y)
            if n.onset <= t1 and n.offset >= t0 and lo <= r1 and hi >= r0:
                out.add(n.id)
        return out


def snap_pitch(row: float) -> int:
    """The key whose band holds a y."""
    return int(np.clip(round(float(row)), *PITCH_RANGE))


class NoteEditor(QObject):
    """Mouse and keyboard editing of the document's notes on one NotesItem.

    Pointer mode: click selects (Shift/Ctrl toggles), drag on a note moves the selection
    (pitch snaps to semitones; Shift locks to one axis), drag at a note's right end resizes,
    drag on empty space draws a rubber band, double-click on empty space adds a note.
    Draw mode: a drag on empty space draws a note from press to release.
    """

    hoverInfo = Signal(str)
    cursorShape = Signal(object)  # Qt.CursorShape
    previewChanged = Signal()  # a gesture's preview (rubber band, dragged notes) moved

    def __init__(self, document: Document, item: NotesItem) -> None:
        super().__init__()
        self.doc = document
        self.item = item
        self.draw_mode = False
        self.new_velocity = 80
        self._op: str | None = None
        self._grab: tuple[float, int] = (0.0, 0)  # press time, press pitch
        self._start_sel: frozenset[int] = frozenset()
        self.rubber = QRectF()
        self._series = 0  # edits of one series (same selection, same kind) merge
        self._hovered: tuple[float, float, int | None] | None = None  # t, row, note id
        document.selectionChanged.connect(self._selection_changed)
        document.notesChanged.connect(self._notes_changed)

    def _selection_changed(self) -> None:
        self._series += 1
        self.item.set_selection(self.doc.selection)

    # -- clicks ------------------------------------------------------------------------
    def click(self, t: float, row: float, modifiers, double: bool = False) -> None:
        additive = bool(modifiers & (Qt.KeyboardModifier.ShiftModifier
                                     | Qt.KeyboardModifier.ControlModifier))
        hit = self.item.hit(t, row)
        if hit is not None:
            nid = hit[0]
            if additive:
                self.doc.set_selection(self.doc.selection ^ {nid})
            elif not double:
                self.doc.set_selection({nid})
            return
        if double and self.draw_mode:
            return  # the first click of the pair already drew the note
        if double or self.draw_mode:
            self.add_note(t, snap_pitch(row), NEW_NOTE_S)
        elif not additive:
            self.doc.set_selection(())

    def add_note(self, onset: float, pitch: int, length: float) -> NoteEvent:
        note = NoteEvent(max(0.0, onset), max(0.0, onset) + max(length, MIN_NOTE_S), pitch,
                         self.new_velocity)
        self.doc.apply(note_edits.add(note))
        self.doc.set_selection({note.id})
        return note

    # -- drags -------------------------------------------------------------------------
    def drag(self, down: QPointF, pos: QPointF, modifiers, start: bool, finish: bool) -> None:
        """One step of a left-button drag, in data coordinates."""
        if start:
            self._begin(down, modifiers)
        if self._op == "move":
            self.item.preview = self._moved(down, pos, modifiers)
        elif self._op == "resize":
            self.item.preview = self._resized(pos.x() - down.x())
        elif self._op == "rubber":
            self.rubber = QRectF(down, pos).normalized()
            ids = self.item.ids_in_rect(down.x(), pos.x(), down.y(), pos.y())
            self.item.preview_selection = frozenset(ids | self._start_sel)
        elif self._op == "draw":
            t0, t1 = sorted((down.x(), pos.x()))
            self.item.draft = NoteEvent(max(0.0, t0), max(0.0, t0) + max(t1 - t0, MIN_NOTE_S),
                                        self._grab[1], self.new_velocity)
        self.item.update()
        if finish:
            self._finish()
        self.previewChanged.emit()

    def _begin(self, down: QPointF, modifiers) -> None:
        additive = bool(modifiers & (Qt.KeyboardModifier.ShiftModifier
                                     | Qt.KeyboardModifier.ControlModifier))
        self._grab = (down.x(), snap_pitch(down.y()))
        hit = self.item.hit(down.x(), down.y())
        if hit is None:
            self._op = "draw" if self.draw_mode else "rubber"
            self._start_sel = self.doc.selection if additive else frozenset()
            return
        nid, part = hit
        if nid not in self.doc.selection:
            self.doc.set_selection(self.doc.selection | {nid} if additive else {nid})
        self._op = "resize" if part == "edge" else "move"

    def _moved(self, down: QPointF, pos: QPointF, modifiers) -> dict[int, NoteEvent]:
        notes = self.doc.selected_notes()
        dt = pos.x() - down.x()
        dp = snap_pitch(pos.y()) - self._grab[1]
        if modifiers & Qt.KeyboardModifier.ShiftModifier:  # lock to the larger movement
            px_x, px_y = self.item._pixel()
            if abs(pos.x() - down.x()) / px_x >= abs(pos.y() - down.y()) / px_y:
                dp = 0
            else:
                dt = 0.0
        dt = max(dt, -min((n.onset for n in notes), default=0.0))
        lo, hi = PITCH_RANGE
        dp = int(np.clip(dp, lo - min((n.pitch for n in notes), default=lo),
                         hi - max((n.pitch for n in notes), default=hi)))
        return {n.id: n.moved(dt, dp) for n in notes}

    def _resized(self, dt: float) -> dict[int, NoteEvent]:
        return {n.id: replace(n, offset=max(n.onset + MIN_NOTE_S, n.offset + dt))
                for n in self.doc.selected_notes()}

    def _finish(self) -> None:
        op, preview, draft = self._op, self.item.preview, self.item.draft
        sel = self.item.preview_selection
        self._op, self.item.preview, self.item.draft = None, {}, None
        self.item.preview_selection, self.rubber = None, QRectF()
        if op in ("move", "resize") and preview:
            self._apply(self._gesture_edit(op, preview))
        elif op == "rubber" and sel is not None:
            self.doc.set_selection(sel)
        elif op == "draw" and draft is not None:
            self.doc.apply(note_edits.add(draft))
            self.doc.set_selection({draft.id})
        self.item.update()

    def _gesture_edit(self, op: str, preview: dict[int, NoteEvent]):
        """The vocabulary's edit for a finished drag (the preview shows where it went)."""
        notes, ids = self.doc.sorted_notes(), list(preview)
        first = self.doc.notes[ids[0]]
        if op == "resize":
            return note_edits.resize(notes, ids, preview[first.id].offset - first.offset,
                                     MIN_NOTE_S)
        moved = preview[first.id]
        return note_edits.move(notes, ids, moved.onset - first.onset, moved.pitch - first.pitch)

    def cancel_drag(self) -> None:
        self._op, self.item.preview, self.item.draft = None, {}, None
        self.item.preview_selection, self.rubber = None, QRectF()
        self.item.update()
        self.previewChanged.emit()

    # -- hover -------------------------------------------------------------------------
    def hover(self, t: float, row: float) -> None:
        hit = self.item.hit(t, row)
        if hit is not None and hit[0] not in self.doc.notes:  # drawn notes not caught up
            hit = None
        self._hovered = (t, row, None if hit is None else hit[0])
        if hit is None:
            shape = Qt.CursorShape.CrossCursor if self.draw_mode else Qt.CursorShape.ArrowCursor
            pitch = snap_pitch(row)
            self.hoverInfo.emit(f"{format_time(t, 0.01)}   {pitch_name(pitch)}")
        else:
            shape = (Qt.CursorShape.SizeHorCursor if hit[1] == "edge"
                     else Qt.CursorShape.SizeAllCursor)
            self._describe(self.doc.notes[hit[0]])
        self.cursorShape.emit(shape)

    def leave(self) -> None:
        self._hovered = None

    def _describe(self, n: NoteEvent) -> None:
        span = f"{format_time(n.onset, 0.01)} – {format_time(n.offset, 0.01)}"
        self.hoverInfo.emit(f"{pitch_name(n.pitch)}  {span}  velocity {n.velocity}"
                            f"  confidence {n.confidence:.0%}")

    def _notes_changed(self) -> None:
        """The readout follows an edit made without moving the mouse (a transpose by key,
        a nudge, undo): the note it described, wherever it went, else what is under it."""
        if self._hovered is None:
            return
        t, row, note_id = self._hovered
        if note_id is not None and note_id in self.doc.notes:
            self._describe(self.doc.notes[note_id])
        else:  # the drawn notes may not have caught up yet: no hit test
            self._hovered = (t, row, None)
            self.hoverInfo.emit(f"{format_time(t, 0.01)}   {pitch_name(snap_pitch(row))}")

    # -- commands on the selection -----------------------------------------------------
    def _apply(self, edit, merge: bool = False) -> None:
        """One undo step; with `merge`, repeats on the same selection merge into one."""
        if edit is not None:
            self.doc.apply(edit, MERGE_NUDGE + self._series if merge else NO_MERGE)

    def _selected(self) -> tuple[list[NoteEvent], list[int]]:
        return self.doc.sorted_notes(), sorted(self.doc.selection)

    def delete_selected(self) -> None:
        self._apply(note_edits.delete(*self._selected()))

    def transpose(self, semitones: int) -> None:
        self._apply(note_edits.transpose(*self._selected(), semitones), merge=True)

    def nudge(self, seconds: float) -> None:
        self._apply(note_edits.nudge(*self._selected(), seconds), merge=True)

    def set_velocity(self, velocity: int, merge: bool = False) -> None:
        self.new_velocity = int(np.clip(velocity, *note_edits.VELOCITY_RANGE))
        self._apply(note_edits.velocity(*self._selected(), value=self.new_velocity), merge)

    def step_velocity(self, steps: int) -> None:
        """Alt+wheel: every selected note's velocity by 5 per step (one merged undo step)."""
        self._apply(note_edits.velocity(*self._selected(), steps=steps), merge=True)
