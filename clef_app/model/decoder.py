"""Bridge (encoder patches -> memory tokens) and the autoregressive decoder with a KV cache."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from clef_app.config import ModelConfig


class KVCache:
    """Keys and values of a batch being decoded, written in place.

    Self-attention keys/values of layer `name` live in (B, heads, capacity, head_dim)
    buffers filled up to `length` positions: a step writes its position, where a
    `torch.cat` per step copied the whole cache (O(T^2) copying over a sequence).
    Cross-attention keys/values are the memory's, computed at the first step.
    `keep(rows)` drops finished rows, moving the rest to the front of the same buffers.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity  # positions a sequence may reach
        self.length = 0  # positions written (all rows alike)
        self._self: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.cross: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def append(self, name: str, k: torch.Tensor, v: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write (B, heads, T, head_dim) new keys/values of `name` after the `length`
        written ones; the keys/values of every position so far, as views."""
        end = self.length + k.shape[2]
        if end > self.capacity:
            raise ValueError(f"KV cache full: {end} positions, capacity {self.capacity}")
        if name not in self._self:
            b, h, _, d = k.shape
            self._self[name] = (k.new_empty(b, h, self.capacity, d),
                                v.new_empty(b, h, self.capacity, d))
        bk, bv = self._self[name]
        bk[:, :, self.length : end] = k
        bv[:, :, self.length : end] = v
        return bk[:, :, :end], bv[:, :, :end]

    def advance(self, steps: int) -> None:
        """Every layer has written `steps` more positions."""
        self.length += steps

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only `rows` (indices, ascending) of the batch, in that order."""
        n = len(rows)
        for name, (bk, bv) in self._self.items():
            for buf in (bk, bv):
                buf[:n, :, : self.length] = buf[:, :, : self.length].index_select(0, rows)
            self._self[name] = (bk[:n], bv[:n])
        self.cross = {name: (k.index_select(0, rows), v.index_select(0, rows))
                      for name, (k, v) in self.cross.items()}


class ColumnBridge(nn.Module):
    """Each 80-ms patch column (all its frequency patches, concatenated) becomes one token.

    Concatenating rather than pooling keeps where in frequency each patch sits: that
    vertical layout is the harmony the model is meant to see.
    """

    def __init__(self, cfg: ModelConfig, rows: int, cols: int) -> None:
        super().__init__()
        self.rows, self.cols = rows, cols
        self.proj = nn.Linear(rows * cfg.encoder_dim, cfg.d_model)
        self.norm_in = nn.LayerNorm(cfg.d_model)
        self.pos = nn.Parameter(torch.zeros(1, cols, cfg.d_model))
        layer = nn.TransformerEncoderLayer(
            cfg.d_model, cfg.n_heads, cfg.ff_mult * cfg.d_model, cfg.dropout,
            activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, cfg.bridge_layers, enable_nested_tensor=False)
        self.norm_out = nn.LayerNorm(cfg.d_model)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, rows * cols, dim) row-major patch tokens -> (B, cols, d_model)."""
        b, _, d = patches.shape
        x = patches.view(b, self.rows, self.cols, d).permute(0, 2, 1, 3).reshape(b, self.cols, -1)
        x = self.norm_in(self.proj(x)) + self.pos
        return self.norm_out(self.layers(x))


class Attention(nn.Module):
    """Multi-head attention; caches keys/values under `name` for incremental decoding."""

    def __init__(self, cfg: ModelConfig, name: str, cross: bool) -> None:
        super().__init__()
        self.name, self.cross, self.heads = name, cross, cfg.n_heads
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout
        self.captured: list[torch.Tensor] | None = None  # set to a list to record weights

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None,
                cache: KVCache | None) -> torch.Tensor:
        q = self._split(self.q(x))
        if self.cross and cache is not None and self.name in cache.cross:
            k, v = cache.cross[self.name]
        else:
            k, v = (self._split(t) for t in self.kv(memory if self.cross else x).chunk(2, dim=-1))
            if cache is not None and self.cross:
                cache.cross[self.name] = (k, v)
            elif cache is not None:
                k, v = cache.append(self.name, k, v)
        causal = not self.cross and q.shape[2] > 1
        if self.captured is not None and self.cross:
            weights = (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).softmax(dim=-1)
            self.captured.append(weights.detach())  # (B, heads, T, memory)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=causal, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(x.shape))


class DecoderBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, index: int) -> None:
        super().__init__()
        d = cfg.d_model
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(cfg, f"self{index}", cross=False)
        self.cross_attn = Attention(cfg, f"cross{index}", cross=True)
        self.mlp = nn.Sequential(
            nn.Linear(d, cfg.ff_mult * d), nn.GELU(), nn.Linear(cfg.ff_mult * d, d),
            nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, memory: torch.Tensor, cache: KVCache | None) -> torch.Tensor:
        x = x + self.self_attn(self.ln1(x), None, cache)
        x = x + self.cross_attn(self.ln2(x), memory, cache)
        return x + self.mlp(self.ln3(x))


class TokenDecoder(nn.Module):
    """Pre-norm Transformer decoder over note-event tokens."""

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.d_model)
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_tokens, cfg.d_model))
        self.blocks = nn.ModuleList(DecoderBlock(cfg, i) for i in range(cfg.decoder_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: the vocabulary is small
        nn.init.normal_(self.pos, std=0.02)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, cache: KVCache | None = None,
                start: int = 0) -> torch.Tensor:
        """(B, T) tokens at positions start.. -> (B, T, vocab) logits."""
        x = self.embed(tokens) + self.pos[:, start : start + tokens.shape[1]]
        for block in self.blocks:
            x = block(x, memory, cache)
        if cache is not None:
            cache.advance(tokens.shape[1])
        return self.head(self.ln_f(x))
