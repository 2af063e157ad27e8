"""Render -> cache -> train -> checkpoint -> evaluate, on seconds of real FluidSynth audio."""

import json

import numpy as np
import soundfile as sf

from clef_app.audio.synth import render_notes
from clef_app.cli import main
from clef_app.model.checkpoint import load_checkpoint
from clef_app.notation.events import NoteEvent, write_notes_tsv


def _clip(folder, name, seed):
    rng = np.random.default_rng(seed)
    notes = [NoteEvent(t, t + 0.4, int(rng.integers(48, 80)), 90) for t in np.arange(0.1, 2.4, 0.5)]
    sf.write(folder / f"{name}.flac", render_notes(notes), 16000, subtype="PCM_16")
    write_notes_tsv(notes, folder / f"{name}.notes.tsv")
    return {"id": name, "split": folder.name, "source": "procedural", "piece": name,
            "soundfont": "test", "program": 0, "seconds": 2.5, "augment": {}}


def test_cache_train_resume_eval(tmp_path, capsys):
    data = tmp_path / "data"
    clips = []
    for split, n in (("train", 2), ("val", 1)):
        (data / "clips" / split).mkdir(parents=True)
        clips += [_clip(data / "clips" / split, f"{split}{i}", i) for i in range(n)]
    (data / "manifest.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clips))
    assert main(["cache", "--data", str(data), "--splits", "train", "val"]) == 0
    meta = json.loads((data / "cache" / "train" / "meta.json").read_text())
    assert meta["segments"] == 2 and meta["tokens_per_segment"] == 448
    run = tmp_path / "run"
    common = ["--cache", str(data / "cache"), "--out", str(run), "--batch", "2",
              "--eval-every", "2", "--val-batches", "1", "--warmup", "1"]
    assert main(["train", *common, "--steps", "2"]) == 0
    first = json.loads((run / "last.json").read_text())
    assert first["step"] == 2 and "val" in first["val_loss"]
    assert main(["train", *common, "--steps", "4", "--resume", str(run / "last.safetensors")]) == 0
    assert json.loads((run / "last.json").read_text())["step"] == 4
    model = load_checkpoint(run / "best.safetensors")
    assert model.cfg.encoder_sha256 == meta["encoder_sha256"]
    capsys.readouterr()
    val = str(data / "clips" / "val")
    assert main(["eval", val, "--model", str(run / "last.safetensors")]) == 0
    assert "| Clef | 1 |" in capsys.readouterr().out
    last = run / "last.safetensors"
    assert main(["eval", val, "--model", str(last), "--tune-confidence"]) == 0
    assert "min_confidence" in json.loads(last.with_suffix(".json").read_text())
