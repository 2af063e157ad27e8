"""File › Open/Save Project, unsaved-changes prompts, autosave and crash recovery in the GUI.

`install(window)` adds the actions to the main window's File menu and routes `.clef` files
opened from anywhere (command line, Open Recent) to `ProjectActions.open_project`. The file
format, atomic writes and recovery files are Qt-free (`clef_app.project`); this module only
moves data between them and the window's `Document`, and asks the user.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from clef_app.audio.io import AudioError, load_audio
from clef_app.gui import preferences
from clef_app.project import (
    PROJECT_SUFFIX,
    EmbeddedAudio,
    Project,
    ProjectError,
    ReferencedAudio,
    load_project,
    save_project,
)
from clef_app.project.autosave import AUTOSAVE_INTERVAL_S, Autosaver, Recovery, find_recoveries

if TYPE_CHECKING:
    from clef_app.gui.main_window import MainWindow

PROJECT_FILTER = f"Clef projects (*{PROJECT_SUFFIX});;All files (*)"
MAX_TICK_S = 1.0  # s between checks whether an autosave is due
preferences.DEFAULTS.setdefault("project/embed_audio", True)  # projects carry their recording

Button = QMessageBox.StandardButton


def recovery_dir() -> Path:
    """Where recovery files live: $CLEF_RECOVERY_DIR, else the app data folder's recovery/."""
    if os.environ.get("CLEF_RECOVERY_DIR"):
        return Path(os.environ["CLEF_RECOVERY_DIR"])
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".clef") / "recovery"


def autosave_interval() -> float:
    """Seconds between autosaves ($CLEF_AUTOSAVE_SECONDS overrides, for tests)."""
    try:
        return float(os.environ.get("CLEF_AUTOSAVE_SECONDS", AUTOSAVE_INTERVAL_S))
    except ValueError:
        return AUTOSAVE_INTERVAL_S


def install(window: MainWindow) -> ProjectActions:
    """Add project actions to `window` (called by MainWindow once its menus exist)."""
    window.project_actions = ProjectActions(window)
    return window.project_actions


class ProjectActions(QObject):
    """Project file actions, the unsaved-changes prompt and autosave for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.path: Path | None = None  # the project file the document belongs to
        self.generation = 0  # counts document changes, for the autosaver
        self._loading = False
        self._open_other: Callable[[str | Path], bool] = window.open_path
        window.open_path = self.open_any  # .clef files come here; the rest as before
        window.confirm_discard = self.confirm_discard
        self._build_actions()
        # ticks check whether a write is due; writing at the first tick past `interval - tick`
        # keeps the work a crash can cost within one interval
        interval = autosave_interval()
        tick = min(MAX_TICK_S, interval / 5)
        self._autosaver: Autosaver | None = None
        try:
            self._autosaver = Autosaver(recovery_dir(), max(0.0, interval - tick))
        except (OSError, ProjectError) as exc:
            window.status(f"autosave is off: {exc}", 0)
        for signal in (self.document.notesChanged, self.document.settingsChanged,
                       self.document.audioChanged):
            signal.connect(self._changed)
        self.document.undo_stack.indexChanged.connect(self._changed)
        self._timer = QTimer(self, interval=max(50, int(tick * 1000)))
        self._timer.timeout.connect(self.autosave_if_due)
        self._timer.start()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- actions -----------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        menu = w.menus["file"]
        first = w.named_actions["import_midi"]
        items = [
            ("open_project", "Open &Project…", self.ask_open, "Ctrl+Shift+O",
             "open a Clef project (.clef)"),
            ("save_project", "&Save Project", self.save, QKeySequence.StandardKey.Save,
             "save the notes, score settings, edit history and recording"),
            ("save_project_as", "Save Project &As…", self.save_as,
             QKeySequence.StandardKey.SaveAs, "save the project under a new name"),
        ]
        for name, text, slot, key, tip in items:
            action = QAction(text, w)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda *_, s=slot: s())
            w.named_actions[name] = action
            menu.insertAction(first, action)
        embed = QAction("&Embed Recording in Projects", w, checkable=True)
        embed.setChecked(bool(preferences.get("project/embed_audio")))
        embed.setToolTip("on: the project file holds the recording (FLAC); off: it refers to "
                         "the recording's file")
        embed.toggled.connect(lambda on: preferences.put("project/embed_audio", on))
        w.named_actions["embed_audio"] = embed
        menu.insertAction(first, embed)
        menu.insertSeparator(first)

    # -- opening -----------------------------------------------------------------------
    def open_any(self, path: str | Path) -> bool:
        path = Path(path)
        if path.suffix.lower() == PROJECT_SUFFIX:
            return self.open_project(path)
        if not self._open_other(path):
            return False
        if self.document.audio_path == path:  # a new recording: no project yet
            self.path = None
        return True

    def ask_open(self) -> None:
        start = str(self.path.parent) if self.path else str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self.window, "Open Project", start, PROJECT_FILTER)
        if name:
            self.open_project(Path(name))

    def open_project(self, path: Path) -> bool:
        """Open a project as the document; on any problem the open document stays as it was."""
        if not self.confirm_discard():
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            project = load_project(path)
            edits = project.decoded_edits()
            audio_path, samples, rate, warning = self._project_audio(project, path.parent)
        except ProjectError as exc:
            QApplication.restoreOverrideCursor()
            self.window.show_error("Cannot open the project", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        self._load(project, edits, audio_path, samples, rate)
        self.document.undo_stack.setClean()
        self._set_path(path)
        preferences.add_recent(str(path.resolve()))
        self.window.refresh_recent()
        self.window.status(warning or f"opened {path.name}: {len(project.notes)} notes, "
                           f"{len(edits)} edits in the history")
        if warning:
            self.window.show_error("Recording not found", warning)
        return True

    def _project_audio(self, project: Project, folder: Path
                       ) -> tuple[Path | None, object, int, str]:
        """(audio path, samples or None, rate, warning) for a loaded project."""
        audio = project.audio
        if isinstance(audio, EmbeddedAudio):
            return None, audio.samples, audio.sample_rate, ""
        if isinstance(audio, ReferencedAudio):
            found = audio.resolve(folder)
            if found is None:
                return None, None, 16_000, (f"The recording {audio.path} was not found; the "
                                            "notes are open without it.")
            try:
                loaded = load_audio(found)
            except AudioError as exc:
                return None, None, 16_000, f"The recording could not be read: {exc}"
            return found, loaded.samples, loaded.sample_rate, ""
        return None, None, 16_000, ""

    def _load(self, project: Project, edits: list, audio_path: Path | None, samples: object,
              rate: int) -> None:
        self._loading = True
        try:
            self.document.load(audio_path, samples, rate, project.notes, project.settings)
            self.document.restore_history(edits, project.edit_index)
        finally:
            self._loading = False
        self.window.spectrogram.fit_notes_pitch()

    # -- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current project file (asks for a name the first time)."""
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        doc = self.document
        stem = (self.path.stem if self.path else
                doc.audio_path.stem if doc.audio_path is not None else "untitled")
        folder = (self.path.parent if self.path else
                  doc.audio_path.parent if doc.audio_path is not None else Path.home())
        name, _ = QFileDialog.getSaveFileName(self.window, "Save Project",
                                              str(folder / f"{stem}{PROJECT_SUFFIX}"),
                                              PROJECT_FILTER)
        if not name:
            return False
        path = Path(name if name.lower().endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX)
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Write the project atomically; the document is marked saved only if it worked."""
        embed = bool(preferences.get("project/embed_audio")) or self.document.audio_path is None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            save_project(self.snapshot(embed=embed), path)
        except ProjectError as exc:
            QApplication.restoreOverrideCursor()
            self.window.show_error("Cannot save the project", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        self.document.undo_stack.setClean()
        self._set_path(path)
        if self._autosaver is not None:
            self._autosaver.mark_saved(self.generation)
        preferences.add_recent(str(path.resolve()))
        self.window.refresh_recent()
        self.window.status(f"saved {path.name}")
        return True

    def snapshot(self, embed: bool = False) -> Project:
        """The document as a Project (audio embedded, or referenced when it has a file)."""
        doc = self.document
        edits, index = doc.history()
        audio: EmbeddedAudio | ReferencedAudio | None = None
        if doc.samples is not None:
            if embed or doc.audio_path is None:
                audio = EmbeddedAudio(doc.samples, doc.sample_rate)
            else:
                audio = ReferencedAudio(str(doc.audio_path))
        return Project(notes=doc.sorted_notes(), audio=audio, settings=dict(doc.settings),
                       edits=[e.to_dict() for e in edits], edit_index=index)

    def _set_path(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            self.window.setWindowTitle(f"{path.name}[*] — Clef")

    # -- unsaved changes -----------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """True when the document may be replaced: it is saved, or the user saved or chose
        to discard the changes."""
        if self.document.undo_stack.isClean():
            return True
        name = self.path.name if self.path else "The current notes"
        answer = QMessageBox.question(
            self.window, "Save changes?", f"{name} has unsaved changes. Save them first?",
            Button.Save | Button.Discard | Button.Cancel, Button.Save)
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    # -- autosave and recovery -----------------------------------------------------------
    def _changed(self, *_: object) -> None:
        if not self._loading:
            self.generation += 1

    def autosave_if_due(self) -> None:
        """Write the recovery file when the document changed and an interval has passed."""
        if self._autosaver is None:
            return
        try:
            self._autosaver.maybe_save(self._recovery_snapshot, self.generation)
        except ProjectError as exc:
            self.window.status(f"autosave failed: {exc}")

    def _recovery_snapshot(self) -> Project | None:
        if self.document.undo_stack.isClean():
            return None  # nothing unsaved: no recovery file
        project = self.snapshot(embed=False)
        if self.path is not None:
            project.source_path = str(self.path.resolve())
        return project

    def offer_recovery(self) -> bool:
        """At start: offer to restore work a crashed session left; True if restored."""
        try:
            found = find_recoveries(recovery_dir())
        except OSError:
            return False
        for recovery in found:
            answer = self._ask_restore(recovery)
            if answer == Button.Ignore:
                continue
            if answer == Button.Discard:
                recovery.discard()
                continue
            if self.restore(recovery):
                return True
        return False

    def _ask_restore(self, recovery: Recovery) -> Button:
        when = datetime.fromtimestamp(recovery.saved_at).strftime("%d %b %Y, %H:%M:%S")
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"Clef was closed before your work was saved. Restore the state "
                          f"autosaved on {when}?", Button.Yes | Button.Discard | Button.Ignore,
                          self.window)
        box.button(Button.Yes).setText("Restore")
        box.button(Button.Ignore).setText("Later")
        box.setDefaultButton(Button.Yes)
        return Button(box.exec())

    def restore(self, recovery: Recovery) -> bool:
        """Load a recovery file as the (unsaved) document, then let it go."""
        if not self.confirm_discard():
            return False
        try:
            project = recovery.load()
            edits = project.decoded_edits()
            folder = Path(project.source_path).parent if project.source_path else None
            audio_path, samples, rate, warning = self._project_audio(project, folder)
        except ProjectError as exc:
            self.window.show_error("Cannot restore", f"{exc}\nThe recovery file is kept in "
                                   f"{recovery.path.parent}.")
            return False
        self._load(project, edits, audio_path, samples, rate)
        self.document.undo_stack.resetClean()  # restored work is unsaved work
        self._set_path(Path(project.source_path) if project.source_path else None)
        if self._autosaver is not None:
            self._autosaver.save(self._recovery_snapshot(), self.generation)
        recovery.discard()
        self.window.status(warning or f"restored {len(project.notes)} notes; save to keep them")
        return True

    def shutdown(self) -> None:
        """The app is quitting after the user saved or discarded: drop the recovery file."""
        self._timer.stop()
        if self._autosaver is not None:
            self._autosaver.close()
            self._autosaver = None
