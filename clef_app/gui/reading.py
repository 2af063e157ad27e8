"""Reading the files the controller opens, without touching the document: a recording with
the notes beside it, a MIDI file's or notes table's notes, and a project's recording.

A long recording (over `PROGRESSIVE_SECONDS`), or one above 48 kHz, is read up to its
header here; the rest is decoded block by block on a worker (`gui.decoding`) from the
generator returned with it, and resampled there to 48 kHz (`audio.io.decode_at_most`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clef_app.audio.io import (
    MAX_NATIVE_RATE,
    Audio,
    AudioError,
    decode_at_most,
    header,
    load_audio,
)
from clef_app.errors import naming, one_line
from clef_app.gui import file_actions
from clef_app.gui.decoding import PROGRESSIVE_SECONDS
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.midi_io import read_midi_notes
from clef_app.project import EmbeddedAudio, Project, ReferencedAudio

NOTES_ERRORS = (OSError, ValueError, IndexError, UnicodeDecodeError)  # a bad notes .tsv
NO_AUDIO_RATE = 16_000  # Hz: the document's rate while it has no recording


@dataclass
class Recording:
    """A recording as read: its audio (all of it, or its header's first block), the blocks
    still to decode (None: none), its notes and a one-line warning ("" when all is well)."""

    audio: Audio
    steps: Iterator | None
    notes: list[NoteEvent]
    warning: str


def read_recording(path: Path, notes: list[NoteEvent] | None = None) -> Recording:
    """The recording at `path` with `notes`, else those of a `.notes.tsv` beside it (a
    broken one is a warning, not a failure). Raises AudioError."""
    audio, steps = open_audio(path)
    beside, warning = path.with_name(path.stem + file_actions.NOTES_SUFFIX), ""
    if notes is None:
        try:
            notes = read_notes_tsv(beside) if beside.is_file() else []
        except NOTES_ERRORS as exc:
            notes, warning = [], f"the notes were not read: {naming(beside.name, exc)}"
    warning = one_line("; ".join(w for w in (audio.warning, warning) if w))  # damage too
    return Recording(audio, steps, notes, warning)


def open_audio(path: Path) -> tuple[Audio, Iterator | None]:
    """The recording at `path` whole, or its header's first item and the blocks still to
    decode on a worker: a long recording, or one to bring down to 48 kHz (0.8 s of CPU for
    2 minutes at 192 kHz). Raises AudioError."""
    seconds, rate = header(path)
    if seconds > PROGRESSIVE_SECONDS or (seconds > 0 and rate > MAX_NATIVE_RATE):
        steps = decode_at_most(path)
        samples, rate, _ = next(steps)  # the header: its errors are raised here
        return Audio(samples, rate), steps
    return load_audio(path), None


def read_notes(path: Path) -> list[NoteEvent]:
    """The notes of a `.mid`/`.midi` file or a notes `.tsv`. Raises MidiError or one of
    NOTES_ERRORS."""
    if path.name.lower().endswith(file_actions.MIDI_SUFFIXES):
        return read_midi_notes(path)
    return read_notes_tsv(path)


@dataclass
class ProjectAudio:
    """A loaded project's recording: its path (None: embedded or none), samples (None:
    none), rate, the blocks still to decode on a worker (None: none) and a warning."""

    path: Path | None
    samples: object
    rate: int
    steps: Iterator | None = None
    warning: str = ""


def project_audio(project: Project, folder: Path | None) -> ProjectAudio:
    """The recording of a loaded project; a referenced one opens as `open_audio` opens it."""
    audio = project.audio
    if isinstance(audio, EmbeddedAudio):
        return ProjectAudio(None, audio.samples, audio.sample_rate)
    if isinstance(audio, ReferencedAudio):
        found = audio.resolve(folder)
        if found is None:
            return ProjectAudio(None, None, NO_AUDIO_RATE, None, (
                f"The recording {audio.path} was not found; the notes are open without it."))
        try:
            loaded, steps = open_audio(found)
        except AudioError as exc:
            return ProjectAudio(None, None, NO_AUDIO_RATE, None,
                                f"The recording could not be read: {exc}")
        return ProjectAudio(found, loaded.samples, loaded.sample_rate, steps)
    return ProjectAudio(None, None, NO_AUDIO_RATE)
