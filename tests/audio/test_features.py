"""The display's numpy log-mel against the model's torchaudio front end, on a real recording.

The app computes the spectrogram it shows without torch; these tests (which may import it)
check that it is the model's spectrogram: the same filterbank, window, framing and dB.
"""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.features import (
    display_spectrogram,
    hann_window,
    mel_filterbank,
    pitch_to_row,
    row_to_pitch,
)
from clef_app.config import FrontEndConfig

torch = pytest.importorskip("torch")
frontend = pytest.importorskip("clef_app.model.frontend")

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"
FE = FrontEndConfig()
MAX_DB_ERROR = 0.01  # dB: float32 rounding of two FFT implementations (measured: 0.0013)


@pytest.fixture(scope="module")
def demo() -> np.ndarray:
    samples, rate = sf.read(DEMO, dtype="float32")
    assert rate == FE.sample_rate and samples.ndim == 1
    return samples


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_filterbank_and_window_are_the_model_transforms_own():
    """Read from the model's MelSpectrogram itself, so a change of its mel scale, filter
    normalisation or window shows up here."""
    transform = frontend.mel_transform(FE)
    ours = mel_filterbank(FE)
    assert ours.shape == (FE.n_fft // 2 + 1, FE.n_mels) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, transform.mel_scale.fb.numpy(), atol=1e-4)
    np.testing.assert_allclose(hann_window(FE.n_fft), transform.spectrogram.window.numpy(),
                               atol=1e-6)


@pytest.mark.parametrize("seconds", [None, 3.0, 3.0 + 77 / FE.sample_rate])
def test_display_spectrogram_matches_torchaudio_on_a_real_recording(demo, seconds):
    """The whole demo and cuts ending on and off a hop boundary (the reflected right edge);
    a chunk size that does not divide the file puts chunk seams everywhere."""
    x = demo if seconds is None else demo[: int(round(seconds * FE.sample_rate))]
    reference = frontend.log_mel_db(x, FE).numpy().T  # centred, reflect-padded, torch
    for chunk_seconds in (5.0, 0.77):
        ours = display_spectrogram(x, FE, chunk_seconds=chunk_seconds)
        assert ours.shape == reference.shape == (1 + len(x) // FE.hop_length, FE.n_mels)
        assert ours.dtype == np.float32 and ours.flags.c_contiguous
        error = np.abs(ours - reference)
        assert error.max() < MAX_DB_ERROR, (chunk_seconds, error.max(), np.argmax(error))
    assert reference.max() - np.median(reference) > 30.0  # music, not silence


def test_silence_and_a_recording_shorter_than_a_window_still_draw():
    assert display_spectrogram(np.zeros(0, np.float32)).shape == (1, FE.n_mels)
    short = display_spectrogram(np.zeros(500, np.float32))
    assert short.shape == (1 + 500 // FE.hop_length, FE.n_mels)
    assert np.all(short == pytest.approx(-100.0))


def test_a_tone_is_loudest_on_its_pitch_row():
    t = np.arange(FE.sample_rate) / FE.sample_rate
    for pitch in (45, 60, 81, 100):  # A2, C4, A5, E7
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        spec = display_spectrogram((0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32))
        loudest = np.argmax(spec[20:-20].mean(axis=0))
        assert abs(loudest - pitch_to_row(pitch)) <= 0.6, (pitch, loudest, pitch_to_row(pitch))
    pitches = np.arange(21, 109, dtype=np.float64)
    np.testing.assert_allclose(row_to_pitch(pitch_to_row(pitches)), pitches, atol=1e-9)
