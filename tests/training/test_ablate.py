"""`clef ablate` end to end on seconds of real FluidSynth audio and a budget of 2 steps."""

import json

from clef_app.cli import main
from clef_app.model.checkpoint import read_config
from tests.training.tiny_data import write_tiny_build


def test_ablate_trains_and_scores_every_encoder(tmp_path, capsys):
    data = write_tiny_build(tmp_path / "data")
    out = tmp_path / "ablate"
    argv = ["ablate", "--data", str(data), "--out", str(out), "--samples", "4", "--batch", "2",
            "--val-batches", "1", "--real", str(data / "clips" / "val"), "--max-seconds", "2"]
    assert main(argv) == 0
    report = json.loads((out / "ablation.json").read_text())
    assert list(report["results"]) == ["vit", "vit-scratch", "whisper", "cnn"]
    for kind, r in report["results"].items():
        cfg, meta = read_config(out / "runs" / kind / "best.safetensors")
        assert cfg.encoder_kind == kind and meta["step"] == 2
        assert r["training"]["samples"] == 4 and r["training"]["cpu_minutes"] > 0
        assert r["encoder"]["encoder_trained"] == (kind in ("vit-scratch", "whisper"))
        for name in ("synthetic", "real"):
            s = r["scores"][name]
            assert s["files"] == 1 and s["seconds"] == 2.0 and s["rtf"] > 0
            assert 0 <= s["onset_f1"] <= 1 and "f1_poly_2-3" in s and "chord_acc" in s
    held = {kind: json.loads((out / "caches" / kind / "train" / "meta.json").read_text())
            for kind in ("mels", "cnn")}
    assert held["mels"]["store"] == "mels" and held["mels"]["tokens_per_segment"] == 128
    assert held["cnn"]["config"]["encoder_kind"] == "cnn"
    table = (out / "ablation.md").read_text()
    assert table.count("| whisper |") == 3 and "Budget per encoder: 4 samples" in table
    capsys.readouterr()
    assert main(argv) == 0  # finished kinds are read back, not trained again
    assert "vit done before" in capsys.readouterr().out
