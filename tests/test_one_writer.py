"""Every file Clef writes goes through the one safe writer (`clef_app/atomic.py`, issue 16):
a scan of the package for the calls that write a file some other way (open for writing,
write_text/write_bytes, os.open, renames, soundfile/numpy/torch writers, `.save(...)`)
finds only the places listed here, each with the reason it is not a bypass. A new writer
outside the safe one fails this test until it goes through `atomic` or is listed."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"
WRITE_MODES = set("wax+")
MODULE_CALLS = {"os": {"open", "replace", "rename", "link", "symlink"},
                "shutil": {"copy", "copy2", "copyfile", "move"},
                "sf": {"write"}, "soundfile": {"write"}, "torch": {"save"},
                "np": {"save", "savez", "savez_compressed"}}
METHODS = {"write_text", "write_bytes", "tofile", "symlink_to", "hardlink_to", "touch"}
FUNCTIONS = {"save_file", "mkstemp", "NamedTemporaryFile"}
SCRATCH = "scratch files in a private TemporaryDirectory, never a user's file"
BUFFER = "into an in-memory BytesIO, whose bytes the safe writer then writes"
PROJECT = "AutoSaver.save: the project writer, which is the safe writer"
KNOWN = {
    ("atomic.py", "atomic_writer"): "the safe writer itself: the rename of its temporary",
    ("atomic.py", "_create_temporary"): "the safe writer itself: O_EXCL|O_NOFOLLOW, 0600",
    ("atomic.py", "whole_lines"): "reads a log (O_RDONLY|O_NOFOLLOW), writes nothing",
    ("atomic.py", "fsync_directory"): "opens a folder read-only to fsync it",
    ("audio/live.py", "Recorder.__init__"):
        "a live take: created new (O_EXCL|O_NOFOLLOW, never over a file or through a "
        "symlink) and written in place, so a crash keeps what was recorded",
    ("atomic.py", "link_new"): "a second name for a finished file, never over another: "
                               "adapt's checkpoint (safe writer) kept under a new name",
    ("gui/recovery.py", "Autosave.save_now"): PROJECT,
    ("project/autosave.py", "Autosaver.maybe_save"): PROJECT,
    ("project/autosave.py", "_take_lock"): "the autosave's lock file (flock): no content",
    ("project/autosave.py", "Autosaver._write_audio_once"): BUFFER,
    ("project/format.py", "_encode_flac"): BUFFER,
    ("notation/midi_export.py", "_smf"): BUFFER,
    ("training/clips.py", "render_clip"): BUFFER,
    ("training/cache.py", "TargetWriter.close"): "np.save into the safe writer's own stream",
    ("notation/svg_pdf.py", "pdf_steps"): SCRATCH,
    ("notation/svg_pdf.py", "mei_steps"): SCRATCH,
    ("notation/svg_pdf.py", "convert"): SCRATCH + " (the PDF child's output)",
    ("notation/svg_pdf.py", "engrave_then_convert"): SCRATCH,
    ("notation/svg_pdf.py", "write_mei"): SCRATCH + " (the MEI child's output)",
    ("training/evaluate.py", "excerpts"): SCRATCH + " (clef eval --seconds's excerpts)",
}


def _writes(call: ast.Call) -> str | None:
    """What `call` writes with, if it is one of the file writers looked for."""
    f = call.func
    if isinstance(f, ast.Name) and f.id == "open":
        mode = call.args[1] if len(call.args) > 1 else next(
            (k.value for k in call.keywords if k.arg == "mode"), None)
        if isinstance(mode, ast.Constant) and WRITE_MODES & set(str(mode.value)):
            return f"open(..., {mode.value!r})"
        return None
    if isinstance(f, ast.Name):
        return f.id if f.id in FUNCTIONS else None
    if not isinstance(f, ast.Attribute):
        return None
    if isinstance(f.value, ast.Name) and f.attr in MODULE_CALLS.get(f.value.id, ()):
        return f"{f.value.id}.{f.attr}"
    if f.attr in METHODS or (f.attr == "save" and (call.args or call.keywords)):
        return f".{f.attr}"
    return None


def writers(path: Path) -> set[tuple[str, str]]:
    """(file, function) of every call in `path` that writes a file itself."""
    name, found = str(path.relative_to(PACKAGE)), set()

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = child.name if function == "<module>" else f"{function}.{child.name}"
            if isinstance(child, ast.Call) and _writes(child):
                found.add((name, function))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_every_write_outside_the_safe_writer_is_a_known_one():
    found = set().union(*(writers(p) for p in sorted(PACKAGE.rglob("*.py"))))
    assert not found - KNOWN.keys(), f"writes that bypass clef_app.atomic: {found - KNOWN.keys()}"
    assert not KNOWN.keys() - found, f"listed but gone (remove): {KNOWN.keys() - found}"


def test_the_scan_sees_each_kind_of_writer(tmp_path, monkeypatch):
    source = tmp_path / "clef_app" / "m.py"
    source.parent.mkdir()
    source.write_text("def a(p):\n    open(p, 'a')\n\ndef b(p):\n    p.write_bytes(b'')\n\n"
                      "def c(p):\n    open(p)\n    painter.save()\n\ndef d(x):\n"
                      "    np.save(x, 1)\n    img.save('x.png')\n")
    monkeypatch.setattr("tests.test_one_writer.PACKAGE", source.parent)
    assert writers(source) == {("m.py", "a"), ("m.py", "b"), ("m.py", "d")}
