"""Audio -> the encoder's image: log-mel segments (torchaudio), or log-frequency ones
(`clef_app.audio.logfreq`, the workspace's numpy transform), laid out as 3-channel pictures.

The display's numpy log-mel (`clef_app.audio.features`) computes the same values without
torch, for the GUI; tests/audio/test_features.py checks that the two agree.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio

from clef_app.audio import logfreq
from clef_app.audio.features import POWER_FLOOR
from clef_app.config import DB_FLOOR, FrontEndConfig

_MEL_CACHE: dict[tuple, torchaudio.transforms.MelSpectrogram] = {}


def mel_transform(fe: FrontEndConfig, center: bool = True) -> torchaudio.transforms.MelSpectrogram:
    """The model's mel transform for these settings (one per settings, reused)."""
    key = (fe.sample_rate, fe.n_fft, fe.hop_length, fe.n_mels, fe.f_min, fe.f_max, center)
    if key not in _MEL_CACHE:
        _MEL_CACHE[key] = torchaudio.transforms.MelSpectrogram(
            sample_rate=fe.sample_rate,
            n_fft=fe.n_fft,
            hop_length=fe.hop_length,
            n_mels=fe.n_mels,
            f_min=fe.f_min,
            f_max=fe.f_max,
            power=2.0,
            center=center,
        )
    return _MEL_CACHE[key]


def log_mel_db(
    samples: np.ndarray | torch.Tensor, fe: FrontEndConfig = FrontEndConfig(), center: bool = True
) -> torch.Tensor:
    """Log-mel power in dB.

    Args:
        samples: (..., n_samples) mono float audio at fe.sample_rate.
        center: pad n_fft/2 on each side (frame i centred at sample i * hop); without it,
            frame i starts at sample i * hop and the caller supplies the context.
    Returns:
        (..., n_mels, n_frames) float32 dB.
    """
    x = torch.as_tensor(samples, dtype=torch.float32)
    with torch.no_grad():
        mel = mel_transform(fe, center)(x)
    return 10.0 * torch.log10(mel + POWER_FLOOR)


def normalise_db(db: torch.Tensor, fe: FrontEndConfig = FrontEndConfig()) -> torch.Tensor:
    """Map dB to [0, 1]: each segment's loudest bin to 1, db_range below it to 0.

    Args:
        db: (..., n_mels, n_frames); the maximum is taken over the last two axes.
    """
    top = db.amax(dim=(-2, -1), keepdim=True).clamp(min=DB_FLOOR + fe.db_range)
    return ((db - (top - fe.db_range)) / fe.db_range).clamp(0.0, 1.0)


def n_segments(n_samples: int, fe: FrontEndConfig) -> int:
    """Segments needed to cover n_samples (the last one zero-padded)."""
    return max(1, -(-n_samples // fe.segment_samples))


def segment_context(samples: np.ndarray, index: int, fe: FrontEndConfig) -> np.ndarray:
    """Samples segment `index` needs: its frames plus n_fft/2 of context either side.

    Frame i of the segment is centred on sample (index * segment_frames + i) * hop, exactly
    as a centred STFT of the whole recording would place it.
    """
    return window_context(samples, index * fe.segment_samples, fe)


def window_context(samples: np.ndarray, first: int, fe: FrontEndConfig) -> np.ndarray:
    """Samples a segment-long window needs whose frame 0 is centred on `samples[first]`
    (any sample, not only a segment boundary); zeros where `samples` has none."""
    return _padded(samples, first - fe.n_fft // 2,
                   fe.n_fft + (fe.segment_frames - 1) * fe.hop_length)


def _padded(samples: np.ndarray, start: int, length: int) -> np.ndarray:
    """`samples[start : start + length]` as float32, zeros where the recording has none."""
    out = np.zeros(length, dtype=np.float32)
    lo, hi = max(0, start), min(len(samples), start + length)
    if hi > lo:
        out[lo - start : hi - start] = samples[lo:hi]
    return out


def segment_mels(samples: np.ndarray, first: int, count: int, fe: FrontEndConfig) -> torch.Tensor:
    """Normalised log-mel of `count` segments from segment index `first`.

    Returns:
        (count, n_mels, segment_frames) float32 in [0, 1], low frequencies at row 0.
    """
    return window_mels(samples, [(first + k) * fe.segment_samples for k in range(count)], fe)


def window_mels(samples: np.ndarray, firsts: list[int], fe: FrontEndConfig) -> torch.Tensor:
    """Normalised spectrogram of segment-long windows whose frame 0 is centred on each of
    `firsts` (sample indices). Returns (len(firsts), rows, segment_frames): n_mels mel rows,
    or image_height log-frequency rows (`fe.kind`)."""
    if fe.kind == "logfreq":
        return normalise_db(torch.from_numpy(np.stack(
            [_logfreq_window(samples, first, fe) for first in firsts])), fe)
    ctx = np.stack([window_context(samples, first, fe) for first in firsts])
    return normalise_db(log_mel_db(ctx, fe, center=False), fe)


LOGFREQ_CONTEXT = 100  # frames (1 s) of audio either side of a window: the bass's longest
# analysis window is 0.51 s, so every frame of the window sees all it needs


def lookahead(fe: FrontEndConfig) -> int:
    """Samples of audio a window reads past its last frame's centre: the mel STFT's half
    window, or the log-frequency bands' context (a stream decodes a segment only once
    they have arrived, so its image is the file's)."""
    return LOGFREQ_CONTEXT * fe.hop_length if fe.kind == "logfreq" else fe.n_fft // 2


def _logfreq_window(samples: np.ndarray, first: int, fe: FrontEndConfig) -> np.ndarray:
    """(rows, segment_frames) dB of one window whose frame 0 is centred on `samples[first]`."""
    margin = LOGFREQ_CONTEXT * fe.hop_length
    piece = _padded(samples, first - margin, 2 * margin + fe.segment_samples)
    db = logfreq.block(piece, fe.sample_rate, LOGFREQ_CONTEXT, fe.segment_frames,
                       logfreq.grid_of(fe))
    return db.T


def mel_to_image(mel: torch.Tensor, fe: FrontEndConfig) -> torch.Tensor:
    """Lay normalised mels out as the ViT's pretraining images.

    Args:
        mel: (B, n_mels, frames) in [0, 1].
    Returns:
        (B, 3, image_height, frames * px_per_frame), `(x - 0.5) / 0.5`, high pitches at the top.
    """
    x = mel.flip(-2).unsqueeze(1)  # image row 0 is the top: put high frequencies there
    x = F.interpolate(x, size=(fe.image_height, x.shape[-1]), mode="bilinear", align_corners=False)
    x = x.repeat_interleave(fe.px_per_frame, dim=-1)
    return ((x - 0.5) / 0.5).expand(-1, 3, -1, -1)
