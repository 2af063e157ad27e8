"""Offline FluidSynth rendering: notes (+ sustain pedal) to 16 kHz mono audio, Qt-free.

One synthesizer per (soundfont, rate) is loaded once per process and reused: loading
MuseScore_General.sf3 takes ~11 s, rendering a clip ~1/25 of its duration. Events are
scheduled sample-accurately by rendering blocks between them. FluidSynth runs at
`SYNTH_RATE` and the result is resampled (anti-aliased) to the requested rate, because
FluidSynth itself aliases at 16 kHz.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clef_app.audio.io import resample
from clef_app.config import SAMPLE_RATE
from clef_app.notation.events import NoteEvent

SYNTH_RATE = 32_000  # Hz: FluidSynth's internal rate, resampled 2:1 to 16 kHz
TAIL_SECONDS = 1.0  # s: rendered after the last release so notes decay naturally
SYNTH_GAIN = 1.0  # FluidSynth master gain; output is float and render_notes() caps the peak at 1
SUSTAIN_CC = 64  # MIDI controller number of the sustain (damper) pedal
CHANNEL = 0
MAX_BLOCK = 8192  # samples rendered per FluidSynth call at most

SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
)

# (time in samples, order, kind, a, b); order puts releases before presses at one instant
_Event = tuple[int, int, str, int, int]


class SynthError(Exception):
    """No soundfont, or FluidSynth could not load one."""


def default_soundfont() -> Path:
    """The first General MIDI soundfont installed, in the order of SOUNDFONT_CANDIDATES."""
    for path in SOUNDFONT_CANDIDATES:
        if path.is_file():
            return path
    raise SynthError("no General MIDI soundfont found (install fluid-soundfont-gm)")


class Renderer:
    """One loaded FluidSynth synthesizer rendering into numpy buffers (thread-safe)."""

    def __init__(self, soundfont: str | Path, synth_rate: int = SYNTH_RATE) -> None:
        import fluidsynth  # a C library binding: imported only when rendering

        self.soundfont = Path(soundfont)
        self.synth_rate = synth_rate
        if not self.soundfont.is_file():
            raise SynthError(f"{self.soundfont}: no such soundfont")
        # reverb and chorus off: room acoustics are the augmenter's job
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": 512}
        self._synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(synth_rate), **settings)
        self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            raise SynthError(f"{self.soundfont.name}: FluidSynth could not load it")
        self._write = _float_writer(fluidsynth)
        self._lock = threading.Lock()

    def select(self, program: int, bank: int = 0) -> bool:
        """Select a GM program (0-127) on the render channel; False if the soundfont lacks it."""
        ok = self._synth.program_select(CHANNEL, self._sfid, bank, program) == 0
        if not ok:
            self._synth.program_select(CHANNEL, self._sfid, 0, 0)
        return ok

    def render(
        self,
        notes: Sequence[NoteEvent],
        program: int = 0,
        pedal: Sequence[tuple[float, float]] | None = None,
        seconds: float | None = None,
        bank: int = 0,
    ) -> np.ndarray:
        """Render at `synth_rate`: float32 mono, `seconds` long (default: last event + tail)."""
        events = _schedule(notes, pedal or (), self.synth_rate)
        end = max((e[0] for e in events), default=0) + int(TAIL_SECONDS * self.synth_rate)
        total = int(round(seconds * self.synth_rate)) if seconds is not None else end
        with self._lock:
            self._reset()
            self.select(program, bank)
            return self._run(events, total)

    def _run(self, events: list[_Event], total: int) -> np.ndarray:
        out = np.zeros(total, dtype=np.float32)
        pos = 0
        for when, _, kind, a, b in events:
            when = min(when, total)
            pos = self._fill(out, pos, when)
            if when >= total:
                break
            if kind == "on":
                self._synth.noteon(CHANNEL, a, b)
            elif kind == "off":
                self._synth.noteoff(CHANNEL, a)
            else:
                self._synth.cc(CHANNEL, a, b)
        self._fill(out, pos, total)
        self._reset()
        return out

    def _fill(self, out: np.ndarray, start: int, stop: int) -> int:
        """Render samples [start, stop) into `out`; returns stop."""
        while start < stop:
            n = min(MAX_BLOCK, stop - start)
            out[start : start + n] = self._write(self._synth.synth, n)
            start += n
        return stop

    def _reset(self) -> None:
        self._synth.cc(CHANNEL, SUSTAIN_CC, 0)
        self._synth.all_sounds_off(CHANNEL)
        self._write(self._synth.synth, 64)  # let FluidSynth retire the killed voices


def _float_writer(fluidsynth_module):
    """A function (synth pointer, n) -> float32 mono n samples, via fluid_synth_write_float."""
    fn = fluidsynth_module._fl.fluid_synth_write_float
    fn.restype = ctypes.c_int
    buffer = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]  # pointer, offset, stride
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, *buffer, *buffer]

    def write(synth_ptr, n: int) -> np.ndarray:
        left = np.zeros(n, dtype=np.float32)
        right = np.zeros(n, dtype=np.float32)
        fn(synth_ptr, n, left.ctypes.data, 0, 1, right.ctypes.data, 0, 1)
        return 0.5 * (left + right)

    return write


def _schedule(
    notes: Sequence[NoteEvent], pedal: Sequence[tuple[float, float]], rate: int
) -> list[_Event]:
    """Note and pedal events in samples, sorted; releases precede presses at one instant."""
    events: list[_Event] = []
    for n in notes:
        if not 0 <= n.pitch <= 127:
            continue
        on = max(0, int(round(n.onset * rate)))
        off = max(on + 1, int(round(n.offset * rate)))
        events.append((on, 2, "on", n.pitch, int(np.clip(n.velocity, 1, 127))))
        events.append((off, 0, "off", n.pitch, 0))
    for down, up in pedal:
        d = max(0, int(round(down * rate)))
        events.append((d, 1, "cc", SUSTAIN_CC, 127))
        events.append((max(d + 1, int(round(up * rate))), 1, "cc", SUSTAIN_CC, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


_RENDERERS: dict[tuple[str, int], Renderer] = {}
_RENDERERS_LOCK = threading.Lock()


def get_renderer(soundfont: str | Path | None = None, synth_rate: int = SYNTH_RATE) -> Renderer:
    """The process-wide renderer for a soundfont, loaded on first use (seconds for big ones)."""
    path = Path(soundfont) if soundfont is not None else default_soundfont()
    key = (str(path.resolve()), synth_rate)
    with _RENDERERS_LOCK:
        if key not in _RENDERERS:
            _RENDERERS[key] = Renderer(path, synth_rate)
        return _RENDERERS[key]


def render_notes(
    notes: Sequence[NoteEvent],
    sample_rate: int = SAMPLE_RATE,
    soundfont: str | Path | None = None,
    program: int = 0,
    pedal: Sequence[tuple[float, float]] | None = None,
    seconds: float | None = None,
) -> np.ndarray:
    """Render notes to mono float32 audio at `sample_rate` Hz.

    Args:
        notes: onsets/offsets in seconds; a note-off is a key release (the pedal may hold it).
        sample_rate: output rate in Hz.
        soundfont: .sf2/.sf3 path; default: the first installed of SOUNDFONT_CANDIDATES.
        program: General MIDI program 0-127 (0 = acoustic grand piano).
        pedal: sustain pedal (down_s, up_s) intervals.
        seconds: output length; default: last event + TAIL_SECONDS.

    Returns:
        float32 samples, shape (n,), peak at most 1.
    """
    renderer = get_renderer(soundfont)
    audio = renderer.render(notes, program=program, pedal=pedal, seconds=seconds)
    audio = resample(audio, renderer.synth_rate, sample_rate)
    if seconds is not None:
        audio = _fit(audio, int(round(seconds * sample_rate)))
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio / peak if peak > 1.0 else audio


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad to exactly n samples."""
    if len(audio) >= n:
        return audio[:n]
    return np.pad(audio, (0, n - len(audio)))
