"""Render -> cache -> train -> checkpoint -> evaluate, on seconds of real FluidSynth audio."""

import json

from clef_app.cli import main
from clef_app.model.checkpoint import load_checkpoint
from clef_app.training.tune import RESTRIKE_GAPS, ROLL_SUSTAINS
from tests.training.tiny_data import write_tiny_build


def test_cache_train_resume_eval(tmp_path, capsys):
    data = write_tiny_build(tmp_path / "data")
    assert main(["cache", "--data", str(data), "--splits", "train", "val"]) == 0
    meta = json.loads((data / "cache" / "train" / "meta.json").read_text())
    assert meta["segments"] == 2 and meta["tokens_per_segment"] == 448
    run = tmp_path / "run"
    run.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (run / "log.jsonl").symlink_to(victim)  # planted: the log never writes through it
    common = ["--cache", str(data / "cache"), "--out", str(run), "--batch", "2",
              "--eval-every", "2", "--val-batches", "1", "--warmup", "1"]
    assert main(["train", *common, "--steps", "2"]) == 0
    first = json.loads((run / "last.json").read_text())
    assert first["step"] == 2 and "val" in first["val_loss"]
    # resumed with bfloat16 products (CPU autocast): the same checkpoint format
    assert main(["train", *common, "--steps", "4", "--bf16",
                 "--resume", str(run / "last.safetensors")]) == 0
    assert json.loads((run / "last.json").read_text())["step"] == 4
    assert victim.read_text() == "keep me\n" and not (run / "log.jsonl").is_symlink()
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log if "val" in row] == [2, 4]  # the resume kept run 1's
    model = load_checkpoint(run / "best.safetensors")
    assert model.cfg.encoder_sha256 == meta["encoder_sha256"]
    capsys.readouterr()
    val = str(data / "clips" / "val")
    assert main(["eval", val, "--model", str(run / "last.safetensors")]) == 0
    assert "| Clef | 1 |" in capsys.readouterr().out
    last = run / "last.safetensors"
    assert main(["eval", val, "--model", str(last), "--tune-confidence"]) == 0
    tuned = json.loads(last.with_suffix(".json").read_text())
    assert "min_confidence" in tuned and tuned["passes"]["count"] in (1, 2)
    assert tuned["roll_sustain"] in ROLL_SUSTAINS  # how long a held note lasts, also tuned
    assert tuned["restrike_gap"] in RESTRIKE_GAPS  # and when one key's notes are one
