"""ClefModel: encoder (a frozen ViT by default; see model/encoders/) -> column bridge ->
token decoder."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from clef_app.config import N_PITCHES, ModelConfig
from clef_app.model.decoder import ColumnBridge, KVCache, TokenDecoder
from clef_app.model.encoders import build_encoder, token_grid, trains_encoder
from clef_app.model.frontend import mel_to_image
from clef_app.notation.codec import VOCAB_SIZE


class ClefModel(nn.Module):
    """The whole model. `encoder` may be None when training a frozen encoder's cached
    features; an encoder that trains (`trains_encoder`) must be given."""

    def __init__(self, cfg: ModelConfig, encoder: nn.Module | None = None) -> None:
        super().__init__()
        fe = cfg.front_end
        self.cfg = cfg
        self.rows, self.cols = token_grid(cfg)
        self.encoder = encoder
        self.bridge = ColumnBridge(cfg, self.rows, self.cols)
        self.decoder = TokenDecoder(cfg, VOCAB_SIZE)
        self.frames_per_col = fe.segment_frames // self.cols
        # onset and frame logits for each 10-ms frame and key, from each column token
        self.roll_head = (nn.Linear(cfg.d_model, self.frames_per_col * 2 * N_PITCHES)
                          if cfg.aux_roll else None)

    @classmethod
    def build(cls, cfg: ModelConfig, weights: str | Path | None = None,
              with_encoder: bool = True) -> ClefModel:
        """A model with its pretrained encoder resolved at run time (see model/weights.py)."""
        encoder = None
        if with_encoder:
            encoder, sha = build_encoder(cfg, weights)
            if not cfg.encoder_sha256 and sha:
                from dataclasses import replace

                cfg = replace(cfg, encoder_sha256=sha)
        return cls(cfg, encoder)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, cols, d_model) memory for the decoder."""
        assert self.encoder is not None, "built without an encoder"
        trains = self.cfg.finetune_blocks > 0 or trains_encoder(self.cfg)
        with torch.set_grad_enabled(self.training and trains):
            patches = self.encoder(images)
        return self.bridge(patches)

    def forward(self, inputs: torch.Tensor, tokens: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced logits from what the cache holds for this encoder kind.

        Args:
            inputs: (B, rows * cols, encoder_dim) frozen encoder output, or for an encoder
                that trains, (B, n_mels, frames) normalised log-mels (run through it here).
            tokens: (B, T) input tokens (BOS ...).
        Returns:
            (B, T, vocab) logits for the next token at each position, and
            (B, frames, 2, 88) onset/frame logits from the bridge (None without that head).
        """
        patches = inputs.float()
        if trains_encoder(self.cfg):
            patches = self.encoder(mel_to_image(patches, self.cfg.front_end))
        memory = self.bridge(patches)
        return self.decoder(tokens, memory), self.roll(memory)

    def roll(self, memory: torch.Tensor) -> torch.Tensor | None:
        """(B, cols, d_model) -> (B, cols * frames_per_col, 2, 88) onset/frame logits."""
        if self.roll_head is None:
            return None
        b = memory.shape[0]
        return self.roll_head(memory).view(b, self.cols * self.frames_per_col, 2, N_PITCHES)

    def step(self, tokens: torch.Tensor, memory: torch.Tensor, cache: KVCache,
             start: int) -> torch.Tensor:
        """Incremental decoding: logits of the last position only, (B, vocab)."""
        return self.decoder(tokens, memory, cache, start)[:, -1]

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The parameters a checkpoint stores: everything but the frozen encoder."""
        keep = {n for n, p in self.named_parameters() if p.requires_grad}
        state = self.state_dict()
        return {k: v for k, v in state.items()
                if not k.startswith("encoder.") or k in keep}
