"""The image encoder: ImageNet ViT-Ti/16 (timm's weights), cut after its early blocks, frozen.

The probe in ../shared/research/frozen-vit-probe.md measured that a frozen ViT keeps pitch
only in its first blocks, so only `encoder_blocks` of the 12 are run at all.

The layers are written here, with timm's parameter names and its exact operations (fused
attention, LayerNorm eps 1e-6, exact GELU), so that timm's weights load unchanged and the
tokens are the ones timm's model gives (tests/model/test_encoders.py compares them), while
`clef transcribe` does not import timm: importing it pulled in torchvision and torch._dynamo,
2-3 s of every start.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from clef_app.config import ModelConfig
from clef_app.model.errors import ModelError
from clef_app.model.weights import file_sha256, resolve_weights

PRETRAIN_GRID = (14, 14)  # patches: the 224x224 pretraining image
VIT_HEAD_DIM = 64  # ViT-Ti/16: 192-d tokens in 3 heads of 64
MLP_RATIO = 4  # hidden units per token dimension in a block's MLP
LN_EPS = 1e-6  # timm's ViT LayerNorm epsilon


class ViTEncoder(nn.Module):
    """Patch embedding + the first blocks of a ViT, on images of the segment's shape."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        fe, dim = cfg.front_end, cfg.encoder_dim
        self.grid = (fe.image_height // cfg.patch, fe.image_width // cfg.patch)
        self.patch_embed = PatchEmbed(cfg.patch, dim)
        self.norm_pre = nn.Identity()  # ViT-Ti has no pre-norm; kept for timm's layout
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid[0] * self.grid[1] + 1, dim))
        heads = dim // VIT_HEAD_DIM
        self.blocks = nn.Sequential(*(Block(dim, heads) for _ in range(cfg.encoder_blocks)))
        self.n_frozen = cfg.encoder_blocks - cfg.finetune_blocks
        self._init_weights()

    def _init_weights(self) -> None:
        """timm's ViT initialisation (for `vit-scratch`; `vit` loads ImageNet weights)."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.blocks.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images -> (B, rows * cols, dim) patch tokens, row-major."""
        x = self.patch_embed(images)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.blocks(self.norm_pre(x))
        return x[:, 1:]

    def load_pretrained(self, path: Path) -> None:
        """Load ImageNet weights, resampling the 14x14 position grid to this image's grid."""
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"{path.name}: not a readable safetensors file ({exc})") from exc
        state = {k: v for k, v in state.items() if not k.startswith(("head", "norm.", "fc_norm"))}
        if "pos_embed" in state:
            state["pos_embed"] = resample_pos_embed(state["pos_embed"], self.grid)
        keep = {k: v for k, v in state.items() if not k.startswith("blocks.")
                or int(k.split(".")[1]) < len(self.blocks)}
        missing, unexpected = self.load_state_dict(keep, strict=False)
        if missing or unexpected:
            raise ModelError(f"{path.name}: not {self.__class__.__name__} weights "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")

    def freeze(self) -> None:
        """Freeze all but the last `finetune_blocks` blocks (and keep frozen parts in eval)."""
        for p in self.parameters():
            p.requires_grad_(False)
        for block in list(self.blocks)[self.n_frozen :]:
            for p in block.parameters():
                p.requires_grad_(True)


def build_encoder(cfg: ModelConfig, weights: str | Path | None = None) -> tuple[ViTEncoder, str]:
    """A ViT encoder with pretrained weights; returns it and the weights' sha256.

    Raises:
        ModelError: no weights file is found and timm cannot download them, or the weights
            differ from the ones the checkpoint was trained on.
    """
    path = resolve_weights(weights)
    sha = file_sha256(path) if path is not None else ""
    if path is not None and cfg.encoder_sha256 and sha != cfg.encoder_sha256:
        raise ModelError(  # checked before the encoder is built: nothing allocated yet
            f"encoder weights {path} (sha256 {sha[:12]}…) differ from the ones this model "
            f"was trained with ({cfg.encoder_sha256[:12]}…)")
    encoder = ViTEncoder(cfg)
    if path is not None:
        encoder.load_pretrained(path)
    else:
        sha = _load_from_timm(encoder, cfg)
    encoder.freeze()
    return encoder, sha


def _load_from_timm(encoder: ViTEncoder, cfg: ModelConfig) -> str:
    """Last resort: timm's own pretrained download (needs internet)."""
    import timm

    try:
        vit = timm.create_model(cfg.encoder_name, pretrained=True, num_classes=0)
    except Exception as exc:  # timm and the hub raise network, HTTP and file errors alike
        raise ModelError(
            "ImageNet encoder weights not found: set CLEF_ENCODER_WEIGHTS to "
            "vit_tiny_patch16_224 safetensors, put them in ../shared/weights/, or connect to "
            f"the internet so timm can download them ({type(exc).__name__})") from exc
    wanted = encoder.state_dict()
    state = {k: v for k, v in vit.state_dict().items() if k in wanted or k == "pos_embed"}
    state["pos_embed"] = resample_pos_embed(state["pos_embed"], encoder.grid)
    encoder.load_state_dict(state, strict=False)
    return ""


def resample_pos_embed(posemb: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The pretraining position embeddings (1, 1 + 14*14, dim), class token first, resized
    bicubically (antialiased, as timm's `resample_abs_pos_embed`) to a (rows, cols) grid."""
    if tuple(grid) == PRETRAIN_GRID:
        return posemb
    prefix, grid_part = posemb[:, :1], posemb[:, 1:]
    dim, dtype = grid_part.shape[-1], grid_part.dtype
    x = grid_part.float().reshape(1, *PRETRAIN_GRID, dim).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=list(grid), mode="bicubic", align_corners=None, antialias=True)
    x = x.permute(0, 2, 3, 1).reshape(1, -1, dim).to(dtype)
    return torch.cat([prefix, x], dim=1)


class PatchEmbed(nn.Module):
    """Non-overlapping patch x patch pixels -> one token each, row-major."""

    def __init__(self, patch: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.norm = nn.Identity()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, H/patch * W/patch, dim)."""
        return self.norm(self.proj(images).flatten(2).transpose(1, 2))


class Attention(nn.Module):
    """Multi-head self-attention with one fused QKV projection (timm's `Attention`)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, dim) -> (B, N, dim)."""
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """A pre-norm Transformer block (timm's ViT `Block` without layer scale or drop path)."""

    def __init__(self, dim: int, heads: int, eps: float = LN_EPS) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=eps), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=eps), Mlp(dim, dim * MLP_RATIO)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
