"""The image encoder: ImageNet ViT-Ti/16 (timm), cut after its early blocks, frozen.

The probe in ../shared/research/frozen-vit-probe.md measured that a frozen ViT keeps pitch
only in its first blocks, so only `encoder_blocks` of the 12 are run at all.
"""

from __future__ import annotations

from pathlib import Path

import timm
import torch
from safetensors.torch import load_file
from timm.layers import resample_abs_pos_embed
from torch import nn

from clef_app.config import ModelConfig
from clef_app.model.errors import ModelError
from clef_app.model.weights import file_sha256, resolve_weights

PRETRAIN_GRID = (14, 14)  # patches: the 224x224 pretraining image


class ViTEncoder(nn.Module):
    """Patch embedding + the first blocks of a ViT, on images of the segment's shape."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        fe = cfg.front_end
        self.grid = (fe.image_height // cfg.patch, fe.image_width // cfg.patch)
        vit = timm.create_model(
            cfg.encoder_name, pretrained=False, num_classes=0,
            img_size=(fe.image_height, fe.image_width),
        )
        self.patch_embed, self.norm_pre = vit.patch_embed, vit.norm_pre
        self.cls_token, self.pos_embed = vit.cls_token, vit.pos_embed
        self.blocks = nn.Sequential(*list(vit.blocks)[: cfg.encoder_blocks])
        self.n_frozen = cfg.encoder_blocks - cfg.finetune_blocks

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
        except Exception as exc:
            raise ModelError(f"{path.name}: not a readable safetensors file ({exc})") from exc
        state = {k: v for k, v in state.items() if not k.startswith(("head", "norm.", "fc_norm"))}
        if "pos_embed" in state:
            state["pos_embed"] = resample_abs_pos_embed(
                state["pos_embed"], new_size=list(self.grid), old_size=list(PRETRAIN_GRID),
                num_prefix_tokens=1,
            )
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
    try:
        vit = timm.create_model(cfg.encoder_name, pretrained=True, num_classes=0)
    except Exception as exc:
        raise ModelError(
            "ImageNet encoder weights not found: set CLEF_ENCODER_WEIGHTS to "
            "vit_tiny_patch16_224 safetensors, put them in ../shared/weights/, or connect to "
            f"the internet so timm can download them ({type(exc).__name__})") from exc
    wanted = encoder.state_dict()
    state = {k: v for k, v in vit.state_dict().items() if k in wanted or k == "pos_embed"}
    state["pos_embed"] = resample_abs_pos_embed(
        state["pos_embed"], new_size=list(encoder.grid), old_size=list(PRETRAIN_GRID),
        num_prefix_tokens=1)
    encoder.load_state_dict(state, strict=False)
    return ""
