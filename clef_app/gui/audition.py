"""Hearing one pitch (a click on the keyboard strip): a piano note from the GM synth.

The first note loads the soundfont, so rendering runs on a worker; rendered notes are
cached. Falls back to a decaying sine when FluidSynth or a soundfont is missing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from clef_app.gui.workers import GeneratorWorker
from clef_app.notation.events import NoteEvent
from clef_app.notation.steps import stop_when

RATE = 32_000  # Hz
NOTE_SECONDS = 0.7  # s the key is held
VELOCITY = 90


def sine_note(pitch: int, rate: int = RATE, seconds: float = NOTE_SECONDS) -> np.ndarray:
    """A decaying sine with its octave, for when no synth is available."""
    t = np.arange(int(rate * (seconds + 0.3))) / rate
    f = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    wave = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
    return (0.25 * wave * np.exp(-3.0 * t) * np.minimum(1.0, t / 0.005)).astype(np.float32)


def render_pitch(pitch: int) -> np.ndarray:
    try:
        from clef_app.audio.synth import render_notes

        return render_notes([NoteEvent(0.0, NOTE_SECONDS, pitch, VELOCITY)], sample_rate=RATE)
    except Exception:  # no FluidSynth or no soundfont: still give the user a tone
        return sine_note(pitch)


class Audition(QObject):
    """Plays single pitches on the output device."""

    message = Signal(str)
    rendered = Signal(int)  # pitch, once its sound is ready (and playing)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device: int | None = None
        self._cache: dict[int, np.ndarray] = {}
        self._worker: GeneratorWorker | None = None

    def play(self, pitch: int) -> None:
        if pitch in self._cache:
            self._output(pitch)
            return

        def job(cancelled):
            yield None
            with stop_when(cancelled):  # the first note waits for the soundfont: closing
                return render_pitch(pitch)  # leaves that wait at once

        worker = GeneratorWorker(job, name="audition")
        worker.finished.connect(lambda audio: self._done(pitch, audio))
        self._worker = worker.start()

    def _done(self, pitch: int, audio) -> None:
        if audio is None:
            return
        self._cache[pitch] = audio
        self._output(pitch)

    def _output(self, pitch: int) -> None:
        try:
            from clef_app.audio.devices import sounddevice_module

            sd = sounddevice_module()
            sd.play(self._cache[pitch], RATE, device=self.device)
        except Exception as exc:  # no device: say so, nothing else breaks
            self.message.emit(f"cannot play the note: {str(exc).splitlines()[0][:120]}")
        self.rendered.emit(pitch)
