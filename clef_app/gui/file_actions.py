"""File › Open, Import MIDI, Export and the demo: dialogs around the Qt-free readers/writers.

Whatever cannot be read is reported in a message box naming the file and why, and the
open document is left exactly as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from clef_app.audio.io import AudioError, load_audio
from clef_app.gui import preferences
from clef_app.notation.events import read_notes_tsv

if TYPE_CHECKING:
    from clef_app.gui.main_window import MainWindow

AUDIO_FILTER = "Recordings (*.wav *.flac *.ogg *.oga *.mp3 *.aif *.aiff);;All files (*)"
MIDI_SUFFIXES = (".mid", ".midi")
NOTES_SUFFIX = ".notes.tsv"  # ground truth beside a recording: demo.flac + demo.notes.tsv
EXPORTS = {  # kind -> (menu label, suffix)
    "musicxml": ("MusicXML", ".musicxml"),
    "midi": ("MIDI", ".mid"),
    "pdf": ("PDF", ".pdf"),
    "mei": ("MEI", ".mei"),
}
DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"


def _last_dir() -> str:
    recent = preferences.get("session/recent")
    return str(Path(recent[0]).parent) if recent else str(Path.home())


def ask_open(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open Recording", _last_dir(), AUDIO_FILTER)
    if path:
        open_path(window, Path(path))


def open_path(window: MainWindow, path: Path) -> bool:
    """Open a recording (or import a .mid / .notes.tsv into the open document)."""
    name = path.name.lower()
    if name.endswith(MIDI_SUFFIXES):
        return import_midi(window, path)
    if name.endswith(".tsv"):
        return import_notes_tsv(window, path)
    return open_audio(window, path)


def open_audio(window: MainWindow, path: Path, notes: list | None = None) -> bool:
    """Load a recording as a new document with `notes` (default: from a `.notes.tsv` beside
    it, if there is one)."""
    if not window.confirm_discard():
        return False
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        audio = load_audio(path)
        notes_path = path.with_name(path.stem + NOTES_SUFFIX)
        if notes is None:
            notes = read_notes_tsv(notes_path) if notes_path.is_file() else []
    except AudioError as exc:
        QApplication.restoreOverrideCursor()
        window.show_error("Cannot open the recording", str(exc))
        return False
    except (OSError, ValueError, IndexError) as exc:  # a broken notes file beside it
        notes = []
        window.status(f"{notes_path.name} was not read: {exc}")
    QApplication.restoreOverrideCursor()
    window.document.load(path, audio.samples, audio.sample_rate, notes)
    window.setWindowTitle(f"{path.name}[*] — Clef")
    window.spectrogram.fit_notes_pitch()
    preferences.add_recent(str(path.resolve()))
    window.refresh_recent()
    extra = f", {len(notes)} notes" if notes else ""
    window.status(f"opened {path.name}: {audio.duration:.1f} s at {audio.sample_rate} Hz{extra}")
    return True


def ask_import_midi(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Import MIDI", _last_dir(),
                                          "MIDI files (*.mid *.midi);;All files (*)")
    if path:
        import_midi(window, Path(path))


def import_midi(window: MainWindow, path: Path) -> bool:
    from clef_app.notation.midi_io import MidiError, read_midi_notes

    try:
        notes = read_midi_notes(path)
    except MidiError as exc:
        window.show_error("Cannot import the MIDI file", str(exc))
        return False
    return _replace_notes(window, f"Import {path.name}", notes)


def import_notes_tsv(window: MainWindow, path: Path) -> bool:
    try:
        notes = read_notes_tsv(path)
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as exc:
        window.show_error("Cannot import the notes", f"{path.name}: {exc}")
        return False
    return _replace_notes(window, f"Import {path.name}", notes)


def _replace_notes(window: MainWindow, text: str, notes: list) -> bool:
    doc = window.document
    if not notes:
        window.show_error("Nothing to import", f"{text.removeprefix('Import ')} holds no notes.")
        return False
    doc.replace_notes(text, doc.sorted_notes(), notes)
    if doc.samples is None:
        window.spectrogram.fit()
    window.status(f"{text}: {len(notes)} notes (Ctrl+Z undoes it)")
    return True


def ask_export(window: MainWindow, kind: str) -> None:
    label, suffix = EXPORTS[kind]
    doc = window.document
    stem = doc.audio_path.stem if doc.audio_path is not None else "score"
    start = str(Path(_last_dir()) / f"{stem}{suffix}")
    path, _ = QFileDialog.getSaveFileName(window, f"Export {label}", start,
                                          f"{label} (*{suffix})")
    if path:
        path = path if path.lower().endswith(suffix) else path + suffix
        export(window, Path(path))


def export(window: MainWindow, path: Path) -> bool:
    """Write the document's notes as a score file (format by suffix)."""
    doc = window.document
    if not doc.notes:
        window.show_error("Nothing to export", "There are no notes yet: transcribe the "
                          "recording, import a MIDI file or draw notes first.")
        return False
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        from clef_app.notation.export import export as write_score

        write_score(doc.sorted_notes(), dict(doc.settings), path)
    except Exception as exc:  # any writer failure is the user's to see, never a crash
        QApplication.restoreOverrideCursor()
        window.show_error("Export failed", f"{path.name}: {type(exc).__name__}: {exc}")
        return False
    QApplication.restoreOverrideCursor()
    window.status(f"exported {len(doc.notes)} notes to {path}")
    return True


def open_demo(window: MainWindow) -> bool:
    if not DEMO.is_file():
        window.status(f"the demo recording is not installed ({DEMO} is missing)")
        return False
    return open_audio(window, DEMO)
