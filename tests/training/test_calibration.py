"""`clef eval --calibrate`: how often notes of each confidence are right, stored for the app."""

import json
import shutil
from pathlib import Path

from clef_app.cli import main
from clef_app.notation.confidence import read_bands
from clef_app.notation.events import NoteEvent
from clef_app.training.evaluate import calibration

ROOT = Path(__file__).resolve().parents[2]


def test_calibration_is_the_share_of_right_notes_per_confidence_bin():
    ref = [NoteEvent(float(i), i + 0.5, 60) for i in range(20)]
    right = [NoteEvent(float(i), i + 0.5, 60, confidence=0.9) for i in range(10)]
    wrong = [NoteEvent(float(i), i + 0.5, 70, confidence=0.1) for i in range(10)]
    cal = calibration([(ref, right + wrong)], bins=2)
    assert cal == {"confidence": [0.1, 0.9], "precision": [0.0, 1.0]}


def test_calibrate_stores_bands_the_app_reads(tmp_path, capsys):
    for suffix in (".safetensors", ".json"):
        shutil.copy(ROOT / "models" / f"clef{suffix}", tmp_path / f"clef{suffix}")
    model = tmp_path / "clef.safetensors"
    demo = ROOT / "resources" / "demo" / "demo.flac"
    assert main(["eval", str(demo), "--model", str(model), "--device", "cpu",
                 "--calibrate"]) == 0
    cal = json.loads((tmp_path / "clef.json").read_text())["calibration"]
    assert len(cal["confidence"]) >= 2 and cal["measured_on"] == "demo"
    assert all(b > a for a, b in zip(cal["confidence"][:-1], cal["confidence"][1:], strict=True))
    bands = read_bands(model)
    assert bands.doubtful_below <= bands.confident_from
    assert "doubtful below" in capsys.readouterr().out


def test_tuning_or_calibrating_a_bad_checkpoint_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "clef.safetensors"
    bad.write_bytes(b"not a checkpoint")
    (tmp_path / "clef.json").write_text("{}")
    demo = ROOT / "resources" / "demo" / "demo.flac"
    for option in ("--calibrate", "--tune-confidence"):
        assert main(["eval", str(demo), "--model", str(bad), "--device", "cpu", option]) == 2
        assert "not a valid Clef model config" in capsys.readouterr().err
    assert (tmp_path / "clef.json").read_text() == "{}"  # nothing written
