"""What a transcription reports while it runs: plain values, safe to pass between threads.

Torch-free, so the GUI can name these types without loading the model stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from clef_app.notation.events import NoteEvent


@dataclass(frozen=True)
class TranscriptionProgress:
    """Notes completed since the last report, and how far the recording is done."""

    notes: list[NoteEvent]
    done_seconds: float  # s of the recording read so far
    total_seconds: float  # s: the recording's length

    @property
    def fraction(self) -> float:
        """Share of the recording done, 0..1."""
        return min(1.0, self.done_seconds / self.total_seconds) if self.total_seconds > 0 else 1.0


class Cancelled(Exception):
    """Raised inside the model's decoding loop when the caller's cancel check says stop;
    the pipeline catches it and ends the transcription quietly."""
