"""Every encoder Clef can be built with, chosen by `ModelConfig.encoder_kind`.

All read the same segment image (model/frontend.py `mel_to_image`) and return patch tokens
(B, rows * cols, encoder_dim), row-major, whose `cols` are the 32 80-ms columns the column
bridge and the roll head expect; only `rows` and `encoder_dim` differ by kind.

| kind        | what                                                   | trained? |
|-------------|--------------------------------------------------------|----------|
| vit         | ImageNet ViT-Ti/16, first 2 blocks (model/encoder.py)  | frozen   |
| vit-scratch | the same ViT cut, random init                          | yes      |
| whisper     | Whisper's audio encoder design (whisper.py)            | yes      |
| cnn         | ImageNet EfficientNet-Lite0 to stride 4 (efficientnet.py) | frozen |

A frozen encoder is run once by `clef cache` and the model trains from its features; an
encoder that trains runs inside the model on cached log-mels (`clef cache --store mels`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from torch import nn

from clef_app.config import ModelConfig
from clef_app.model.encoders import efficientnet, whisper
from clef_app.model.errors import ModelError
from clef_app.model.weights import file_sha256

KINDS = ("vit", "vit-scratch", "whisper", "cnn")
TRAINED_KINDS = ("vit-scratch", "whisper")  # trained with the decoder, from cached mels
CNN_STAGES = 2  # EfficientNet-Lite0 stages run: stride 4, 24 channels (efficientnet.py)


def config_for(kind: str, base: ModelConfig | None = None) -> ModelConfig:
    """The model config of an encoder kind; everything but the encoder is `base`'s.

    Raises:
        ModelError: an unknown kind.
    """
    base = base or ModelConfig()
    if kind == "vit":
        return replace(base, encoder_kind=kind)
    if kind in TRAINED_KINDS:
        name = base.encoder_name if kind == "vit-scratch" else "whisper-audio-encoder"
        return replace(base, encoder_kind=kind, encoder_name=name, encoder_sha256="")
    if kind == "cnn":
        return replace(base, encoder_kind=kind, encoder_name=efficientnet.TIMM_NAME,
                       encoder_blocks=CNN_STAGES, encoder_sha256="",
                       encoder_dim=efficientnet.STAGE_CHANNELS[CNN_STAGES - 1])
    raise ModelError(f"unknown encoder kind {kind!r} (one of {', '.join(KINDS)})")


def trains_encoder(cfg: ModelConfig) -> bool:
    """Whether this kind's encoder is trained (so it runs inside the model when training)."""
    return cfg.encoder_kind in TRAINED_KINDS


def token_grid(cfg: ModelConfig) -> tuple[int, int]:
    """(rows, cols) of the encoder's token grid; cols are the 80-ms patch columns."""
    if cfg.encoder_kind == "whisper":
        return whisper.token_grid(cfg)
    if cfg.encoder_kind == "cnn":
        return efficientnet.token_grid(cfg)
    fe = cfg.front_end
    return fe.image_height // cfg.patch, fe.image_width // cfg.patch


def build_encoder(cfg: ModelConfig, weights: str | Path | None = None) -> tuple[nn.Module, str]:
    """The encoder `cfg` names, with pretrained weights where it has them.

    Args:
        weights: for `vit`, ViT safetensors; for `cnn`, the package's `.pth` (default: found
            where pip put it). Ignored by the kinds trained from scratch.
    Returns:
        The encoder and the sha256 of its pretrained weights ("" when it has none).
    Raises:
        ModelError: weights missing or not the ones the config was trained with.
    """
    from clef_app.model import encoder as vit

    if cfg.encoder_kind == "vit":
        return vit.build_encoder(cfg, weights)
    if cfg.encoder_kind == "vit-scratch":
        return vit.ViTEncoder(cfg), ""
    if cfg.encoder_kind == "whisper":
        return whisper.WhisperEncoder(cfg), ""
    if cfg.encoder_kind == "cnn":
        return _pretrained_cnn(cfg, weights)
    raise ModelError(f"unknown encoder kind {cfg.encoder_kind!r} (one of {', '.join(KINDS)})")


def _pretrained_cnn(cfg: ModelConfig, weights: str | Path | None
                    ) -> tuple[efficientnet.EfficientNetEncoder, str]:
    """The frozen EfficientNet cut with the package's ImageNet weights, and their sha256."""
    path = Path(weights) if weights else efficientnet.package_weights()
    if not path.is_file():
        raise ModelError(f"EfficientNet-Lite0 weights not found: {path}")
    sha = file_sha256(path)
    if cfg.encoder_sha256 and sha != cfg.encoder_sha256:
        raise ModelError(f"encoder weights {path} (sha256 {sha[:12]}…) differ from the ones "
                         f"this model was trained with ({cfg.encoder_sha256[:12]}…)")
    encoder = efficientnet.EfficientNetEncoder(cfg)
    encoder.load_pretrained(path)
    for p in encoder.parameters():
        p.requires_grad_(False)
    return encoder.eval(), sha
