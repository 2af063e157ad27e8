"""The engraved score: Verovio SVG pages drawn with QtSvg; clicks map to notes.

The pages (QtSvg-ready SVG, note boxes for clicks) live in `score_pages`; this view
engraves on a worker thread, shows the document's selection (a click or Shift+click
changes it there) and turns keys and menus into edits.

Edits (keys below, or the context menu) come from the Qt-free edit vocabulary the
spectrogram shares (`notation.note_edits`) and leave as `editRequested(edit)`, for the
document's undo stack.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from fractions import Fraction

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QInputDialog, QMenu, QScrollArea, QWidget

from clef_app.gui.document import Document
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
from clef_app.notation.score import ScoreResult, build_bars, build_score_steps, note_id_of
from clef_app.notation.steps import Cancelled, Steps, run_to_end, scaled, stop_when

FOLLOW_DELAY_MS = 40  # ms of quiet after an edit before the score is engraved again
PREVIEW_MAX_NOTES = 64  # notes changed at most for an edit to be previewed (its segments)
PREVIEW_MAX_SEGMENTS = 2  # ... in at most this many segments
DURATION_KEYS = {  # MuseScore's digits: 3 = 16th ... 7 = whole
    Qt.Key.Key_3: Fraction(1, 4), Qt.Key.Key_4: Fraction(1, 2), Qt.Key.Key_5: Fraction(1),
    Qt.Key.Key_6: Fraction(2), Qt.Key.Key_7: Fraction(4),
}


Segments = list[tuple[str, str | None]]  # (signature, SVG; None: the page shown is current)


def engrave_job(notes: list[NoteEvent], settings: dict, shown: frozenset[str] = frozenset()
                ) -> tuple[ScoreResult | None, Segments]:
    """The score and its segments' SVG (plain data: runs on a worker thread)."""
    return run_to_end(engrave_steps(notes, settings, shown))


def engrave_steps(notes: list[NoteEvent], settings: dict, shown: frozenset[str] = frozenset()
                  ) -> Steps[tuple[ScoreResult | None, Segments]]:
    """`engrave_job` yielding progress between segments, so a worker can stop it there.

    Only segments whose signature is not among `shown` (the segments on screen) are
    engraved; the others come back as (signature, None).
    """
    if not notes:
        return None, []
    result = yield from scaled(build_score_steps(notes, settings), 0.0, 0.5)
    out: Segments = []
    ranges = segments.segment_ranges(len(result.bars))
    for k, (a, b) in enumerate(ranges):
        sig = segments.segment_signature(result, a, b)
        out.append((sig, None if sig in shown else segments.engrave_segment(result, a, b)))
        yield 0.5 + 0.5 * (k + 1) / len(ranges)
    return result, out


def preview_steps(notes: list[NoteEvent], settings: dict, previous: ScoreResult,
                  changed: list[NoteEvent]) -> Steps[tuple[int, str] | None]:
    """("preview", segment index, SVG) for each segment of `previous` that the changed notes
    (their old and new versions) touch, built with its timing kept (`build_bars`); nothing
    when they touch more than PREVIEW_MAX_SEGMENTS."""
    starts = [b.start for b in previous.bars]
    times = [t for n in changed for t in (n.onset, n.offset)]
    pos = previous.tempo_map.to_quarters(times)
    touched = sorted({segments.segment_of(max(0, bisect_right(starts, float(q)) - 1))
                      for q in pos})
    last_segment = segments.segment_of(len(previous.bars) - 1)
    touched = [k for k in touched if k <= last_segment]
    if not touched or len(touched) > PREVIEW_MAX_SEGMENTS:
        return
    for k in touched:
        a, b = segments.segment_ranges(len(previous.bars))[k]
        quick = build_bars(notes, settings, previous, a, b - 1)
        yield ("preview", k, segments.engrave_score(quick.score, first=a == 0))


class ScoreView(QScrollArea):
    """The score of the document's notes, engraved by Verovio; click a note to select it
    (Shift+click adds or removes it).

    Signals:
        noteClicked(int): the NoteEvent id of a clicked note.
        editRequested(object): a `notation.edits` NoteEdit/SettingsEdit to apply as one
            undo step (the view never changes the notes itself).
        previewed(): an edit's segment is shown, built quickly with the timing kept
            (`preview_steps`), while the whole score is built again.
        engraved(): a new engraving is shown (the whole score: only changed segments are
            engraved again, see `engrave_steps`).
        failed(str): engraving failed (the previous pages stay).
    """

    background = True  # engrave on a worker thread (False: at once, in the caller)

    noteClicked = Signal(int)
    editRequested = Signal(object)
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
        self._segments: list[tuple[str, Page]] = []  # what is on screen, segment by segment
        self._pages: dict[str, Page] = {}  # the whole score's last pages by signature
        self._worker: GeneratorWorker | None = None
        self._pending = False
        self.pages_widget.clicked.connect(self._on_click)
        self.pages_widget.contextRequested.connect(self._context_menu)
        document.selectionChanged.connect(self._selection_changed)
        # the score follows the document's notes and settings after a quiet moment
        self._follow = QTimer(self, interval=FOLLOW_DELAY_MS, singleShot=True)
        self._follow.timeout.connect(lambda: self.set_document_notes(document.sorted_notes(),
                                                                     dict(document.settings)))
        document.notesChanged.connect(self._follow.start)
        document.settingsChanged.connect(lambda _key: self._follow.start())

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
        if k < len(self._segments):
            self._segments[k] = ("", Page(svg))  # no signature: engraved again at the end
            self.pages_widget.set_pages([page for _, page in self._segments])
            self._show_selection()
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
        self._segments = [(sig, Page(svg) if svg is not None else kept[sig]) for sig, svg in new]
        self._pages = dict(self._segments)
        self.result = result
        self._built_from = {n.id: n for n in self.notes}
        self._built_settings = dict(self.settings)
        self.pages_widget.set_pages([page for _, page in self._segments])
        self._show_selection()
        self.engraved.emit()

    def set_playback_position(self, seconds: float, follow: bool = False) -> None:
        """Highlight the bar playback is in (the score follows it when `follow`)."""
        widget = self.pages_widget
        widget.cursor = None
        if self.result is not None and self._segments:
            q = float(self.result.tempo_map.to_quarters(seconds))
            starts = [b.start for b in self.result.bars]
            bar = max(0, bisect_right(starts, q) - 1)
            if q < float(self.result.bars[-1].end):
                k = segments.segment_of(bar)
                box = widget.pages[k].measure_box(bar - segments.segment_ranges(
                    len(self.result.bars))[k][0]) if k < len(widget.pages) else None
                widget.cursor = (k, box) if box is not None else None
        rect = widget.cursor_rect()
        if follow and rect is not None:
            self.ensureVisible(int(rect.center().x()), int(rect.center().y()), 0,
                               int(rect.height() / 2) + 20)
        widget.update()

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
        menu = QMenu(self)
        ids, r, notes = sorted(self.selected), self.result, self.document.sorted_notes()
        settings = self.document.settings
        bar = edits.bar_of(r, note_id) if note_id is not None else 1
        if ids:
            for text, fn in (
                ("Pitch up\tUp", lambda: edits.transpose(notes, ids, 1)),
                ("Pitch down\tDown", lambda: edits.transpose(notes, ids, -1)),
                ("Respell enharmonically\tJ", lambda: edits.respell(settings, ids, r)),
                ("Dotted\t.", lambda: edits.scale_length(notes, ids, Fraction(3, 2), r)),
                ("Insert rest before\t0", lambda: edits.insert_rest(notes, ids, r)),
                ("Delete\tDel", lambda: edits.delete(notes, ids)),
            ):
                menu.addAction(text, lambda fn=fn: self.request(fn()))
            lengths = menu.addMenu("Duration")
            for name, q in (("Sixteenth\t3", Fraction(1, 4)), ("Eighth\t4", Fraction(1, 2)),
                            ("Quarter\t5", Fraction(1)), ("Half\t6", Fraction(2)),
                            ("Whole\t7", Fraction(4))):
                lengths.addAction(name, lambda q=q: self.request(
                    edits.set_length(notes, ids, q, r)))
            menu.addSeparator()
        menu.addAction(f"Time signature from bar {bar}…", lambda: self._ask_meter(bar))
        menu.addAction(f"Key from bar {bar}…", lambda: self._ask_key(bar))
        menu.addAction(f"Tempo from bar {bar}…", lambda: self._ask_tempo(bar))
        return menu

    def _ask_meter(self, bar: int) -> None:
        text, ok = QInputDialog.getText(self, "Time signature", f"From bar {bar}:",
                                        text=str(self.result.bar_at(self._bar_pos(bar)).meter))
        if ok and text.strip():
            self._request_checked(lambda: edits.set_meter_from(self.document.settings, bar, text))

    def _ask_key(self, bar: int) -> None:
        text, ok = QInputDialog.getText(self, "Key", f"From bar {bar} (e.g. D major, F# minor):",
                                        text=self.result.key_at(bar))
        if ok and text.strip():
            self._request_checked(lambda: edits.set_key_from(self.document.settings, bar, text))

    def _ask_tempo(self, bar: int) -> None:
        start = self._bar_pos(bar)
        current = self.result.tempo_map.bpm_at(float(start))
        bpm, ok = QInputDialog.getDouble(self, "Tempo", f"Quarter notes per minute from bar {bar}:",
                                         round(current, 1), 10, 400, 1)
        if ok:
            self._request_checked(lambda: edits.set_tempo_from(self.document.settings, bar, bpm))

    def _bar_pos(self, bar: int) -> Fraction:
        for b in self.result.bars:
            if b.number == bar:
                return b.start
        return Fraction(0)

    def _request_checked(self, make) -> None:
        try:
            self.request(make())
        except ValueError as exc:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(self, "Score", str(exc))
