"""Autosave while there are unsaved edits, and the question after a crash.

`Autosave` counts document changes and, on a timer, has `project.autosave.Autosaver`
write the recovery file; the controller gives it the snapshot to write. `RestoreQuestion`
is the non-blocking message box shown at start for each recovery file a crashed session
left behind; `RecoveryOffer` asks it for each file in turn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from clef_app.gui.document import Document
from clef_app.project import Project, ProjectError
from clef_app.project.autosave import (
    AUTOSAVE_INTERVAL_S,
    Autosaver,
    Recovery,
    find_recoveries,
)

MAX_TICK_S = 1.0  # s between checks whether an autosave is due
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


class Autosave(QObject):
    """Writes `snapshot()` to this session's recovery file when the document changed and
    an interval has passed; `snapshot` returns None when nothing is unsaved."""

    failed = Signal(str)  # one line: why autosave is off or a write failed

    def __init__(self, document: Document, snapshot: Callable[[], Project | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self.generation = 0  # counts document changes
        self.loading = False  # a document being loaded is not a change
        # ticks check whether a write is due; writing at the first tick past `interval - tick`
        # keeps the work a crash can cost within one interval
        interval = autosave_interval()
        tick = min(MAX_TICK_S, interval / 5)
        self.saver: Autosaver | None = None
        self.error = ""
        try:
            self.saver = Autosaver(recovery_dir(), max(0.0, interval - tick))
        except (OSError, ProjectError) as exc:
            self.error = f"autosave is off: {exc}"
        for signal in (document.notesChanged, document.settingsChanged, document.audioChanged):
            signal.connect(self._changed)
        document.undo_stack.indexChanged.connect(self._changed)
        self._timer = QTimer(self, interval=max(50, int(tick * 1000)))
        self._timer.timeout.connect(self.save_if_due)
        self._timer.start()

    def _changed(self, *_: object) -> None:
        if not self.loading:
            self.generation += 1

    def save_if_due(self) -> None:
        if self.saver is None:
            return
        try:
            self.saver.maybe_save(self.snapshot, self.generation)
        except ProjectError as exc:
            self.failed.emit(f"autosave failed: {exc}")

    def save_now(self) -> None:
        """Write the recovery file at once (restored work is unsaved work)."""
        project = self.snapshot()
        if self.saver is not None and project is not None:
            try:
                self.saver.save(project, self.generation)
            except ProjectError as exc:
                self.failed.emit(f"autosave failed: {exc}")

    def mark_saved(self) -> None:
        """The user saved: no recovery file until the document changes again."""
        if self.saver is not None:
            self.saver.mark_saved(self.generation)

    def shutdown(self) -> None:
        """The app quits after the user saved or discarded: drop the recovery file."""
        self._timer.stop()
        if self.saver is not None:
            self.saver.close()
            self.saver = None


class RestoreQuestion(QMessageBox):
    """"Restore unsaved work?" for one recovery file: Restore, Discard or Later.

    Shown with `open()`, so the window stays live; `answered(button)` gives the choice.
    """

    answered = Signal(object)  # QMessageBox.StandardButton

    def __init__(self, recovery: Recovery, parent: QWidget | None = None) -> None:
        when = datetime.fromtimestamp(recovery.saved_at).strftime("%d %b %Y, %H:%M:%S")
        super().__init__(QMessageBox.Icon.Question, "Restore unsaved work?",
                         f"Clef was closed before your work was saved. Restore the state "
                         f"autosaved on {when}?", Button.Yes | Button.Discard | Button.Ignore,
                         parent)
        self.recovery = recovery
        self.button(Button.Yes).setText("Restore")
        self.button(Button.Ignore).setText("Later")
        self.setDefaultButton(Button.Yes)
        self.finished.connect(lambda code: self.answered.emit(Button(code)))


class RecoveryOffer(QObject):
    """At start: asks, one recovery file at a time and without blocking, whether to restore
    the work crashed sessions left; `restore(recovery)` (the controller's) loads one and says
    whether it did (then nothing more is asked)."""

    def __init__(self, restore: Callable[[Recovery], bool],
                 dialog_parent: Callable[[], QWidget | None], parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self._restore = restore
        self._dialog_parent = dialog_parent
        self.question: RestoreQuestion | None = None  # the one shown now
        self._pending: list[Recovery] = []

    def offer(self) -> int:
        """Start asking; how many recovery files were found."""
        try:
            self._pending = find_recoveries(recovery_dir())
        except OSError:
            self._pending = []
        found = len(self._pending)
        self._ask_next()
        return found

    def _ask_next(self) -> None:
        if not self._pending:
            return
        box = self.question = RestoreQuestion(self._pending.pop(0), self._dialog_parent())
        box.answered.connect(lambda button, b=box: self._answered(b, button))
        box.open()

    def _answered(self, box: RestoreQuestion, button: Button) -> None:
        self.question = None
        box.deleteLater()
        if button == Button.Discard:
            box.recovery.discard()
        elif button == Button.Yes and self._restore(box.recovery):
            return
        self._ask_next()
