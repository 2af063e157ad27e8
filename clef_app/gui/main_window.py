"""Clef's main window: spectrogram workspace above the score, transport, menus, status bar.

The window lays out widgets and connects signals; the work lives in the application
controller (the document, its files, autosave, exports: `gui.controller`), the views
(spectrogram, `ScoreView`, `LivePanel` in a dock), `Playback`, `Transcription` and
`WhyThisNote`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QToolButton,
    QWidget,
)

from clef_app.gui import menus, preferences, workers
from clef_app.gui.audition import Audition
from clef_app.gui.axes import format_time
from clef_app.gui.controller import AppController
from clef_app.gui.live_panel import LivePanel
from clef_app.gui.looping import Looping
from clef_app.gui.model_menu import ModelStatus
from clef_app.gui.playback_controls import Playback, PlaybackControls
from clef_app.gui.score_view import ScoreView
from clef_app.gui.settings_dialog import SettingsDialog, device_index
from clef_app.gui.spectrogram_view import SpectrogramView
from clef_app.gui.transcribe import Transcription, find_model
from clef_app.gui.velocity_box import VelocityBox
from clef_app.gui.why_overlay import WhyOverlay, WhyThisNote
from clef_app.notation.confidence import read_bands

LIVE_DOCK_SHARE = 1 / 3  # the live dock opens at most this share of the window's width
SCORE_HINT = ("The score appears here once there are notes:\n"
              "Transcribe (Ctrl+T) writes them from the recording,\n"
              "or draw them on the spectrogram (D, then drag).")
NO_RECORDING_HINT = ("The score appears here once there are notes:\n"
                     "open a recording (Ctrl+O) and Transcribe it (Ctrl+T).")


class PaneHint(QLabel):
    """A centred line of guidance over an empty pane, following its size."""

    def __init__(self, pane: QWidget) -> None:
        super().__init__(pane)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("color: #6a6a74; font-size: 15px; background: transparent;")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        pane.installEventFilter(self)
        self.setGeometry(pane.rect())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(obj.rect())
        return False


class MainWindow(QMainWindow):
    """One window, one document."""

    def __init__(self, controller: AppController | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Clef[*]")
        self.resize(1500, 920)
        self.controller = controller if controller is not None else AppController(self)
        self.controller.dialog_parent = self
        self.document = self.controller.document
        self.spectrogram = SpectrogramView(self.document)
        self.playback = Playback(self.document, self)
        self.transcription = Transcription(self.document, self)
        self.why = WhyThisNote(self.document, WhyOverlay(self.spectrogram.plot), self)
        self.audition = Audition(self)
        self.audition.device = device_index(preferences.get("audio/output_device"), "output")
        self.transport = PlaybackControls(self.playback)
        self.looping = Looping(self.document, self.spectrogram, self.transport, self.playback,
                               self)
        self.score_view = ScoreView(self.document)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.spectrogram)
        self.splitter.addWidget(self.score_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.velocity = VelocityBox()
        self.named_actions: dict[str, QAction] = menus.build(self)
        self._build_status_bar()
        self.live_panel = LivePanel(self.document)
        self._make_live_dock()
        self._use_model_bands()
        self._connect()
        self._connect_score()
        self.apply_preferences()
        self._restore_window_state()
        self._update_transcribe_action()
        self._update_why_action()
        self._connect_controller()
        self.spectrogram.graphics.setFocus()

    # -- construction ------------------------------------------------------------------
    def _connect_score(self) -> None:
        """The score's edits are undo steps; its engraving is kept for exports."""
        view, doc = self.score_view, self.document
        self.score_hint = PaneHint(view)
        for signal in (doc.notesChanged, doc.audioChanged):
            signal.connect(self._update_score_hint)
        self._update_score_hint()
        view.editRequested.connect(doc.apply)
        view.failed.connect(lambda msg: self.status(f"score: {msg}"))
        view.engraved.connect(lambda: self.controller.keep_score(view.notes, view.settings,
                                                                 view.result))

    def _update_score_hint(self) -> None:
        doc = self.document
        self.score_hint.setText(SCORE_HINT if doc.samples is not None else NO_RECORDING_HINT)
        self.score_hint.setVisible(not doc.notes)

    def _make_live_dock(self) -> None:
        """The live-input panel in a dock, hidden until View › Live Input (it opens the mic);
        without an input device the panel says so and the rest of Clef works."""
        self.live_panel.recordingFinished.connect(self._recording_finished)
        self.live_dock = dock = QDockWidget("Live input", self)
        dock.setObjectName("liveDock")
        dock.setWidget(self.live_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        action = dock.toggleViewAction()
        action.triggered.connect(self._live_dock_opened)
        action.setText("&Live Input")
        action.setShortcut(QKeySequence("Ctrl+R"))
        action.setToolTip("record from a microphone or line input, transcribing as you play")
        self.named_actions["live"] = action
        self.menus["view"].addSeparator()
        self.menus["view"].addAction(action)
        self.toolbar.insertAction(self.named_actions["transcribe"], action)

    def _use_model_bands(self) -> None:
        """Notes are shaded by how often the installed model's notes of that confidence
        are right (its calibration, `notation.confidence`)."""
        bands = read_bands(find_model()[0])
        for item in (self.spectrogram.notes_item, self.live_panel.notes_item,
                     self.live_panel.sounding_item):
            item.bands = bands

    def _model_changed(self) -> None:
        self._use_model_bands()
        self._update_transcribe_action()
        self._update_why_action()

    def _live_dock_opened(self, visible: bool) -> None:
        """The dock reopens where and as wide as it was, but leaves the workspace most of
        the window (its width may come from another session, or a bigger window)."""
        if visible:
            QTimer.singleShot(0, self._fit_live_dock)  # once the layout has placed it

    def _fit_live_dock(self) -> None:
        dock = self.live_dock
        limit = max(int(self.width() * LIVE_DOCK_SHARE), dock.minimumSizeHint().width())
        if dock.isVisible() and not dock.isFloating() and dock.width() > limit:
            self.resizeDocks([dock], [limit], Qt.Orientation.Horizontal)

    def _recording_finished(self, path: str) -> None:
        self.controller.open(path, notes=list(self.live_panel.recorded_notes))

    def _connect_controller(self) -> None:
        c, jobs = self.controller, self.controller.exports
        c.status.connect(self.status)
        c.titleChanged.connect(self.setWindowTitle)
        c.opened.connect(lambda kind: self.spectrogram.fit() if self.document.samples is None
                         else self.spectrogram.fit_opened())
        jobs.started.connect(lambda path: self._show_export(True))
        jobs.progress.connect(lambda f: self.export_progress.setValue(int(f * 1000)))
        jobs.finished.connect(lambda path: self._show_export(False))
        self.export_cancel.clicked.connect(jobs.cancel)
        if c.autosave.error:
            self.status(c.autosave.error, 0)
        if c.model.fallback:
            self.status(c.model.fallback, 0)
        c.model.changed.connect(lambda _text: self._model_changed())

    def _show_export(self, on: bool) -> None:
        self.export_progress.setValue(0)
        self.export_progress.setVisible(on)
        self.export_cancel.setVisible(on)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.hover_label = QLabel()
        self.hover_label.setMinimumWidth(330)
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFixedWidth(220)
        self.progress.setFormat("transcribing %p%")
        self.cancel_button = QToolButton(text="Cancel", toolTip="stop transcribing (the "
                                         "notes you had stay)")
        self.cancel_button.clicked.connect(self.transcription.cancel)
        self.use_partial_button = QToolButton(toolTip="put the notes the cancelled "
                                              "transcription found in place of yours up to "
                                              "where it stopped (undoable)")
        self.use_partial_button.clicked.connect(self._use_partial)
        self.export_progress = QProgressBar(maximum=1000, textVisible=True)
        self.export_progress.setFixedWidth(180)
        self.export_progress.setFormat("exporting %p%")
        self.export_cancel = QToolButton(text="Cancel", toolTip="stop exporting (nothing is "
                                         "written)")
        self.audio_label = QLabel()
        self.model_status = ModelStatus(self.controller)  # the active model; adapting
        for w in (self.hover_label, self.progress, self.cancel_button, self.use_partial_button,
                  self.export_progress, self.export_cancel, self.model_status, self.audio_label):
            bar.addPermanentWidget(w)
        for w in (self.progress, self.cancel_button, self.use_partial_button,
                  self.export_progress, self.export_cancel):
            w.hide()
        if not self.playback.available:
            self.audio_label.setText("no audio output")
            self.audio_label.setToolTip(self.playback.error)
            self.status(f"{self.playback.error}: playback is off, everything else works")

    def _connect(self) -> None:
        doc, view = self.document, self.spectrogram
        doc.undo_stack.cleanChanged.connect(self._clean_changed)
        doc.selectionChanged.connect(self._selection_changed)
        doc.notesChanged.connect(self._sync_velocity)
        doc.audioChanged.connect(self._update_transcribe_action)
        doc.audioLoaded.connect(self._update_transcribe_action)
        view.hoverInfo.connect(self.hover_label.setText)
        view.seekRequested.connect(self.playback.seek)
        self.looping.message.connect(self.status)
        view.pitchClicked.connect(self._audition)
        self.audition.message.connect(self.status)
        self.audition.rendered.connect(lambda *_: QTimer.singleShot(  # dropped with the axis
            400, view.pitch_axis, lambda: view.pitch_axis.set_pressed(None)))
        self.playback.positionChanged.connect(self._position_changed)
        self.playback.message.connect(self.status)
        self.velocity.edited.connect(
            lambda v: self.spectrogram.editor.set_velocity(v, merge=True))
        self.velocity.stepped.connect(self.spectrogram.editor.step_velocity)
        self.transcription.started.connect(self._transcription_started)
        self.transcription.progress.connect(self._transcription_progress)
        self.transcription.found.connect(self.spectrogram.show_found)
        doc.audioChanged.connect(self.use_partial_button.hide)
        self.transcription.finished.connect(self._transcription_ended)
        self.transcription.failed.connect(self._transcription_failed)
        self.spectrogram.note_actions = [self.named_actions[name] for name in
                                         ("why", "delete", "loop_selection")]
        for signal in (doc.selectionChanged, doc.audioChanged, doc.audioLoaded, self.why.started,
                       self.why.finished, self.why.failed):
            signal.connect(self._update_why_action)
        self.why.started.connect(lambda: self.status("working out why the model wrote this "
                                                     "note…", 0))
        self.why.finished.connect(lambda text: self.status(text) if text else None)
        self.why.failed.connect(lambda msg: self.show_error("Why this note?", msg))

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    # -- status and errors ---------------------------------------------------------------
    def status(self, text: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_error(self, title: str, text: str) -> None:
        """A modal message; the document stays as it was."""
        QMessageBox.warning(self, title, text)

    # -- editing ---------------------------------------------------------------------------
    def _sync_velocity(self) -> None:
        self.velocity.show_notes(self.document.selected_notes())

    def _selection_changed(self) -> None:
        self._sync_velocity()
        n = len(self.document.selection)
        self.named_actions["delete"].setEnabled(n > 0)
        self.named_actions["loop_selection"].setEnabled(n > 0)
        if n:
            self.status(f"{n} note{'s' if n > 1 else ''} selected", 3000)

    def _audition(self, pitch: int) -> None:
        self.spectrogram.pitch_axis.set_pressed(pitch)
        self.audition.play(pitch)

    # -- playback ---------------------------------------------------------------------------
    def _position_changed(self, seconds: float) -> None:
        follow = self.named_actions["follow"].isChecked() and self.playback.playing
        self.spectrogram.set_cursor(seconds, follow=follow)
        self.score_view.set_playback_position(seconds, follow=follow)

    # -- transcription ------------------------------------------------------------------------
    def _update_transcribe_action(self) -> None:
        action = self.named_actions["transcribe"]
        path, why = find_model()
        if path is None:
            action.setEnabled(False)
            action.setToolTip(f"Transcribe is unavailable: {why}")
            action.setStatusTip(f"Transcribe is unavailable: {why}")
        else:
            has_audio = self.document.samples is not None
            loading = self.document.loading
            action.setEnabled(has_audio and not loading and not self.transcription.running)
            tip = "Transcribe the recording with the Clef model (Ctrl+T)"
            action.setToolTip("the recording is still loading" if loading else
                              tip if has_audio else "open a recording to transcribe it")
            action.setStatusTip(tip)

    def _update_why_action(self) -> None:
        why = self.why.unavailable()
        action = self.named_actions["why"]
        action.setEnabled(not why)
        action.setToolTip(f"Why this note? is unavailable: {why}" if why else menus.WHY_TIP)

    def explain_note(self) -> None:
        """Show where the model looked to write the selected note."""
        why = self.why.start()
        if why:
            self.status(f"cannot explain: {why}")

    def transcribe(self) -> None:
        why = self.transcription.start()
        if why:
            self.status(f"cannot transcribe: {why}")

    def _transcription_started(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("transcribing %p%")
        self.progress.show()
        self.cancel_button.show()
        self.use_partial_button.hide()
        self.named_actions["transcribe"].setEnabled(False)

    def _transcription_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        left = self.transcription.remaining()
        if left is not None and fraction < 1.0:
            self.progress.setFormat(f"transcribing %p%, about {format_time(left)} left")

    def _transcription_stopped(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.spectrogram.show_found([])
        self._update_transcribe_action()
        self._update_why_action()

    def _transcription_ended(self, summary: str) -> None:
        self._transcription_stopped()
        if summary:
            self.spectrogram.fit_notes_pitch()
            self.status(summary)
            return
        self.status("transcription cancelled: your notes are as they were", 0)
        partial = self.transcription.partial
        if partial is not None:
            notes, until = partial
            self.use_partial_button.setText(f"Use the {len(notes)} notes found up to "
                                            f"{format_time(until)}")
            self.use_partial_button.show()

    def _use_partial(self) -> None:
        self.use_partial_button.hide()
        count = self.transcription.use_partial()
        self.status(f"{count} notes of the cancelled transcription used (Ctrl+Z undoes it)")

    def _transcription_failed(self, message: str) -> None:
        self._transcription_stopped()
        self.show_error("Transcription failed", message)

    # -- preferences and state -------------------------------------------------------------
    def show_preferences(self) -> None:
        old_device = preferences.get("audio/output_device")
        if SettingsDialog(self).exec():
            self.apply_preferences()
            if preferences.get("audio/output_device") != old_device:
                self.playback.reopen()
                self.audition.device = device_index(preferences.get("audio/output_device"),
                                                    "output")

    def apply_preferences(self) -> None:
        self.spectrogram.set_look(preferences.get("spectrogram/colormap"),
                                  preferences.get("spectrogram/db_range"))
        self.spectrogram.set_scale(preferences.get("spectrogram/scale"))
        self.named_actions["follow"].setChecked(preferences.get("playback/follow"))

    def _restore_window_state(self) -> None:
        s = QSettings(preferences.ORGANISATION, preferences.APPLICATION)
        if s.value("window/geometry") is not None:
            self.restoreGeometry(s.value("window/geometry"))
        if s.value("window/state") is not None:
            self.restoreState(s.value("window/state"))
            # the dock keeps its place and size, but opens (and opens the input device) only
            # when asked, as Sonic Visualiser's and Melodyne's recording panels do
            self.live_dock.hide()
        if s.value("window/splitter") is not None:
            self.splitter.restoreState(s.value("window/splitter"))
        else:
            self.splitter.setSizes([560, 300])

    def save_window_state(self) -> None:
        s = QSettings(preferences.ORGANISATION, preferences.APPLICATION)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        preferences.put("playback/follow", self.named_actions["follow"].isChecked())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.controller.confirm_discard():
            event.ignore()
            return
        self.controller.shutdown()
        self.save_window_state()
        self.transcription.cancel()
        self.why.clear()
        self.playback.close()
        self.score_view.shutdown()
        self.live_panel.shutdown()
        workers.stop_all()
        event.accept()


def shortcut(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keys]
