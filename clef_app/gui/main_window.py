"""Clef's main window: spectrogram workspace above the score, transport, menus, status bar.

The window lays out widgets and connects signals; the work lives in the application
controller (the document, its files, autosave, exports, and the model's jobs: Transcribe,
Transcribe Again, "Why this note?": `gui.controller`, `gui.model_jobs`), the views
(spectrogram, `ScoreView`, `LivePanel` in a dock) and `Playback`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QToolButton,
    QWidget,
)

from clef_app.gui import menus, preferences, workers
from clef_app.gui.audition import Audition
from clef_app.gui.controller import AppController
from clef_app.gui.job_status import TranscriptionStatus, sync_model_actions
from clef_app.gui.live_panel import LivePanel
from clef_app.gui.looping import Looping
from clef_app.gui.model_choice import find_model
from clef_app.gui.model_menu import ModelStatus
from clef_app.gui.playback_controls import Playback, PlaybackControls
from clef_app.gui.score_view import ScoreView
from clef_app.gui.settings_dialog import SettingsDialog, device_index
from clef_app.gui.spectrogram_view import SpectrogramView
from clef_app.gui.velocity_box import VelocityBox
from clef_app.gui.why_overlay import WhyOverlay
from clef_app.notation.confidence import read_bands

LIVE_DOCK_SHARE = 1 / 3  # the live dock opens at most this share of the window's width
SPECTROGRAM_BAR_AT = 0.1  # the score shows the bar this far into the spectrogram's view
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
        self.document, self.jobs = self.controller.document, self.controller.jobs
        self.spectrogram = SpectrogramView(self.document)
        self.why_overlay = WhyOverlay(self.spectrogram.plot)
        self.playback = Playback(self.document, self)
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
        self.update_model_actions()
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
        self.spectrogram.vb.sigXRangeChanged.connect(self._spectrogram_moved)

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
        self.update_model_actions()

    def update_model_actions(self) -> None:
        """Transcribe and Why This Note? enabled when they can run, else saying why not."""
        sync_model_actions(self.named_actions, self.jobs)

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
        self.transcribing = TranscriptionStatus(self.jobs.transcription)
        self.transcribing.message.connect(self.status)
        self.export_progress = QProgressBar(maximum=1000, textVisible=True)
        self.export_progress.setFixedWidth(180)
        self.export_progress.setFormat("exporting %p%")
        self.export_cancel = QToolButton(text="Cancel", toolTip="stop exporting (nothing is "
                                         "written)")
        self.audio_label = QLabel()
        self.model_status = ModelStatus(self.controller)  # the active model; adapting
        for w in (self.hover_label, self.transcribing, self.export_progress, self.export_cancel,
                  self.model_status, self.audio_label):
            bar.addPermanentWidget(w)
        for w in (self.export_progress, self.export_cancel):
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
        self.spectrogram.note_actions = [self.named_actions[name] for name in
                                         ("why", "delete", "loop_selection")]
        self._connect_jobs()

    def _connect_jobs(self) -> None:
        """The model's jobs: found notes shown as they come, the view fitted to a finished
        transcription's notes, the map of "Why this note?" drawn; the actions follow."""
        jobs, view = self.jobs, self.spectrogram
        jobs.changed.connect(self.update_model_actions)
        jobs.transcription.found.connect(view.show_found)
        jobs.transcription.finished.connect(
            lambda summary: (view.show_found([]), summary and view.fit_notes_pitch()))
        jobs.transcription.failed.connect(lambda _msg: view.show_found([]))
        jobs.why.explained.connect(self.why_overlay.show)
        jobs.why.cleared.connect(self.why_overlay.clear)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    # -- status --------------------------------------------------------------------------
    def status(self, text: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(text, ms)

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

    def _spectrogram_moved(self) -> None:
        """The score brings the bar near the spectrogram's left edge into view (a tenth of
        the way in, where following playback puts the cursor); while playback is followed,
        the playing bar leads instead."""
        if self.playback.playing and self.named_actions["follow"].isChecked():
            return
        (x0, x1), _ = self.spectrogram.vb.viewRange()
        self.score_view.follow_time(max(0.0, x0 + SPECTROGRAM_BAR_AT * (x1 - x0)))

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
        self.playback.close()
        self.score_view.shutdown()
        self.live_panel.shutdown()
        workers.stop_all()
        event.accept()


def shortcut(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keys]
