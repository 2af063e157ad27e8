"""NoteEvent: the one vocabulary type that crosses every layer."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from clef_app.atomic import atomic_write_text
from clef_app.errors import ClefError

_ids = itertools.count(1)
MAX_NOTE_SECONDS = 4 * 3600  # s: as long as the longest recording Clef opens
# one bound for every note file (TSV, MIDI, project): 4 h of dense playing at 14 notes/s
MAX_NOTES = 200_000
MAX_NOTE_FILE_BYTES = 16 * 2**20  # B: a notes table (200,000 rows take ~7 MB)


class NotesError(ClefError, ValueError):
    """A note file (TSV, MIDI) that cannot be used; the message names the file and why."""


def new_note_id() -> int:
    """A process-unique id for a new note."""
    return next(_ids)


def reserve_note_ids(highest: int) -> None:
    """Make `new_note_id` return ids above `highest` (after reading notes that carry ids)."""
    global _ids
    _ids = itertools.count(max(next(_ids), highest + 1))


@dataclass(frozen=True, order=True)
class NoteEvent:
    """One note: times in seconds, MIDI pitch, velocity 1-127, confidence 0-1."""

    onset: float
    offset: float
    pitch: int
    velocity: int = 80
    id: int = field(default_factory=new_note_id, compare=False)
    confidence: float = field(default=1.0, compare=False)

    def __post_init__(self) -> None:
        if not self.offset > self.onset:
            raise ValueError(
                f"note {self.pitch} ends ({self.offset}) before it starts ({self.onset})")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch {self.pitch} outside MIDI range 0-127")

    @property
    def duration(self) -> float:
        return self.offset - self.onset

    def moved(self, dt: float = 0.0, dpitch: int = 0) -> NoteEvent:
        """The same note (same id) shifted in time and pitch."""
        return replace(self, onset=self.onset + dt, offset=self.offset + dt,
                       pitch=self.pitch + dpitch)


def sort_notes(notes: Iterable[NoteEvent]) -> list[NoteEvent]:
    return sorted(notes, key=lambda n: (n.onset, n.pitch, n.offset))


def check_note_count(name: str, count: int) -> None:
    """Refuse a note file with more than MAX_NOTES notes (the bound every note file shares)."""
    if count > MAX_NOTES:
        raise NotesError(f"{name}: more than {MAX_NOTES:,} notes; Clef opens at most that many")


def check_note_time(name: str, where: str, *times: float) -> None:
    """Refuse times outside 0..MAX_NOTE_SECONDS (NaN and infinities included)."""
    if not all(0.0 <= t <= MAX_NOTE_SECONDS for t in times):
        raise NotesError(f"{name}: {where}: times must lie in 0..{MAX_NOTE_SECONDS} s "
                         f"({MAX_NOTE_SECONDS // 3600} hours)")


def check_note_file_size(path: Path, limit: int = MAX_NOTE_FILE_BYTES) -> None:
    """Refuse a missing note file, or one larger than `limit` bytes, before reading it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotesError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if size > limit:
        raise NotesError(f"{path.name}: {size:,} bytes; a note file of this kind has at most "
                         f"{limit // 2**20} MiB")


def read_notes_tsv(path: str | Path) -> list[NoteEvent]:
    """Read `onset_s offset_s midi_pitch velocity` rows (header optional, tabs or spaces,
    UTF-8 with or without a byte-order mark).

    Raises:
        NotesError: a row is not three or four numbers, its times lie outside
            0..MAX_NOTE_SECONDS or its pitch outside 0..127, the file holds more than
            MAX_NOTES notes or MAX_NOTE_FILE_BYTES bytes, or it is not UTF-8 text.
    """
    path = Path(path)
    check_note_file_size(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return sort_notes(_tsv_rows(path.name, csv.reader(f, delimiter="\t")))
    except csv.Error as exc:
        raise NotesError(f"{path.name}: not a notes table ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise NotesError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise NotesError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc


def _tsv_rows(name: str, reader) -> Iterator[NoteEvent]:
    count = 0
    for row in reader:
        if not row or row[0].strip().startswith(("#", "onset")):
            continue
        where = f"line {reader.line_num}"
        fields = row if len(row) > 1 else row[0].split()
        if len(fields) < 3:
            raise NotesError(f"{name}: {where}: expected onset, offset and pitch")
        try:
            onset, offset, pitch = (float(x) for x in fields[:3])
            velocity = float(fields[3]) if len(fields) > 3 else 80.0
        except ValueError as exc:
            raise NotesError(f"{name}: {where}: not a number ({str(exc)[:60]})") from exc
        check_note_time(name, where, onset, offset)
        if not (0 <= pitch <= 127 and math.isfinite(velocity)):
            raise NotesError(f"{name}: {where}: pitch must lie in 0..127")
        count += 1
        check_note_count(name, count)
        offset = offset if offset > onset else onset + 0.01
        yield NoteEvent(onset, offset, int(pitch), max(1, min(127, int(velocity))))


def write_notes_tsv(notes: Iterable[NoteEvent], path: str | Path) -> None:
    """Write the notes table atomically (see clef_app.atomic; WriteError if it fails)."""
    rows = [f"{n.onset:.6f}\t{n.offset:.6f}\t{n.pitch}\t{n.velocity}\n"
            for n in sort_notes(notes)]
    atomic_write_text(path, "onset_s\toffset_s\tmidi_pitch\tvelocity\n" + "".join(rows))
