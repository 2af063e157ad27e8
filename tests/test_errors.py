"""One error base (ClefError) under every error the user sees, and how the CLI shows one:
a single line naming the file, control characters escaped, exit 2, checked before the work."""

from __future__ import annotations

import ast
import importlib
import time
from pathlib import Path

import pytest

from clef_app.cli import main
from clef_app.errors import ClefError, one_line

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"
NOT_ERRORS = {"Cancelled", "_FileFailed"}  # control flow inside one module, never shown


def error_classes() -> list[tuple[str, str]]:
    """(module, class name) of every exception class Clef defines."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name not in NOT_ERRORS and (
                    node.name.endswith(("Error", "Unavailable"))):
                found.append((module, node.name))
    return found


@pytest.mark.parametrize(("module", "name"), error_classes())
def test_every_error_class_is_a_clef_error(module, name):
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, ClefError), f"{module}.{name} does not derive from ClefError"


def test_the_scan_finds_the_layers_errors():
    names = {n for _, n in error_classes()}
    assert {"AudioError", "ModelError", "ProjectError", "NotesError", "WriteError",
            "CommandError", "ExportError"} <= names


def test_one_line_escapes_control_characters():
    assert one_line("take\n2.flac: bad\x1b[31m") == "take\\n2.flac: bad\\x1b[31m"
    assert "\n" not in one_line("a\r\nb\u2028c") and len(one_line("x" * 1000)) <= 400


def cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_newline_in_a_file_name_stays_one_line(tmp_path, capsys):
    bad = tmp_path / "take\nrm -rf.tsv"
    bad.write_text("not\ta table\n")
    code, lines = cli(capsys, "export", str(bad), "-o", str(tmp_path / "x.musicxml"))
    assert code == 2 and len(lines) == 1, lines
    assert "take\\nrm -rf.tsv" in lines[0]


def test_eval_json_into_a_missing_folder_fails_before_the_evaluation(tmp_path, capsys):
    started = time.perf_counter()
    code, lines = cli(capsys, "eval", str(tmp_path), "--json",
                      str(tmp_path / "missing" / "scores.json"))
    assert code == 2 and len(lines) == 1
    assert "missing" in lines[0] and "does not exist" in lines[0], lines
    assert time.perf_counter() - started < 10


def test_eval_names_a_malformed_ground_truth_file(tmp_path, capsys):
    import soundfile as sf

    sf.write(tmp_path / "take.wav", [0.0] * 16_000, 16_000)
    (tmp_path / "take.notes.tsv").write_text("x\ty\tz\n")
    code, lines = cli(capsys, "eval", str(tmp_path))
    assert code == 2 and len(lines) == 1 and "take.notes.tsv" in lines[0], lines


def test_why_refuses_a_wrong_output_before_loading_the_model(tmp_path, capsys, monkeypatch):
    import clef_app.model.checkpoint as checkpoint

    monkeypatch.setattr(checkpoint, "load_checkpoint", lambda *a, **k: pytest.fail("loaded"))
    code, lines = cli(capsys, "why", str(tmp_path / "a.wav"), "--time", "1", "--pitch", "60",
                      "-o", str(tmp_path / "why.docx"))
    assert code == 2 and len(lines) == 1 and "why.docx" in lines[0] and ".png" in lines[0]


def test_why_names_a_pitch_outside_the_piano(tmp_path, capsys):
    code, lines = cli(capsys, "why", str(tmp_path / "a.wav"), "--time", "1", "--pitch", "500",
                      "-o", str(tmp_path / "why.png"))
    assert code == 2 and len(lines) == 1 and "--pitch 500" in lines[0]


@pytest.mark.parametrize(("option", "value"), [("--tempo", "0"), ("--tempo", "1000"),
                                               ("--meter", "100000/1"), ("--meter", "3/5"),
                                               ("--split", "500"), ("--grid", "1/7")])
def test_export_names_the_bad_option(tmp_path, capsys, option, value):
    notes = tmp_path / "n.tsv"
    notes.write_text("0\t1\t60\n")
    code, lines = cli(capsys, "export", str(notes), "-o", str(tmp_path / "x.musicxml"),
                      option, value)
    assert code == 2 and len(lines) == 1 and f"{option} {value}" in lines[0], lines
    assert not (tmp_path / "x.musicxml").exists()


@pytest.mark.parametrize("argv", [["train", "--cache", "{data}"], ["cache", "--data", "{data}"],
                                  ["ablate", "--data", "{data}"], ["build-data"]])
def test_an_output_folder_that_cannot_be_made_is_refused_before_the_work(tmp_path, capsys,
                                                                        argv):
    blocker = tmp_path / "a file"
    blocker.write_text("in the way\n")
    out = blocker / "run"
    started = time.perf_counter()
    code, lines = cli(capsys, *[a.format(data=tmp_path) for a in argv], "--out", str(out))
    assert code == 2 and len(lines) == 1, lines
    assert "cannot write in" in lines[0] and "a file/run" in lines[0], lines
    assert time.perf_counter() - started < 10  # before a model, a cache or a render
