"""Hostile model files: the config is range-checked in full, and the weights' names,
shapes, dtypes, finiteness and the encoder's sha256 are checked before anything large is
allocated; $CLEF_MODEL that cannot be used is an error naming it, never a fallback."""

from __future__ import annotations

import json
import resource
import struct
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from clef_app.config import ModelConfig
from clef_app.model import encoder as vit
from clef_app.model.checkpoint import load_checkpoint, save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.errors import ModelError
from clef_app.model.location import find_checkpoint
from clef_app.model.weights import resolve_weights

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=64, dropout=0.0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A tiny random-init checkpoint (fp32) and its JSON."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(ClefModel.build(TINY), path, half=False)
    return path


def copy_with(saved: Path, folder: Path, config: dict | None = None,
              state: dict | None = None) -> Path:
    """A copy of the tiny checkpoint with config fields and/or tensors replaced."""
    path = folder / "m.safetensors"
    meta = json.loads(saved.with_suffix(".json").read_text())
    meta["config"].update(config or {})
    path.with_suffix(".json").write_text(json.dumps(meta))
    if state is None:
        path.write_bytes(saved.read_bytes())
    else:
        from safetensors.torch import load_file

        save_file({**load_file(str(saved)), **state}, str(path), metadata={"format": "x"})
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(("fields", "needle"), [
    ({"d_model": 4096, "decoder_layers": 64, "bridge_layers": 64}, "outside"),
    ({"d_model": 1024, "decoder_layers": 16, "bridge_layers": 16, "ff_mult": 8}, "parameters"),
    ({"encoder_name": "vit_gigantic_patch14_224"}, "not one Clef builds"),
    ({"encoder_kind": "resnet"}, "not one Clef builds"),
    ({"ff_mult": 1000}, "ff_mult"),
    ({"patch": 0}, "patch"),
    ({"patch": 7}, "does not tile"),
    ({"dropout": 2.0}, "dropout"),
    ({"n_heads": 3}, "heads"),
    ({"encoder_sha256": "not a digest"}, "sha256"),
    ({"front_end": {"sample_rate": 10**9}}, "sample_rate"),
    ({"front_end": {"f_min": 9000.0}}, "f_min"),
    ({"max_tokens": "512"}, "is not int"),
    ({"surprise": 1}, "unknown fields"),
])
def test_a_bad_config_is_refused_before_anything_is_built(saved, tmp_path, fields, needle):
    if "front_end" in fields:
        meta = json.loads(saved.with_suffix(".json").read_text())
        fields = {"front_end": {**meta["config"]["front_end"], **fields["front_end"]}}
    path = copy_with(saved, tmp_path, fields)
    before, started = peak_rss_mb(), time.perf_counter()
    with pytest.raises(ModelError, match=needle):
        load_checkpoint(path)
    assert time.perf_counter() - started < 2.0
    assert peak_rss_mb() - before < 200  # MB: nothing the size of the model it describes


@pytest.mark.parametrize(("dtype", "needle"), [(torch.float64, "F64"), (torch.int32, "I32")])
def test_weights_of_the_wrong_dtype_are_refused(saved, tmp_path, dtype, needle):
    key = "bridge.proj.weight"
    from safetensors.torch import load_file

    wrong = load_file(str(saved))[key].to(dtype)
    path = copy_with(saved, tmp_path, state={key: wrong})
    with pytest.raises(ModelError, match=f"{key}.*{needle}"):
        load_checkpoint(path)


def test_weights_that_are_all_nan_are_refused(saved, tmp_path):
    from safetensors.torch import load_file

    state = {k: torch.full_like(v, float("nan")) for k, v in load_file(str(saved)).items()}
    path = copy_with(saved, tmp_path, state=state)
    with pytest.raises(ModelError, match="NaN or infinite"):
        load_checkpoint(path)


def test_a_tensor_of_the_wrong_shape_is_refused_before_the_model_is_built(saved, tmp_path,
                                                                          monkeypatch):
    path = copy_with(saved, tmp_path, state={"bridge.proj.weight": torch.zeros(3, 3)})
    monkeypatch.setattr(ClefModel, "build", lambda *a, **k: pytest.fail("built first"))
    with pytest.raises(ModelError, match="does not match"):
        load_checkpoint(path)


def test_a_header_claiming_a_huge_tensor_is_refused_unread(tmp_path, saved):
    path = copy_with(saved, tmp_path)
    header = json.dumps({"x": {"dtype": "F32", "shape": [2**20, 2**20],
                               "data_offsets": [0, 4 * 2**40]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)
    with pytest.raises(ModelError, match="does not match its size|do not fill"):
        load_checkpoint(path)


def test_the_encoder_weights_sha256_is_checked_before_the_encoder_is_built(monkeypatch):
    weights = resolve_weights()
    if weights is None:
        pytest.skip("no ImageNet ViT weights on this machine")
    monkeypatch.setattr(vit, "ViTEncoder", lambda cfg: pytest.fail("built before the check"))
    with pytest.raises(ModelError, match="differ"):
        vit.build_encoder(replace(ModelConfig(), encoder_sha256="0" * 64), weights)


def test_clef_model_naming_a_missing_file_is_an_error_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "gone.safetensors"
    monkeypatch.setenv("CLEF_MODEL", str(missing))
    assert find_checkpoint() == missing
    with pytest.raises(ModelError, match=r"gone\.safetensors.*CLEF_MODEL.*no such model file"):
        load_checkpoint()


def test_clef_transcribe_with_clef_model_naming_a_missing_file_says_so(tmp_path, monkeypatch,
                                                                       capsys):
    """Through the pipeline every command loads the model with: exit 2, one line naming
    the file and that $CLEF_MODEL named it."""
    import numpy as np
    import soundfile as sf

    from clef_app.cli import main

    take = tmp_path / "take.wav"
    sf.write(take, np.zeros(16_000, dtype=np.float32), 16_000)
    missing = tmp_path / "gone.safetensors"
    monkeypatch.setenv("CLEF_MODEL", str(missing))
    code = main(["transcribe", str(take), "-o", str(tmp_path / "notes.tsv"), "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].endswith(f"{missing} ($CLEF_MODEL): no such model file"), err
    assert not (tmp_path / "notes.tsv").exists()


def test_clef_model_without_its_json_is_an_error_naming_it(saved, tmp_path, monkeypatch):
    lone = tmp_path / "lone.safetensors"
    lone.write_bytes(saved.read_bytes())
    monkeypatch.setenv("CLEF_MODEL", str(lone))
    with pytest.raises(ModelError, match=r"lone\.safetensors.*CLEF_MODEL.*lone\.json"):
        load_checkpoint()
