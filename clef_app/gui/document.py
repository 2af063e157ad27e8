"""The one open document: audio, notes, score settings, selection and the undo stack.

Views (spectrogram overlay, score) observe it through signals and change it only by
`apply(edit)`, which pushes one `EditCommand`; so every user change is undoable and the
undo history is a list of plain-data edits (`clef_app.notation.edits`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from clef_app.audio.io import resample
from clef_app.config import SAMPLE_RATE
from clef_app.notation.corrections import Corrections, of_history
from clef_app.notation.edits import Edit, NoteEdit, SettingsEdit, compose
from clef_app.notation.events import NoteEvent, sort_notes

NO_MERGE = -1
MERGE_TRANSCRIBE = 1  # partial transcription results merge into one "Transcribe"
MERGE_NUDGE = 1000  # + a series number: repeated nudges/velocity steps of one selection merge


class EditCommand(QUndoCommand):
    """Applies one plain-data edit to a document; undo applies its inverse."""

    def __init__(self, document: Document, edit: Edit, merge_id: int = NO_MERGE) -> None:
        super().__init__(edit.text)
        self.document = document
        self.edit = edit
        self._merge_id = merge_id

    def redo(self) -> None:
        self.document._apply_now(self.edit)

    def undo(self) -> None:
        self.document._apply_now(self.edit.inverse())

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not (isinstance(other, EditCommand) and isinstance(self.edit, NoteEdit)
                and isinstance(other.edit, NoteEdit) and other.edit.text == self.edit.text):
            return False
        self.edit = compose(self.edit, other.edit)
        return True


class Document(QObject):
    """Audio (mono, any rate), notes by id, opaque score settings, selection, undo stack."""

    notesChanged = Signal()
    audioChanged = Signal()
    audioLoaded = Signal()  # a recording decoding in the background is complete
    selectionChanged = Signal()
    settingsChanged = Signal(str)  # the key that changed ("" = all)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.audio_path: Path | None = None
        self.samples: np.ndarray | None = None  # mono float32 at `sample_rate`
        self.sample_rate: int = SAMPLE_RATE
        self.notes: dict[int, NoteEvent] = {}
        self.settings: dict[str, Any] = {}
        self.selection: frozenset[int] = frozenset()
        self.undo_stack = QUndoStack(self)
        self.stored_corrections: Corrections | None = None  # a project's, for no history
        self._samples_16k: np.ndarray | None = None
        self.available = 0  # frames of `samples` decoded (fewer while `loading`)
        # a dying stack clears itself and signals; its observers may already be gone
        stack = self.undo_stack
        self.destroyed.connect(lambda *_: stack.blockSignals(True))

    # -- audio -------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        """Seconds of audio (or up to the last note when there is no audio)."""
        if self.samples is not None:
            return len(self.samples) / self.sample_rate
        return max((n.offset for n in self.notes.values()), default=0.0)

    @property
    def loading(self) -> bool:
        """A long recording is still decoding into `samples` (`gui.decoding`)."""
        return self.samples is not None and self.available < len(self.samples)

    def set_available(self, frames: int) -> None:
        self.available = min(int(frames), 0 if self.samples is None else len(self.samples))

    def finish_loading(self, samples: np.ndarray | None) -> None:
        """The recording is decoded: `samples` is the array being filled (complete now) or,
        when the file held less or more than its header said, its replacement."""
        same = (samples is not None and self.samples is not None
                and len(samples) == len(self.samples) and np.shares_memory(samples, self.samples))
        if not same:
            self.samples = None if samples is None else np.asarray(samples, dtype=np.float32)
            self._samples_16k = None
        self.available = 0 if self.samples is None else len(self.samples)
        if not same:
            self.audioChanged.emit()
        self.audioLoaded.emit()

    def samples_16k(self) -> np.ndarray | None:
        """The audio at the model's rate (computed once per audio; workers call this, so a
        result is kept only if the audio was not replaced meanwhile). Raises Cancelled
        inside a cancelled worker (the resampling stops between blocks)."""
        samples, rate, cached = self.samples, self.sample_rate, self._samples_16k
        if samples is None:
            return None
        if cached is None:
            cached = resample(samples, rate, SAMPLE_RATE)
            if samples is self.samples:
                self._samples_16k = cached
        return cached

    def load(self, path: str | Path | None, samples: np.ndarray | None, sample_rate: int,
             notes: Iterable[NoteEvent] = (), settings: dict | None = None,
             available: int | None = None) -> None:
        """Start a new document: replaces everything and clears the undo history.

        `available`: frames of `samples` decoded so far, for a recording still decoding
        (`gui.decoding`; default: all of them)."""
        self.audio_path = Path(path) if path is not None else None
        self.samples = None if samples is None else np.asarray(samples, dtype=np.float32)
        self.available = (0 if self.samples is None else len(self.samples)
                          if available is None else available)
        self.sample_rate = int(sample_rate)
        self._samples_16k = None
        self.notes = {n.id: n for n in notes}
        self.settings = dict(settings or {})
        self.selection = frozenset()
        self.stored_corrections = None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.audioChanged.emit()
        self.notesChanged.emit()
        self.settingsChanged.emit("")
        self.selectionChanged.emit()

    # -- notes -------------------------------------------------------------------------
    def sorted_notes(self) -> list[NoteEvent]:
        return sort_notes(self.notes.values())

    def selected_notes(self) -> list[NoteEvent]:
        return sort_notes(self.notes[i] for i in self.selection if i in self.notes)

    def apply(self, edit: Edit, merge_id: int = NO_MERGE) -> None:
        """Apply an edit as one undo step (empty note edits are dropped)."""
        if isinstance(edit, NoteEdit) and edit.is_empty():
            return
        self.undo_stack.push(EditCommand(self, edit, merge_id))

    def replace_notes(self, text: str, old: Iterable[NoteEvent], new: Iterable[NoteEvent],
                      merge_id: int = NO_MERGE) -> None:
        self.apply(NoteEdit.replace(text, old, new), merge_id)

    def set_setting(self, key: str, value: Any, text: str | None = None) -> None:
        """Change one score setting as an undo step (value None removes it)."""
        old = self.settings.get(key)
        if old != value:
            self.apply(SettingsEdit(text or f"Change {key}", key, old, value))

    def _apply_now(self, edit: Edit) -> None:
        edit.apply(self.settings if isinstance(edit, SettingsEdit) else self.notes)
        if isinstance(edit, SettingsEdit):
            self.settingsChanged.emit(edit.key)
            return
        self.notesChanged.emit()
        kept = frozenset(i for i in self.selection if i in self.notes)
        if kept != self.selection:
            self.set_selection(kept)

    # -- selection ---------------------------------------------------------------------
    def set_selection(self, ids: Iterable[int]) -> None:
        ids = frozenset(i for i in ids if i in self.notes)
        if ids != self.selection:
            self.selection = ids
            self.selectionChanged.emit()

    # -- history (for project files) ---------------------------------------------------
    def corrections(self) -> Corrections:
        """The notes the user touched and deleted, as the applied edits say."""
        edits, index = self.history()
        return of_history(edits, index, self.stored_corrections)

    def history(self) -> tuple[list[Edit], int]:
        """The undo history as plain edits, and how many of them are applied."""
        stack = self.undo_stack
        return [stack.command(i).edit for i in range(stack.count())], stack.index()

    def restore_history(self, edits: list[Edit], index: int) -> None:
        """Rebuild the undo stack from edits whose first `index` are already applied.

        The current notes/settings must be the state after `index` edits; commands are
        pushed as if replayed, then the live state is restored, so nothing is re-applied.
        """
        notes, settings = dict(self.notes), dict(self.settings)
        for edit in reversed(edits[:index]):  # walk back to the state before any edit
            edit.inverse().apply(self.settings if isinstance(edit, SettingsEdit) else self.notes)
        self.undo_stack.clear()
        self.blockSignals(True)
        try:
            for edit in edits:
                self.undo_stack.push(EditCommand(self, edit))
            self.undo_stack.setIndex(index)
        finally:
            self.blockSignals(False)
        self.notes, self.settings = notes, settings
        self.notesChanged.emit()
        self.settingsChanged.emit("")
