"""The log-frequency front end: each key's fundamental on its rows, windows anywhere in a
recording read the same frames, and configs that ask for it are checked."""

import numpy as np
import pytest

from clef_app.audio.logfreq import model_row, model_row_pitch, model_rows
from clef_app.config import FrontEndConfig, ModelConfig
from clef_app.model.frontend import mel_to_image, window_mels

FE = FrontEndConfig(kind="logfreq")
SR = FE.sample_rate


def _sines(pitches: list[int], seconds: float = 6.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    hz = [440.0 * 2 ** ((p - 69) / 12) for p in pitches]
    return sum(0.05 * np.sin(2 * np.pi * f * t) for f in hz).astype(np.float32)


@pytest.mark.parametrize("pitch", [21, 28, 40, 55, 69, 88, 108])
def test_a_sine_is_loudest_on_its_keys_row(pitch):
    image = window_mels(_sines([pitch]), [SR], FE)[0].numpy()  # (rows, frames)
    assert image.shape == (model_rows(FE), FE.segment_frames)
    loudest = int(np.argmax(image[:, 100]))
    assert abs(loudest - float(model_row(pitch, FE))) <= 1.0
    assert abs(float(model_row_pitch(loudest, FE)) - pitch) < 0.5


def test_windows_read_the_same_frames_wherever_they_start():
    x = _sines([45, 64, 76]) * np.linspace(0.2, 1.0, 6 * SR, dtype=np.float32)
    hop = FE.hop_length
    a, b = window_mels(x, [SR, SR + 40 * hop], FE)
    np.testing.assert_allclose(a[:, 40 + 30].numpy(), b[:, 30].numpy(), atol=1e-4)


def test_the_image_is_the_rows_unresized():
    rows = window_mels(_sines([60]), [0], FE)
    image = mel_to_image(rows, FE)
    assert image.shape == (1, 3, FE.image_height, FE.image_width)
    np.testing.assert_allclose(image[0, 0, :, ::2].flip(0).numpy(), (rows[0].numpy() - 0.5) / 0.5,
                               atol=1e-6)


def test_configs_name_a_known_front_end():
    stored = ModelConfig(front_end=FE).to_dict()
    assert ModelConfig.from_dict(stored).front_end == FE
    legacy = ModelConfig().to_dict()
    for key in ("kind", "low_pitch", "high_pitch"):
        del legacy["front_end"][key]  # checkpoints written before the option read mel
    assert ModelConfig.from_dict(legacy).front_end.kind == "mel"
    stored["front_end"]["kind"] = "cqt"
    with pytest.raises(ValueError, match="front end kind"):
        ModelConfig.from_dict(stored)
