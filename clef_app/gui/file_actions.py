"""The file dialogs and what they offer: which files open, which exports exist.

Opening, saving and exporting themselves are the controller's (`gui.controller`); these
functions only ask the user for a path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from clef_app.gui import preferences
from clef_app.project import PROJECT_SUFFIX

AUDIO_FILTER = "Recordings (*.wav *.flac *.ogg *.oga *.mp3 *.aif *.aiff);;All files (*)"
MIDI_FILTER = "MIDI files (*.mid *.midi);;All files (*)"
PROJECT_FILTER = f"Clef projects (*{PROJECT_SUFFIX});;All files (*)"
MIDI_SUFFIXES = (".mid", ".midi")
NOTES_SUFFIX = ".notes.tsv"  # ground truth beside a recording: demo.flac + demo.notes.tsv
EXPORTS = {  # kind -> (menu label, suffix, what it is)
    "musicxml": ("MusicXML", ".musicxml", "the score, for notation programs"),
    "midi": ("MIDI (recording's time)", ".mid",
             "the notes as played, in the recording's time: lines up with the audio in a DAW"),
    "midi_score": ("MIDI (score)", ".mid",
                   "the quantised score, from the recording's first downbeat, with a tempo "
                   "map that follows the tracked beats"),
    "pdf": ("PDF", ".pdf", "the engraved score, for printing"),
    "mei": ("MEI", ".mei", "the score as MEI"),
}
DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"


def last_dir() -> str:
    recent = preferences.get("session/recent")
    return str(Path(recent[0]).parent) if recent else str(Path.home())


def ask_open(parent: QWidget | None, kind: str = "recording") -> Path | None:
    """A file to open: a recording, a MIDI file or a project (`kind`)."""
    title, start, filter_ = {
        "recording": ("Open Recording", last_dir(), AUDIO_FILTER),
        "midi": ("Import MIDI", last_dir(), MIDI_FILTER),
        "project": ("Open Project", last_dir(), PROJECT_FILTER),
    }[kind]
    name, _ = QFileDialog.getOpenFileName(parent, title, start, filter_)
    return Path(name) if name else None


def ask_save_project(parent: QWidget | None, suggested: Path) -> Path | None:
    """Where to save a project. The controller itself asks before replacing a file that is
    not the open project, so the dialog does not ask a second time."""
    name, _ = QFileDialog.getSaveFileName(parent, "Save Project", str(suggested), PROJECT_FILTER,
                                          options=QFileDialog.Option.DontConfirmOverwrite)
    if not name:
        return None
    return Path(name if name.lower().endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX)


def ask_export(parent: QWidget | None, kind: str, stem: str) -> Path | None:
    label, suffix, what = EXPORTS[kind]
    start = str(Path(last_dir()) / f"{stem}{suffix}")
    name, _ = QFileDialog.getSaveFileName(parent, f"Export {label}: {what}", start,
                                          f"{label} (*{suffix})")
    if not name:
        return None
    return Path(name if name.lower().endswith(suffix) else name + suffix)
