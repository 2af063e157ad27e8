"""`clef eval --calibrate`: how often notes of each confidence are right, stored for the app."""

import json
import shutil
from pathlib import Path

from clef_app.cli import main
from clef_app.model.pipeline import Pipeline
from clef_app.notation.confidence import read_bands
from clef_app.notation.events import NoteEvent
from clef_app.training.evaluate import calibration, equally_right

ROOT = Path(__file__).resolve().parents[2]


def test_calibration_is_the_share_of_right_notes_per_confidence_bin():
    ref = [NoteEvent(float(i), i + 0.5, 60) for i in range(20)]
    right = [NoteEvent(float(i), i + 0.5, 60, confidence=0.9) for i in range(10)]
    wrong = [NoteEvent(float(i), i + 0.5, 70, confidence=0.1) for i in range(10)]
    cal = calibration([(ref, right + wrong)], bins=2)
    assert cal == {"confidence": [0.1, 0.9], "precision": [0.0, 1.0]}


def test_equally_right_reads_the_decoder_curve_backwards():
    cal = {"confidence": [0.1, 0.2, 0.4], "precision": [0.4, 0.6, 0.9]}
    # 0.5 right: half way between 0.1 and 0.2; below the curve: scaled towards 0; above: top
    assert equally_right(cal, [0.2, 0.5, 0.95]) == [0.05, 0.15, 0.4]
    # a dip in the measured curve is levelled; the mapped confidences never go down
    dip = {"confidence": [0.1, 0.2, 0.3, 0.4], "precision": [0.4, 0.7, 0.6, 0.9]}
    assert equally_right(dip, [0.8, 0.65]) == [0.3, 0.3]


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
    out = capsys.readouterr().out
    assert "doubtful below" in out and "roll-only notes, onset peak" in out
    # roll-only notes get the decoder's scale: a stronger onset peak is never less confident
    stored = json.loads((tmp_path / "clef.json").read_text())["roll_confidence"]
    loaded = Pipeline.load(model, device="cpu").options.roll_confidence
    assert loaded == (tuple(stored["roll"]), tuple(stored["decoder"]))
    roll, decoder = loaded
    assert len(roll) >= 2 and all(b > a for a, b in zip(roll[:-1], roll[1:], strict=True))
    assert all(b >= a for a, b in zip(decoder[:-1], decoder[1:], strict=True))
    assert all(0.0 <= d <= 1.0 for d in decoder)


def test_tuning_or_calibrating_a_bad_checkpoint_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "clef.safetensors"
    bad.write_bytes(b"not a checkpoint")
    (tmp_path / "clef.json").write_text("{}")
    demo = ROOT / "resources" / "demo" / "demo.flac"
    for option in ("--calibrate", "--tune-confidence"):
        assert main(["eval", str(demo), "--model", str(bad), "--device", "cpu", option]) == 2
        assert "not a valid Clef model config" in capsys.readouterr().err
    assert (tmp_path / "clef.json").read_text() == "{}"  # nothing written
