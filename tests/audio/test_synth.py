"""FluidSynth rendering: timing, pitch, pedal, length, reuse of the loaded synth."""

from pathlib import Path

import numpy as np
import pytest

from clef_app.audio.synth import get_renderer, render_notes
from clef_app.notation.events import NoteEvent

SF = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # 6 MB: loads in a fraction of a second
RATE = 16_000

pytestmark = pytest.mark.skipif(not SF.is_file(), reason="timgm6mb-soundfont not installed")


def _rms(audio: np.ndarray, start: float, stop: float) -> float:
    seg = audio[int(start * RATE) : int(stop * RATE)]
    return float(np.sqrt(np.mean(seg**2)))


def test_silence_before_onset_and_sound_after() -> None:
    audio = render_notes([NoteEvent(0.5, 1.0, 60, 100)], soundfont=SF, seconds=2.0)
    assert audio.dtype == np.float32 and audio.shape == (2 * RATE,)
    assert np.max(np.abs(audio[: int(0.495 * RATE)])) < 1e-4
    first = int(np.argmax(np.abs(audio) > 1e-3))
    assert 0.5 <= first / RATE < 0.52  # sample-accurate scheduling (+ attack)
    assert _rms(audio, 0.55, 0.95) > 100 * _rms(audio, 0.0, 0.45) + 1e-3


def test_pitch_is_the_note_played() -> None:
    audio = render_notes([NoteEvent(0.0, 1.5, 69, 100)], soundfont=SF, seconds=1.5)
    seg = audio[int(0.2 * RATE) : int(1.2 * RATE)] * np.hanning(RATE)
    spectrum = np.abs(np.fft.rfft(seg))
    peak_hz = np.argmax(spectrum) * RATE / len(seg)
    assert abs(peak_hz - 440.0) < 5.0


def test_sustain_pedal_holds_released_note() -> None:
    note = [NoteEvent(0.1, 0.3, 60, 100)]
    dry = render_notes(note, soundfont=SF, seconds=2.0)
    held = render_notes(note, soundfont=SF, seconds=2.0, pedal=[(0.05, 1.6)])
    assert _rms(held, 1.0, 1.5) > 10 * _rms(dry, 1.0, 1.5)
    assert _rms(held, 1.9, 2.0) < 0.2 * _rms(held, 1.0, 1.5)  # released at 1.6 s


def test_default_length_covers_the_release_tail() -> None:
    audio = render_notes([NoteEvent(0.0, 0.5, 72, 80)], soundfont=SF)
    assert 1.4 < len(audio) / RATE < 1.6


def test_restrike_and_reuse_are_independent_of_previous_clip() -> None:
    loud = [NoteEvent(0.0, 3.0, 48, 127), NoteEvent(0.0, 3.0, 55, 127)]
    render_notes(loud, soundfont=SF, seconds=0.5)  # cut off while notes sound
    after = render_notes([NoteEvent(1.0, 1.2, 60, 80)], soundfont=SF, seconds=1.5)
    assert np.max(np.abs(after[: int(0.9 * RATE)])) < 1e-4
    assert get_renderer(SF) is get_renderer(SF)


def test_render_is_reproducible_whatever_came_before() -> None:
    notes = [NoteEvent(0.1, 0.6, 60, 90), NoteEvent(0.2, 0.9, 64, 70)]
    renderer = get_renderer(SF)
    first = renderer.render(notes, pedal=[(0.0, 0.8)], seconds=1.0)
    renderer.render([NoteEvent(0.0, 2.0, 69, 127)], program=6, cents=30)
    assert np.array_equal(first, renderer.render(notes, pedal=[(0.0, 0.8)], seconds=1.0))


def test_detune_moves_pitch_not_time() -> None:
    note = [NoteEvent(0.25, 1.5, 69, 100)]
    audio = render_notes(note, soundfont=SF, seconds=1.5)
    sharp = get_renderer(SF).render(note, seconds=1.5, cents=25)
    sharp = sharp[::2]  # 32 kHz -> 16 kHz (a rough decimation is enough for a peak)
    for signal, want in ((audio, 440.0), (sharp, 440.0 * 2 ** (25 / 1200))):
        seg = signal[int(0.4 * RATE) : int(1.4 * RATE)] * np.hanning(RATE)
        spectrum = np.abs(np.fft.rfft(seg, 8 * RATE))
        assert abs(np.argmax(spectrum) / 8 - want) < 1.5
        assert 0.24 <= np.argmax(np.abs(signal) > 1e-3) / RATE < 0.27
