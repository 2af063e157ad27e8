"""The engraved score: Verovio SVG pages drawn with QtSvg; clicks map to notes.

The pages (QtSvg-ready SVG, note boxes for clicks) live in `score_pages`; this view
engraves on a worker thread, shows the document's selection (a click or Shift+click
changes it there) and turns keys and menus into edits.

Edits (keys below, or the context menu) come from the Qt-free edit vocabulary the
spectrogram shares (`notation.note_edits`) and leave as `editRequested(edit)`, for the
document's undo stack.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterable
from fractions import Fraction

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QMenu, QScrollArea, QWidget

from clef_app.gui import score_menu
from clef_app.gui.document import Document
from clef_app.gui.score_jobs import (
    PREVIEW_MAX_NOTES,
    Segments,
    engrave_job,
    engrave_steps,
    preview_steps,
)
from clef_app.gui.score_marks import differing, edit_marks
from clef_app.gui.score_pages import (  # noqa: F401 - re-exported for callers and tests
    Page,
    PagesWidget,
    flatten_definition_scale,
    flatten_text,
    highlight,
)
from clef_app.gui.workers import GeneratorWorker
from clef_app.notation import note_edits as edits
from clef_app.notation import segments
from clef_app.notation.events import NoteEvent
from clef_app.notation.score import ScoreResult, note_id_of
from clef_app.notation.steps import Cancelled, stop_when

FOLLOW_DELAY_MS = 40  # ms of quiet after an edit before the score is engraved again
MARK_WAIT_S = 1.0  # s an engraving waits at most for an edit's marks to be painted
USER_SCROLL_PAUSE_S = 4.0  # s after the user scrolls the score that it follows nothing else
DURATION_KEYS = {  # MuseScore's digits: 3 = 16th ... 7 = whole
    Qt.Key.Key_3: Fraction(1, 4), Qt.Key.Key_4: Fraction(1, 2), Qt.Key.Key_5: Fraction(1),
    Qt.Key.Key_6: Fraction(2), Qt.Key.Key_7: Fraction(4),
}


class ScoreView(QScrollArea):
    """The score of the document's notes, engraved by Verovio; click a note to select it
    (Shift+click adds or removes it).

    Signals:
        noteClicked(int): the NoteEvent id of a clicked note.
        editRequested(object): a `notation.edits` NoteEdit/SettingsEdit to apply as one
            undo step (the view never changes the notes itself).
        marked(): an edit is drawn over the pages shown, at once (`score_marks`).
        previewed(): an edit's segment is shown, built quickly with the timing kept
            (`preview_steps`), while the whole score is built again.
        engraved(): a new engraving is shown (the whole score: only changed segments are
            engraved again, see `engrave_steps`).
        failed(str): engraving failed (the previous pages stay).
    """

    background = True  # engrave on a worker thread (False: at once, in the caller)

    noteClicked = Signal(int)
    editRequested = Signal(object)
    marked = Signal()
    previewed = Signal()
    engraved = Signal()
    failed = Signal(str)  # one line: why the score could not be engraved

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        if parent is not None and not isinstance(parent, QWidget):
            raise TypeError("ScoreView(document, parent): parent must be a QWidget")
        super().__init__(parent)
        self.document = document
        self.setObjectName("scoreView")
        self.pages_widget = PagesWidget()
        self.setWidget(self.pages_widget)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.notes: list[NoteEvent] = []
        self.settings: dict = {}
        self.result: ScoreResult | None = None
        self._built_from: dict[int, NoteEvent] = {}  # the notes self.result was built from
        self._built_settings: dict = {}
        self._job_source: dict[int, NoteEvent] = {}  # the notes the running job engraves
        self._job_settings: dict = {}  # ... and its settings
        self._user_scrolled_at = -USER_SCROLL_PAUSE_S  # time.monotonic() of the last one
        self.verticalScrollBar().actionTriggered.connect(self._user_scrolled)
        self._segments: list[tuple[str, Page]] = []  # what is on screen, segment by segment
        self._pages: dict[str, Page] = {}  # the whole score's last pages by signature
        self._worker: GeneratorWorker | None = None
        self._pending = False
        self.pages_widget.clicked.connect(self._on_click)
        self.pages_widget.contextRequested.connect(self._context_menu)
        document.selectionChanged.connect(self._selection_changed)
        # the score follows the document's notes and settings after a quiet moment
        self._follow = QTimer(self, interval=FOLLOW_DELAY_MS, singleShot=True)
        self._follow.timeout.connect(self._engrave_document)
        document.notesChanged.connect(self._mark_edits)
        document.notesChanged.connect(self._follow.start)
        self._marked_at: float | None = None  # an edit's marks wait to be painted since
        self.pages_widget.painted.connect(lambda: setattr(self, "_marked_at", None))
        document.settingsChanged.connect(lambda _key: self._follow.start())

    def _engrave_document(self) -> None:
        """Engrave the document's notes, once an edit's marks are on screen (the worker
        would take the CPU a busy machine leaves the window for them; waiting MARK_WAIT_S
        at most, for a pane never painted)."""
        marked = self._marked_at
        if marked is not None and time.monotonic() - marked < MARK_WAIT_S:
            self._follow.start()
            return
        self.set_document_notes(self.document.sorted_notes(), dict(self.document.settings))

    @property
    def selected(self) -> set[int]:
        """The document's selection (the view keeps no copy)."""
        return set(self.document.selection)

    # -- the document's side -----------------------------------------------------------
    def set_document_notes(self, notes: list[NoteEvent], settings: dict) -> None:
        """Build and engrave the score of these notes on a worker thread.

        The current pages stay until the new ones arrive (`engraved`); while one
        engraving runs, a newer request waits and only the latest is engraved next.
        """
        self.notes = list(notes)
        self.settings = dict(settings or {})
        if self._worker is not None:  # stop it at its next step: the newest edit goes first
            self._pending = True
            self._worker.cancel()
            return
        shown = frozenset(self._pages)
        self._job_source = {n.id: n for n in self.notes}
        self._job_settings = dict(self.settings)
        if not self.background:
            self._show(*engrave_job(self.notes, self.settings, shown))
            return
        notes_now, settings_now, previous = self.notes, self.settings, self.result
        changed = self._changed_notes(notes_now, settings_now)

        def job(cancelled):
            with stop_when(cancelled):  # a long stage of a large score stops at once too
                try:
                    if previous is not None and changed is not None:
                        yield from preview_steps(notes_now, settings_now, previous, changed)
                    return (yield from engrave_steps(notes_now, settings_now, shown))
                except Cancelled:
                    return None

        self._worker = GeneratorWorker(job, name="engrave")
        self._worker.partial.connect(self._on_partial)
        self._worker.finished.connect(self._on_engraved)
        self._worker.failed.connect(self._on_failed)
        self._worker.start()

    def _changed_notes(self, notes: list[NoteEvent], settings: dict) -> list[NoteEvent] | None:
        """The notes an edit changed since the score shown was built (old and new versions),
        or None when it is no small edit of the notes alone."""
        if self.result is None or settings != self._built_settings:
            return None
        now = {n.id: n for n in notes}
        old = self._built_from
        changed = [n for i, n in now.items() if old.get(i) != n]
        changed += [n for i, n in old.items() if now.get(i) != n]
        return changed if 0 < len(changed) <= PREVIEW_MAX_NOTES else None

    def _on_partial(self, item) -> None:
        """A previewed segment replaces the one on screen until the whole score arrives."""
        if not (isinstance(item, tuple) and item[0] == "preview"):
            return
        _, k, svg = item
        if k < len(self._segments):  # no signature: engraved again at the end
            self._segments[k] = ("", Page(svg, self._job_source))
            self.pages_widget.set_pages([page for _, page in self._segments])
            self._show_selection()
            self._mark_edits()  # what changed since this job began
            self.previewed.emit()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop a running engraving and wait for its thread (closing, application exit)."""
        self._pending = False
        self._follow.stop()
        if self._worker is not None:
            self._worker.cancel()
            self._worker.wait()

    def _on_engraved(self, value) -> None:
        self._worker = None
        if value is not None:
            self._show(*value)
        self._next()

    def _on_failed(self, message: str) -> None:
        self._worker = None
        self.failed.emit(message)
        self._next()

    def _next(self) -> None:
        if self._pending:
            self._pending = False
            self.set_document_notes(self.notes, self.settings)

    def _show(self, result: ScoreResult | None, new: Segments) -> None:
        """The whole score: segments engraved anew, and those on screen kept."""
        kept = self._pages  # a previewed segment's page before the preview is among them
        source = self._job_source
        self._segments = [(sig, Page(svg, source) if svg is not None else kept[sig])
                          for sig, svg in new]
        for _, page in self._segments:
            page.source = source
        self._pages = dict(self._segments)
        self.result = result
        self._built_from = source
        self._built_settings = self._job_settings
        self.pages_widget.set_pages([page for _, page in self._segments])
        self._show_selection()
        self._mark_edits()  # clears the marks, or draws edits made since this job began
        self.engraved.emit()

    def _mark_edits(self) -> None:
        """Draw the document's changes over the pages shown, at once (`score_marks`): the
        engraving that follows replaces them."""
        pages = self.pages_widget.pages
        if self.result is None or not pages:
            return
        now = self.document.notes
        sources = {id(p.source): p.source for p in pages}.values()
        changed = {i for src in sources for i in differing(src, now)}
        if len(changed) > PREVIEW_MAX_NOTES or self.document.settings != self._built_settings:
            changed = set()  # no small edit of the notes: the engraving shows it
        for page, (hidden, marks) in zip(pages, edit_marks(
                self.result, self._built_settings, pages, now, changed), strict=True):
            page.set_marks(hidden, marks)
        if not changed:
            self.pages_widget.update()
            return
        self._marked_at = time.monotonic()
        # on screen now, not after the rest of the window (the spectrogram redraws its
        # notes too): the fewer ms of CPU before it, the sooner on a busy machine
        self.pages_widget.repaint(self.pages_widget.visibleRegion())
        self.marked.emit()

    def set_playback_position(self, seconds: float, follow: bool = False) -> None:
        """Highlight the bar playback is in (the score follows it when `follow`)."""
        widget = self.pages_widget
        widget.cursor = self._bar_box(seconds)
        if follow:
            self._bring_into_view(widget.cursor_rect())
        widget.update()

    def follow_time(self, seconds: float) -> None:
        """Bring the bar sounding at this time into view (the spectrogram moved there)."""
        cursor = self._bar_box(seconds)
        if cursor is not None:
            self._bring_into_view(self.pages_widget.box_rect(*cursor))

    def _bar_box(self, seconds: float) -> tuple[int, QRectF] | None:
        """The segment and box (page coordinates) of the bar sounding at this time."""
        if self.result is None or not self._segments:
            return None
        q = float(self.result.tempo_map.to_quarters(seconds))
        bar = max(0, bisect_right([b.start for b in self.result.bars], q) - 1)
        k = segments.segment_of(bar)
        if q >= float(self.result.bars[-1].end) or k >= len(self.pages_widget.pages):
            return None
        box = self.pages_widget.pages[k].measure_box(
            bar - segments.segment_ranges(len(self.result.bars))[k][0])
        return (k, box) if box is not None else None

    def _bring_into_view(self, rect: QRectF | None) -> None:
        """Scroll a bar's box into view, unless the user scrolled the score a moment ago
        (USER_SCROLL_PAUSE_S): following never fights the hand on the scroll bar."""
        if rect is None or time.monotonic() - self._user_scrolled_at < USER_SCROLL_PAUSE_S:
            return
        self.ensureVisible(int(rect.center().x()), int(rect.center().y()), 0,
                           int(rect.height() / 2) + 20)

    def _user_scrolled(self, _action: int) -> None:
        self._user_scrolled_at = time.monotonic()

    def select_notes(self, ids: Iterable[int]) -> None:
        """Select these notes in the document (the view follows, see `_selection_changed`)."""
        self.document.set_selection(ids)

    def _selection_changed(self) -> None:
        """Highlight the document's selection and scroll its first note into view."""
        self._show_selection()
        first = self._element_ids(sorted(self.selected)[:1])
        rect = self.pages_widget.element_rect(first[0]) if first else None
        if rect is not None:
            self.ensureVisible(int(rect.center().x()), int(rect.center().y()), 50, 80)

    def note_rect(self, note_id: int) -> QRectF | None:
        """Where a note's first written piece is drawn, in the pages widget's coordinates."""
        ids = self._element_ids([note_id])
        return self.pages_widget.element_rect(ids[0]) if ids else None

    def _element_ids(self, note_ids: Iterable[int]) -> list[str]:
        if self.result is None:
            return []
        return [e for i in note_ids for e in self.result.element_ids.get(i, [])]

    def _show_selection(self) -> None:
        ids = set(self._element_ids(self.selected))
        for page in self.pages_widget.pages:
            page.show_selection(ids)
        self.pages_widget.update()

    def _on_click(self, element_id: str, shift: bool) -> None:
        nid = note_id_of(element_id)
        if nid is None:
            return
        self.document.set_selection(self.document.selection ^ {nid} if shift else {nid})
        self.setFocus()
        self.noteClicked.emit(nid)

    # -- score edits -------------------------------------------------------------------
    def request(self, edit) -> None:
        if edit is not None:
            self.editRequested.emit(edit)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if not self.selected or self.result is None:
            return super().keyPressEvent(event)
        key, mods = event.key(), event.modifiers()
        octave = bool(mods & Qt.KeyboardModifier.ControlModifier)
        notes, ids, r = self.document.sorted_notes(), sorted(self.selected), self.result
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = (12 if octave else 1) * (1 if key == Qt.Key.Key_Up else -1)
            self.request(edits.transpose(notes, ids, step))
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            steps = 1 if key == Qt.Key.Key_BracketRight else -1
            self.request(edits.velocity(notes, ids, steps=steps))
        elif key == Qt.Key.Key_J:
            self.request(edits.respell(self.document.settings, ids, r))
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.request(edits.delete(notes, ids))
        elif key in DURATION_KEYS:
            self.request(edits.set_length(notes, ids, DURATION_KEYS[key], r))
        elif key == Qt.Key.Key_Period:
            self.request(edits.scale_length(notes, ids, Fraction(3, 2), r))
        elif key in (Qt.Key.Key_0, Qt.Key.Key_Insert):
            self.request(edits.insert_rest(notes, ids, r))
        else:
            return super().keyPressEvent(event)
        event.accept()

    def _context_menu(self, element_id: str, global_pos) -> None:
        nid = note_id_of(element_id) if element_id else None
        if nid is not None and nid not in self.selected:
            self._on_click(element_id, False)
        if self.result is None:
            return
        menu = self.build_menu(nid)
        menu.exec(global_pos)

    def build_menu(self, note_id: int | None) -> QMenu:
        """The score's context menu for a clicked note (or for bar 1 when none)."""
        return score_menu.build_menu(self, note_id)

