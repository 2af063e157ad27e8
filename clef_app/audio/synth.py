"""Offline FluidSynth rendering: notes (+ sustain pedal) to 16 kHz mono audio, Qt-free.

A soundfont is loaded once per process and kept (loading MuseScore_General.sf3 takes
4-11 s); each render runs on a fresh synthesizer that shares its samples. Events are
scheduled by rendering the samples between them (FluidSynth applies an event at its next
64-sample block, so events land within ±1 ms at 32 kHz). FluidSynth runs at
`SYNTH_RATE` and the result is resampled (anti-aliased) to the requested rate, because
FluidSynth itself aliases at 16 kHz.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clef_app import preload
from clef_app.audio.io import resample
from clef_app.config import SAMPLE_RATE
from clef_app.errors import ClefError
from clef_app.notation.events import NoteEvent
from clef_app.notation.steps import checkpoint

SYNTH_RATE = 32_000  # Hz: FluidSynth's internal rate, resampled 2:1 to 16 kHz
TAIL_SECONDS = 1.0  # s: rendered after the last release so notes decay naturally
SYNTH_GAIN = 1.0  # FluidSynth master gain; output is float and render_notes() caps the peak at 1
SUSTAIN_CC = 64  # MIDI controller number of the sustain (damper) pedal
CHANNEL = 0
BEND_PER_CENT = 8192 / 200  # pitch-wheel units per cent (default sensitivity: ±2 semitones)
MAX_BLOCK = 8192  # samples rendered per FluidSynth call at most
FLUID_BLOCK = 64  # samples: FluidSynth's block; events take effect at a block start (±1 ms)

SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
)

# (time in samples, order, kind, a, b); order puts releases before presses at one instant
_Event = tuple[int, int, str, int, int]


class SynthError(ClefError):
    """No soundfont, or FluidSynth could not load one."""


def default_soundfont() -> Path:
    """The first General MIDI soundfont installed, in the order of SOUNDFONT_CANDIDATES."""
    for path in SOUNDFONT_CANDIDATES:
        if path.is_file():
            return path
    raise SynthError("no General MIDI soundfont found (install fluid-soundfont-gm)")


class Renderer:
    """A soundfont kept loaded; each render runs on a fresh FluidSynth synthesizer.

    FluidSynth shares decoded samples between synthesizers of one process, so the anchor
    synthesizer made here keeps them loaded and a fresh one per render costs 0.05-0.2 s.
    A fresh synthesizer makes every render independent of the previous ones (a reused one
    changes with its voice-pool history). Safe to use from several threads.
    """

    def __init__(self, soundfont: str | Path, synth_rate: int = SYNTH_RATE) -> None:
        import fluidsynth  # a C library binding: imported only when rendering

        self.soundfont = Path(soundfont)
        self.synth_rate = synth_rate
        if not self.soundfont.is_file():
            raise SynthError(f"{self.soundfont}: no such soundfont")
        self._fluidsynth = fluidsynth
        self._write = _float_writer(fluidsynth)
        self._anchor, self._anchor_sfid = self._new_synth()

    def _new_synth(self):
        # reverb and chorus off: room acoustics are the augmenter's job
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": 512}
        rate = float(self.synth_rate)
        synth = self._fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=rate, **settings)
        sfid = synth.sfload(str(self.soundfont))
        if sfid < 0:
            synth.delete()
            raise SynthError(f"{self.soundfont.name}: FluidSynth could not load it")
        return synth, sfid

    def has_program(self, program: int, bank: int = 0) -> bool:
        """Whether the soundfont has this GM program (0-127) in this bank."""
        return self._anchor.program_select(CHANNEL, self._anchor_sfid, bank, program) == 0

    def render(
        self,
        notes: Sequence[NoteEvent],
        program: int = 0,
        pedal: Sequence[tuple[float, float]] | None = None,
        seconds: float | None = None,
        bank: int = 0,
        cents: float = 0.0,
    ) -> np.ndarray:
        """Render at `synth_rate`: float32 mono, `seconds` long (default: last event + tail).

        A missing program falls back to 0. `cents` detunes the whole rendering (pitch
        bend, ±200 cents at most) without moving any note in time.
        """
        events = _schedule(notes, pedal or (), self.synth_rate)
        end = max((e[0] for e in events), default=0) + int(TAIL_SECONDS * self.synth_rate)
        total = int(round(seconds * self.synth_rate)) if seconds is not None else end
        synth, sfid = self._new_synth()
        try:
            if synth.program_select(CHANNEL, sfid, bank, program) != 0:
                synth.program_select(CHANNEL, sfid, 0, 0)
            synth.pitch_bend(CHANNEL, int(round(np.clip(cents, -200, 200) * BEND_PER_CENT)))
            return self._run(synth, events, total)
        finally:
            synth.delete()

    def _run(self, synth, events: list[_Event], total: int) -> np.ndarray:
        """Play events into a (total,) buffer; FluidSynth applies each at its next block."""
        out = np.zeros(total, dtype=np.float32)
        pos = 0
        for when, _, kind, a, b in events:
            # issued half a block early, an event starts at the block boundary nearest to it
            when = min(max(when - FLUID_BLOCK // 2, pos), total)
            pos = self._fill(synth, out, pos, when)
            if when >= total:
                break
            if kind == "on":
                synth.noteon(CHANNEL, a, b)
            elif kind == "off":
                synth.noteoff(CHANNEL, a)
            else:
                synth.cc(CHANNEL, a, b)
        self._fill(synth, out, pos, total)
        return out

    def _fill(self, synth, out: np.ndarray, start: int, stop: int) -> int:
        """Render samples [start, stop) into `out`; returns stop."""
        while start < stop:
            checkpoint()  # inside steps.stop_when, a cancel stops a long rendering here
            n = min(MAX_BLOCK, stop - start)
            out[start : start + n] = self._write(synth.synth, n)
            start += n
        return stop


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
    key = _key(soundfont, synth_rate)
    with _RENDERERS_LOCK:
        if key not in _RENDERERS:
            _RENDERERS[key] = Renderer(key[0], synth_rate)
        return _RENDERERS[key]


def _key(soundfont: str | Path | None, synth_rate: int) -> tuple[str, int]:
    path = Path(soundfont) if soundfont is not None else default_soundfont()
    return str(path.resolve()), synth_rate


def ready_renderer(soundfont: str | Path | None = None,
                   synth_rate: int = SYNTH_RATE) -> Renderer:
    """`get_renderer`, but a cancel can interrupt the wait for its first load.

    The first load (FluidSynth's import, SciPy's for the resampling, reading the soundfont:
    seconds on a busy machine, in calls nothing can interrupt) runs on its own thread
    (`clef_app.preload`); this waits for it in short steps that call `steps.checkpoint()`,
    so a cancel (closing the app) leaves at once and the load goes on alone.

    Raises:
        SynthError: no soundfont, or FluidSynth could not load it.
        Cancelled: the wait was cancelled (inside `steps.stop_when`).
    """
    key = _key(soundfont, synth_rate)
    renderer = _RENDERERS.get(key)
    if renderer is not None:
        return renderer
    preload.imported("scipy.signal")  # ~1 s, for `resample`
    return preload.wait_for(f"soundfont {key}", lambda: get_renderer(*key))


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
    renderer = ready_renderer(soundfont)
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
