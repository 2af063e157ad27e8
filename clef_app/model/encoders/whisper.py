"""The `whisper` encoder: Whisper's audio-encoder design, trained from scratch.

As in openai/whisper's `AudioEncoder`: a 1-D convolution over the mel frames (kernel 3),
a second one with stride 2 (so one token per 20 ms), GELU after each, fixed sinusoidal
positions, pre-norm Transformer blocks and a final LayerNorm. Width and depth are the ViT
cut's (`encoder_dim`, `encoder_blocks`, the same blocks: model/encoder.py), so the parameter counts
match and the comparison is of the tokenisation: 1-D frames here, 2-D patches there.

It reads the same picture every Clef encoder reads (model/frontend.py `mel_to_image`):
each frame's column of 224 rows is the log-mel resampled to the image height, so its
first convolution sees 224 input channels. Bilinear resampling is linear and one-to-one,
so this loses nothing against the 128 raw bins.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from clef_app.config import ModelConfig
from clef_app.model.encoder import Block

HEAD_DIM = 64  # per attention head, as in ViT-Ti (192 = 3 heads) and Whisper


def sinusoids(length: int, channels: int, max_timescale: float = 10_000.0) -> torch.Tensor:
    """Whisper's positional table: (length, channels), sines then cosines."""
    step = math.log(max_timescale) / (channels // 2 - 1)
    inv = torch.exp(-step * torch.arange(channels // 2, dtype=torch.float32))
    scaled = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=1)


def token_grid(cfg: ModelConfig) -> tuple[int, int]:
    """(rows, cols): one token per 2 frames, each 80-ms column's tokens as its rows."""
    fe = cfg.front_end
    cols = fe.image_width // cfg.patch
    return fe.segment_frames // 2 // cols, cols


class WhisperEncoder(nn.Module):
    """Mel frames -> one token per 2 frames, laid out as (frames/col/2 rows, cols) for the
    column bridge: the 4 tokens of each 80-ms column are its rows."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        fe, width = cfg.front_end, cfg.encoder_dim
        self.px = fe.px_per_frame
        self.grid = token_grid(cfg)
        n_tokens = self.grid[0] * self.grid[1]
        self.conv1 = nn.Conv1d(fe.image_height, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(width, width, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positions", sinusoids(n_tokens, width), persistent=False)
        self.blocks = nn.Sequential(*[Block(width, max(1, width // HEAD_DIM))
                                      for _ in range(cfg.encoder_blocks)])
        self.ln_post = nn.LayerNorm(width)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, frames * px) images -> (B, rows * cols, width) tokens, row-major."""
        frames = images[:, 0, :, :: self.px]  # (B, H, frames): each column once
        x = F.gelu(self.conv1(frames))
        x = F.gelu(self.conv2(x)).transpose(1, 2)  # (B, tokens, width)
        x = self.ln_post(self.blocks(x + self.positions))
        b, _, d = x.shape
        rows, cols = self.grid
        return x.view(b, cols, rows, d).transpose(1, 2).reshape(b, rows * cols, d)
