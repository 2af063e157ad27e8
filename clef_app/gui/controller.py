"""The application controller: the one document, its project file, and every file route.

`AppController.open(path)` opens any kind of file Clef reads — a recording, a Clef project,
a MIDI file or a notes `.tsv` — and every route uses it: the File menu, Open Recent, the
command-line argument, the demo and a finished live take. The controller also owns the
current project path (which only `.clef` files set; a new recording clears it), the recent
files, autosave and the offer to restore after a crash, and saving, which asks before it
writes over a file that is not the open project. Exports run on a worker
(`gui.export_job`); Transcribe, Transcribe Again and "Why this note?" are its `jobs`
(`gui.model_jobs`). The main window lays out views and connects them to these signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from clef_app.audio.io import AudioError
from clef_app.errors import naming, one_line
from clef_app.gui import file_actions, preferences
from clef_app.gui.adapting import Adaptation
from clef_app.gui.decoding import RecordingDecoder
from clef_app.gui.document import Document
from clef_app.gui.export_job import ExportJob
from clef_app.gui.model_choice import ModelChoice
from clef_app.gui.model_jobs import ModelJobs
from clef_app.gui.reading import (
    NOTES_ERRORS,
    ProjectAudio,
    project_audio,
    read_notes,
    read_recording,
)
from clef_app.gui.recovery import Autosave, RecoveryOffer, RestoreQuestion
from clef_app.notation.midi_io import MidiError
from clef_app.notation.score import ScoreResult
from clef_app.project import (
    PROJECT_SUFFIX,
    EmbeddedAudio,
    Project,
    ProjectError,
    ReferencedAudio,
    load_project,
    save_project,
)
from clef_app.project.autosave import Recovery

preferences.DEFAULTS.setdefault("project/embed_audio", True)  # projects carry their recording
Button = QMessageBox.StandardButton
ADAPT_TITLE = "Adapt to My Recordings"
DEMO_NOTES = ("the demo's notes are what was played (its ground truth), not the model's: "
              "Transcribe (Ctrl+T) to see what the model hears")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


class AppController(QObject):
    """One document and everything about its files.

    Signals:
        status(str, int): a status-bar message and how many ms to show it (0: until replaced).
        titleChanged(str): the window title ("name[*] — Clef").
        opened(str): a file was opened: "recording", "project" or "notes".
        recentChanged(): the recent-files list changed.
    """

    status = Signal(str, int)
    titleChanged = Signal(str)
    opened = Signal(str)
    recentChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = Document(self)
        self.path: Path | None = None  # the project file the document belongs to
        self.dialog_parent: QWidget | None = None  # the window, once there is one
        self.autosave = Autosave(self.document, self._recovery_snapshot, self)
        self.autosave.failed.connect(lambda msg: self.status.emit(msg, 8000))
        self.exports = ExportJob(self)
        self.decoder = RecordingDecoder(self.document, self)
        self.decoder.finished.connect(self._decoded)
        self.decoder.failed.connect(lambda msg: self.show_error("The recording is damaged", msg))
        self.exports.message.connect(lambda msg: self.status.emit(msg, 8000))
        self.exports.failed.connect(lambda msg: self.show_error("Export failed", msg))
        self.jobs = ModelJobs(self.document, self)  # Transcribe, Transcribe Again, Why
        self.jobs.status.connect(self.status)
        self.jobs.error.connect(lambda title, msg: self.show_error(title, msg))
        self.model = ModelChoice(self)  # the active model: bundled or personal
        self.model.message.connect(lambda msg: self.status.emit(msg, 0))
        self.adapting = Adaptation(self)
        self.adapting.finished.connect(self._adapted)
        self.adapting.failed.connect(lambda msg: self.show_error(ADAPT_TITLE, msg))
        self.recovery = RecoveryOffer(self.restore, lambda: self.dialog_parent, self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- messages ----------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> None:
        """A modal message; the document stays as it was."""
        QMessageBox.warning(self.dialog_parent, title, text)

    def _ask(self, title: str, text: str, buttons, default) -> Button:
        return Button(QMessageBox.question(self.dialog_parent, title, text, buttons, default))

    # -- opening -----------------------------------------------------------------------
    def open(self, path: str | Path, notes: list | None = None) -> bool:
        """Open any file Clef reads; False (and the document unchanged) if it did not.

        A `.clef` project replaces the document and becomes the project path; a recording
        replaces the document (with `notes`, else those of a `.notes.tsv` beside it) and
        leaves no project path; a `.mid`/`.midi` or `.tsv` replaces the notes of the open
        document as one undo step.
        """
        path = Path(path)
        name = path.name.lower()
        if name.endswith(PROJECT_SUFFIX):
            return self.open_project(path)
        if name.endswith(file_actions.MIDI_SUFFIXES) or name.endswith(".tsv"):
            return self.import_notes(path)
        return self.open_recording(path, notes)

    def open_recording(self, path: Path, notes: list | None = None) -> bool:
        """A recording (with `notes`, else those of a `.notes.tsv` beside it); a long one
        opens once its header is read and decodes in the background (`gui.decoding`)."""
        if not self.confirm_discard():
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            got = read_recording(path, notes)
        except AudioError as exc:
            QApplication.restoreOverrideCursor()
            self.show_error("Cannot open the recording", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        beside = notes is None  # the notes, if any, come from a .notes.tsv beside it
        audio, notes = got.audio, got.notes
        self.decoder.cancel()
        self._loading(lambda: self.document.load(path, audio.samples, audio.sample_rate, notes,
                                                 available=0 if got.steps else None))
        if got.steps is not None:
            self.decoder.start(got.steps)
        self._set_path(None, path.name)
        self._remember(path)
        self.opened.emit("recording")
        extra = f", {len(notes)} notes" if notes else ""
        if beside and notes and _same_file(path, file_actions.DEMO):  # say whose they are
            self.status.emit(got.warning or DEMO_NOTES, 0)
            return True
        self.status.emit(got.warning or f"opened {path.name}: {audio.duration:.1f} s at "
                         f"{audio.sample_rate} Hz{extra}", 0 if got.warning else 8000)
        return True

    def _decoded(self, warning: str) -> None:
        if warning:
            self.status.emit(one_line(warning), 0)

    def import_notes(self, path: Path) -> bool:
        """The notes of a MIDI file or notes .tsv replace the document's, as one undo step."""
        try:
            notes = read_notes(path)
        except MidiError as exc:
            self.show_error("Cannot import the MIDI file", str(exc))
            return False
        except NOTES_ERRORS as exc:
            self.show_error("Cannot import the notes", naming(path.name, exc))
            return False
        if not notes:
            self.show_error("Nothing to import", f"{path.name} holds no notes.")
            return False
        doc = self.document
        doc.replace_notes(f"Import {path.name}", doc.sorted_notes(), notes)
        self.opened.emit("notes")
        self.status.emit(f"Import {path.name}: {len(notes)} notes (Ctrl+Z undoes it)", 8000)
        return True

    def open_project(self, path: Path) -> bool:
        """Open a project as the document; on any problem the open document stays as it was."""
        if not self.confirm_discard():
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            project = load_project(path)
            edits = project.decoded_edits()
            audio = project_audio(project, path.parent)
        except ProjectError as exc:
            QApplication.restoreOverrideCursor()
            self.show_error("Cannot open the project", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        self._load_project(project, edits, audio)
        warning = audio.warning
        self.document.undo_stack.setClean()
        self._set_path(path)
        self._remember(path)
        self.opened.emit("project")
        self.status.emit(warning or f"opened {path.name}: {len(project.notes)} notes, "
                         f"{len(edits)} edits in the history", 8000)
        if warning:
            self.show_error("Recording not found", warning)
        return True

    def open_demo(self) -> bool:
        if not file_actions.DEMO.is_file():
            self.status.emit(f"the demo recording is not installed ({file_actions.DEMO} is "
                             "missing)", 8000)
            return False
        return self.open(file_actions.DEMO)

    def _loading(self, load) -> None:
        self.autosave.loading = True
        try:
            load()
        finally:
            self.autosave.loading = False

    def _load_project(self, project: Project, edits: list, audio: ProjectAudio) -> None:
        """The project as the document; its recording, if still decoding, on the decoder."""
        def load() -> None:
            self.document.load(audio.path, audio.samples, audio.rate, project.notes,
                               project.settings, available=0 if audio.steps else None)
            self.document.restore_history(edits, project.edit_index)
            self.document.stored_corrections = project.corrections
        self.decoder.cancel()  # a recording still decoding must not land in this document
        self._loading(load)
        if audio.steps is not None:
            self.decoder.start(audio.steps)

    # -- recent files ------------------------------------------------------------------
    def recent(self) -> list[str]:
        """Recently opened or saved files that still exist, most recent first."""
        return [p for p in preferences.get("session/recent") if Path(p).exists()]

    def _remember(self, path: Path) -> None:
        preferences.add_recent(str(path.resolve()))
        self.recentChanged.emit()

    # -- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the open project file (asks for a name when there is none)."""
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        doc = self.document
        base = self.path or doc.audio_path
        stem = base.stem if base is not None else "untitled"
        folder = base.parent if base is not None else Path.home()
        path = file_actions.ask_save_project(self.dialog_parent, folder / f"{stem}"
                                             f"{PROJECT_SUFFIX}")
        return self.save_to(path) if path is not None else False

    def save_to(self, path: Path) -> bool:
        """Write the project atomically; the document is marked saved only if it worked.

        A file that exists and is not the open project is replaced only if the user says so.
        """
        path = Path(path)
        if self.document.loading:  # an embedded copy would be cut short
            self.status.emit("the recording is still loading: save again in a moment", 8000)
            return False
        if path.exists() and not self._is_open_project(path):
            answer = self._ask("Replace the file?", f"{path.name} already exists and is not "
                               "the open project. Replace it?", Button.Yes | Button.Cancel,
                               Button.Cancel)
            if answer != Button.Yes:
                return False
        embed = bool(preferences.get("project/embed_audio")) or self.document.audio_path is None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            save_project(self.snapshot(embed=embed), path)
        except ProjectError as exc:
            QApplication.restoreOverrideCursor()
            self.show_error("Cannot save the project", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        self.document.undo_stack.setClean()
        self._set_path(path)
        self.autosave.mark_saved()
        self._remember(path)
        self.status.emit(f"saved {path.name}", 8000)
        return True

    def _is_open_project(self, path: Path) -> bool:
        return self.path is not None and self.path.resolve() == path.resolve()

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
                       edits=[e.to_dict() for e in edits], edit_index=index,
                       corrections=doc.corrections())

    def _set_path(self, path: Path | None, name: str | None = None) -> None:
        """The project file (None: none yet); the title names it, or `name` without one."""
        self.path = path
        shown = path.name if path is not None else name
        self.titleChanged.emit(f"{shown}[*] — Clef" if shown else "Clef[*]")

    def confirm_discard(self) -> bool:
        """True when the document may be replaced: it is saved, or the user saved or chose
        to discard the changes."""
        if self.document.undo_stack.isClean():
            return True
        name = self.path.name if self.path else "The current notes"
        answer = self._ask("Save changes?", f"{name} has unsaved changes. Save them first?",
                           Button.Save | Button.Discard | Button.Cancel, Button.Save)
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    # -- the model: adapting, and which one is used ------------------------------------
    def adapt(self, others: list[Path] = ()) -> bool:
        """Adapt a personal model to the open document's corrections (unsaved ones too)
        and those of the projects `others`, in the background (`gui.adapting`); False, with
        the reason shown, if it cannot start."""
        doc = self.document
        if doc.loading:  # a long recording still decoding (gui.decoding)
            why = "the recording is still loading"
        else:
            current = self.snapshot(embed=True) if doc.samples is not None else None
            base = self.path or doc.audio_path
            others = [Path(p) for p in others if not self._is_open_project(Path(p))]
            why = self.adapting.start(current, base.name if base else "current", others)
        if why:
            self.status.emit(f"{ADAPT_TITLE}: {why}", 8000)
            return False
        count = 1 + len(others) if doc.samples is not None else len(others)
        self.status.emit(f"adapting the model to {count} recording(s) in the background…", 0)
        return True

    def _adapted(self, path: str) -> None:
        if not path:
            self.status.emit("adapting cancelled: nothing was written", 8000)
        elif self.model.use(Path(path)):
            self.status.emit(f"now using your personal model: {self.adapting.summary}", 0)

    def use_bundled_model(self) -> None:
        self.model.use_bundled()
        self.status.emit("now using the bundled model", 8000)

    def use_personal_model(self) -> bool:
        """The newest personal model; False (a message shown) when there is none."""
        path = self.model.latest_personal()
        if path is None:
            self.status.emit("no personal model yet: Model › Adapt to My Recordings makes "
                             "one", 8000)
            return False
        if self.model.use(path):
            self.status.emit(f"now using the model: {self.model.description()}", 8000)
            return True
        return False

    # -- exports -----------------------------------------------------------------------
    def keep_score(self, notes: list, settings: dict, result: ScoreResult | None) -> None:
        """The score the view engraved, reused by exports while the notes are the same."""
        self.exports.keep_score(notes, settings, result)

    def export(self, path: Path, kind: str) -> bool:
        """Write the document as `kind` (see file_actions.EXPORTS) on a worker; False if
        there is nothing to write or an export is already running."""
        doc = self.document
        if not doc.notes:
            self.show_error("Nothing to export", "There are no notes yet: transcribe the "
                            "recording, import a MIDI file or draw notes first.")
            return False
        return self.exports.start(doc.sorted_notes(), dict(doc.settings), Path(path), kind)

    # -- recovery ----------------------------------------------------------------------
    def _recovery_snapshot(self) -> Project | None:
        if self.document.undo_stack.isClean():
            return None  # nothing unsaved: no recovery file
        project = self.snapshot(embed=False)
        if self.path is not None:
            project.source_path = str(self.path.resolve())
        return project

    def offer_recovery(self) -> int:
        """At start: ask, one file at a time and without blocking, whether to restore the
        work crashed sessions left (`recovery.RecoveryOffer`); how many were found."""
        return self.recovery.offer()

    @property
    def restore_question(self) -> RestoreQuestion | None:
        return self.recovery.question

    def restore(self, recovery: Recovery) -> bool:
        """Load a recovery file as the (unsaved) document, then let it go."""
        if not self.confirm_discard():
            return False
        try:
            project = recovery.load()
            edits = project.decoded_edits()
            folder = Path(project.source_path).parent if project.source_path else None
            audio = project_audio(project, folder)
        except ProjectError as exc:
            self.show_error("Cannot restore", f"{exc}\nThe recovery file is kept in "
                            f"{recovery.path.parent}.")
            return False
        self._load_project(project, edits, audio)
        audio_path, warning = audio.path, audio.warning
        self.document.undo_stack.resetClean()  # restored work is unsaved work
        source = Path(project.source_path) if project.source_path else None
        self._set_path(source, audio_path.name if audio_path is not None else None)
        self.autosave.save_now()
        recovery.discard()
        self.opened.emit("project")
        self.status.emit(warning or f"restored {len(project.notes)} notes; save to keep them",
                         8000)
        return True

    def shutdown(self) -> None:
        """The app is quitting after the user saved or discarded: stop exports, drop the
        recovery file."""
        self.exports.cancel()
        self.decoder.cancel()
        self.jobs.shutdown()
        self.adapting.cancel()
        self.autosave.shutdown()

