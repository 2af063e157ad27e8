"""Bad input on the command line: each case is one line on stderr naming the problem, a
non-zero exit, and no output file."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.cli import main
from clef_app.config import ModelConfig

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=64, dropout=0.0)


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines


def assert_one_line(code: int, lines: list[str], command: str, *needles: str,
                    foreseen: bool = True) -> None:
    """One line, non-zero exit; `foreseen`: a checked case ("error:"), not the CLI's net for
    unexpected exceptions ("internal error:")."""
    assert code != 0
    assert len(lines) == 1, lines
    prefix = f"clef {command}: error: " if foreseen else f"clef {command}: "
    assert lines[0].startswith(prefix), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def good_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "good.wav"
    sf.write(path, (0.3 * np.sin(np.arange(16000) * 0.2)).astype(np.float32), 16000)
    return path


# -- transcribe: bad recordings ------------------------------------------------------------

def _audio_cases(folder: Path) -> dict[str, str]:
    """file name -> text the error line must hold."""
    (folder / "empty.wav").write_bytes(b"")
    (folder / "noise.wav").write_bytes(np.random.default_rng(0).bytes(3000))
    (folder / "list.mp3").write_text("eggs\nmilk\n")
    (folder / "tune.wav").write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0")
    sf.write(folder / "nan.wav", np.full(500, np.nan, np.float32), 8000, subtype="FLOAT")
    sf.write(folder / "none.wav", np.zeros((0, 2), np.float32), 8000)
    (folder / "folder.wav").mkdir()
    return {"empty.wav": "empty", "noise.wav": "not a readable audio file",
            "list.mp3": "not a readable audio file", "tune.wav": "MIDI file",
            "nan.wav": "NaN", "none.wav": "no audio", "folder.wav": "no recordings in this folder",
            "missing.flac": "no such file"}


def test_transcribe_bad_recordings(tmp_path, capsys):
    for name, needle in _audio_cases(tmp_path).items():
        out = tmp_path / f"{name}.musicxml"
        code, lines = run_cli(capsys, "transcribe", str(tmp_path / name), "-o", str(out))
        assert_one_line(code, lines, "transcribe", name, needle)
        assert not out.exists()


def test_transcribe_unknown_output_format(good_wav, tmp_path, capsys):
    code, lines = run_cli(capsys, "transcribe", str(good_wav), "-o", str(tmp_path / "x.docx"))
    assert_one_line(code, lines, "transcribe", "x.docx")


# -- transcribe: bad model files -------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    import torch

    from clef_app.model.checkpoint import save_checkpoint
    from clef_app.model.clef_model import ClefModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_checkpoint(ClefModel.build(TINY).eval(), path)
    return path


def _model_copy(src: Path, folder: Path, name: str, data: bytes | None = None,
                config: dict | None = None) -> Path:
    path = folder / f"{name}.safetensors"
    path.write_bytes(src.read_bytes() if data is None else data)
    meta = json.loads(src.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(config if config is not None else meta))
    return path


class Trap:
    """Unpickling this creates a file: proof that something executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_transcribe_refuses_bad_models_without_executing_them(tiny_checkpoint, good_wav,
                                                               tmp_path, capsys):
    import torch

    marker = tmp_path / "executed"
    src = tiny_checkpoint
    meta = json.loads(src.with_suffix(".json").read_text())
    full = src.read_bytes()
    torch_pickle = tmp_path / "torch.pt"
    torch.save({"trap": Trap(marker)}, torch_pickle)
    wrong_shape = dict(meta, config=dict(meta["config"], d_model=32, n_heads=2))
    other_sha = dict(meta, config=dict(meta["config"], encoder_sha256="0" * 64))
    cases = {
        "pickle": (pickle.dumps(Trap(marker)), None, "pickle"),
        "torch_save": (torch_pickle.read_bytes(), None, "pickle"),
        "truncated": (full[: len(full) // 2], None, "truncated"),
        "header_only": (full[:8], None, "truncated"),
        "empty": (b"", None, "truncated"),
        "wrong_shapes": (None, wrong_shape, "does not match"),
        "wrong_sha256": (None, other_sha, "differ"),
        "config_garbage": (None, dict(meta, config={"no_such_field": 1}),
                           "not a valid Clef model config"),
        "config_not_json": (None, None, "not a valid Clef model config"),
        # not checked by the loader yet: caught by the CLI's net, still one line
        "config_bad_value": (None, dict(meta, config=dict(meta["config"], d_model="x")),
                             "not a valid Clef model config"),
    }
    for name, (data, config, needle) in cases.items():
        model = _model_copy(src, tmp_path, name, data, config)
        if name == "config_not_json":
            model.with_suffix(".json").write_text("{'format': pickle}")
        out = tmp_path / f"{name}.musicxml"
        code, lines = run_cli(capsys, "transcribe", str(good_wav), "-o", str(out),
                              "--model", str(model))
        assert_one_line(code, lines, "transcribe", needle, foreseen=True)
        assert not out.exists()
    code, lines = run_cli(capsys, "transcribe", str(good_wav), "-o", str(tmp_path / "x.mid"),
                          "--model", str(tmp_path / "nowhere.safetensors"))
    assert_one_line(code, lines, "transcribe", "no such model")
    assert not marker.exists()


# -- export: bad notes files ------------------------------------------------------------------

def _notes_cases(folder: Path) -> dict[str, str]:
    (folder / "words.tsv").write_text("onset\toffset\tpitch\nsoon\tlater\tC4\n")
    (folder / "short.tsv").write_text("0.5\n")
    (folder / "binary.tsv").write_bytes(bytes(range(256)) * 4)
    (folder / "nanpitch.tsv").write_text("0\t1\tnan\n")
    (folder / "high.tsv").write_text("0\t1\t300\n")
    (folder / "blank.tsv").write_text("")
    (folder / "empty.mid").write_bytes(b"")
    (folder / "cut.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00")
    (folder / "noise.mid").write_bytes(np.random.default_rng(2).bytes(999))
    (folder / "far.tsv").write_text("1e9\t1000000001\t60\n0\t1\t62\n")
    return {"words.tsv": "words.tsv", "short.tsv": "short.tsv", "binary.tsv": "binary.tsv",
            "nanpitch.tsv": "nanpitch.tsv", "high.tsv": "high.tsv", "blank.tsv": "no notes",
            "empty.mid": "empty.mid", "cut.mid": "cut.mid", "noise.mid": "noise.mid",
            "far.tsv": "far.tsv", "missing.tsv": "no such file", "take.wav": "use .mid or .tsv"}


def test_export_bad_notes_files(tmp_path, capsys):
    for name, needle in _notes_cases(tmp_path).items():
        out = tmp_path / f"{name}.musicxml"
        code, lines = run_cli(capsys, "export", str(tmp_path / name), "-o", str(out))
        assert code != 0 and len(lines) == 1, (name, lines)
        assert lines[0].startswith("clef export: "), lines[0]
        assert needle in lines[0], (name, lines[0])
        assert not out.exists(), name


def test_export_into_a_missing_folder(tmp_path, capsys):
    notes = tmp_path / "ok.tsv"
    notes.write_text("0\t1\t60\n1\t2\t62\n")
    code, lines = run_cli(capsys, "export", str(notes), "-o", str(tmp_path / "no" / "x.musicxml"))
    assert_one_line(code, lines, "export", "x.musicxml")


def test_installed_entry_point_gives_one_line(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    clef = Path(sys.executable).parent / "clef"
    done = subprocess.run([str(clef), "transcribe", str(tmp_path / "bad.wav"), "-o",
                           str(tmp_path / "x.musicxml")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "bad.wav: not a readable audio file" in done.stderr

