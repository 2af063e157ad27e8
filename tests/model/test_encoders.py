"""Each encoder kind builds, runs, trains where it should, and survives a checkpoint."""

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from clef_app.config import ModelConfig
from clef_app.model.checkpoint import load_checkpoint, save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.encoders import KINDS, build_encoder, config_for, token_grid, trains_encoder
from clef_app.model.errors import ModelError
from clef_app.notation.codec import BOS

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=64, dropout=0.0)
GRIDS = {"vit": (14, 32), "vit-scratch": (14, 32), "whisper": (4, 32), "cnn": (224, 32)}


def _image(seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 3, 224, 512, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module", params=KINDS)
def model(request) -> ClefModel:
    torch.manual_seed(0)
    return ClefModel.build(config_for(request.param, TINY)).eval()


def test_encoder_tokens_fit_the_column_bridge(model):
    kind = model.cfg.encoder_kind
    assert token_grid(model.cfg) == (model.rows, model.cols) == GRIDS[kind]
    with torch.no_grad():
        patches = model.encoder(_image())
        memory = model.encode(_image())
    assert patches.shape == (1, model.rows * model.cols, model.cfg.encoder_dim)
    assert memory.shape == (1, 32, TINY.d_model) and torch.isfinite(memory).all()


def test_only_the_trained_kinds_train_their_encoder(model):
    kind = model.cfg.encoder_kind
    assert trains_encoder(model.cfg) == (kind in ("vit-scratch", "whisper"))
    trains = [p.requires_grad for p in model.encoder.parameters()]
    assert all(trains) if trains_encoder(model.cfg) else not any(trains)
    stored = model.trainable_state()
    assert any(k.startswith("encoder.") for k in stored) == trains_encoder(model.cfg)


def test_teacher_forced_step_reaches_the_encoder_that_trains(model):
    """Training input is what the kind's cache holds: mels, or frozen patches."""
    fe = model.cfg.front_end
    if trains_encoder(model.cfg):
        inputs = torch.rand(2, fe.n_mels, fe.segment_frames)
    else:
        with torch.no_grad():
            inputs = model.encoder(_image().expand(2, -1, -1, -1))
    tokens = torch.full((2, 5), BOS, dtype=torch.long)
    model.train()
    try:
        logits, roll = model(inputs, tokens)
        (logits.float().mean() + roll.float().mean()).backward()
    finally:
        model.eval()
    grads = [p.grad for p in model.encoder.parameters() if p.requires_grad]
    assert logits.shape[:2] == (2, 5) and roll.shape == (2, fe.segment_frames, 2, 88)
    assert all(g is not None for g in grads) and bool(grads) == trains_encoder(model.cfg)
    model.zero_grad(set_to_none=True)


def test_checkpoint_records_the_kind_and_round_trips(model, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(model, path, half=False)
    assert json.loads(path.with_suffix(".json").read_text())["config"]["encoder_kind"] == \
        model.cfg.encoder_kind
    stored = load_file(str(path))
    assert any(k.startswith("encoder.") for k in stored) == trains_encoder(model.cfg)
    loaded = load_checkpoint(path)
    assert loaded.cfg == model.cfg
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(_image(1)), model.encode(_image(1)))


@pytest.mark.parametrize("kind", ["whisper", "cnn"])
def test_tokens_of_an_80ms_column_come_from_that_column(kind):
    """Changing one 80-ms column of the image changes that column's tokens, not far ones
    (no attention blocks here, so nothing mixes columns but the convolutions)."""
    cfg = replace(config_for(kind, TINY), encoder_blocks=0) if kind == "whisper" \
        else config_for(kind, TINY)
    encoder, _ = build_encoder(cfg)
    rows, cols = token_grid(cfg)
    image = _image()
    changed = image.clone()
    changed[..., 5 * 16 : 6 * 16] = -image[..., 5 * 16 : 6 * 16]
    with torch.no_grad():
        a = encoder(image).view(rows, cols, -1)
        b = encoder(changed).view(rows, cols, -1)
    moved = (a - b).abs().amax(dim=(0, 2))
    assert moved[5] > 1e-3
    assert moved[:3].max() < 1e-6 and moved[8:].max() < 1e-6


def test_cnn_weights_are_checked_against_the_config():
    cfg = replace(config_for("cnn", TINY), encoder_sha256="0" * 64)
    with pytest.raises(ModelError, match="differ"):
        build_encoder(cfg)


def test_unknown_kind_is_refused():
    with pytest.raises(ModelError, match="unknown encoder kind"):
        config_for("resnet")
    with pytest.raises(ModelError, match="unknown encoder kind"):
        ClefModel.build(replace(TINY, encoder_kind="resnet"))


def test_the_vit_cut_gives_the_tokens_timms_model_gives():
    """model/encoder.py writes ViT-Ti's layers itself (timm costs 2-3 s of every start):
    the same parameter names, and the same tokens, bit for bit, as timm's model cut there."""
    timm = pytest.importorskip("timm")
    from timm.layers import resample_abs_pos_embed

    from clef_app.model.encoder import ViTEncoder, resample_pos_embed

    cfg = ModelConfig()  # the shipped cut: 2 blocks on the 224 x 512 image
    torch.manual_seed(0)
    ref = timm.create_model(cfg.encoder_name, pretrained=False, num_classes=0,
                            img_size=(224, 512)).eval()
    ours = ViTEncoder(cfg).eval()
    wanted = ours.state_dict()
    ours.load_state_dict({k: v for k, v in ref.state_dict().items() if k in wanted})
    assert set(wanted) <= set(ref.state_dict())
    images = torch.cat([_image(1), _image(2)])
    with torch.no_grad():
        x = ref.norm_pre(ref._pos_embed(ref.patch_embed(images)))
        expected = ref.blocks[: cfg.encoder_blocks](x)[:, 1:]
        assert torch.equal(ours(images), expected)
    pretrained = torch.randn(1, 1 + 14 * 14, 192)
    assert torch.equal(resample_pos_embed(pretrained, (14, 32)),
                       resample_abs_pos_embed(pretrained, [14, 32], [14, 14], 1))


def test_the_whisper_blocks_are_timms_blocks():
    """Same initialisation from the same seed, same output (trained whisper checkpoints load
    and give what they gave)."""
    timm = pytest.importorskip("timm")

    from clef_app.model.encoder import Block

    torch.manual_seed(3)
    ref = timm.models.vision_transformer.Block(192, 3, mlp_ratio=4.0, qkv_bias=True).eval()
    torch.manual_seed(3)
    ours = Block(192, 3).eval()
    theirs = ref.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in ours.state_dict().items())
    x = torch.randn(2, 128, 192)
    with torch.no_grad():
        assert torch.equal(ours(x), ref(x))
