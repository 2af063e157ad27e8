"""The one safe writer (clef_app/atomic.py) and everything routed through it: a failure
leaves the old file whole and nothing behind, a planted symlink is never written through,
permissions are kept, and a full disk (RLIMIT_FSIZE in a subprocess) is a one-line error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clef_app.atomic import (
    LineLog,
    WriteError,
    atomic_write_bytes,
    atomic_writer,
    check_output,
    whole_lines,
)
from clef_app.cli import main
from clef_app.notation.events import NoteEvent, read_notes_tsv, write_notes_tsv
from clef_app.project import Project, load_project, save_project

ROOT = Path(__file__).resolve().parents[1]
DEMO_NOTES = ROOT / "resources" / "demo" / "demo.notes.tsv"
NOTES = [NoteEvent(0.5 * i, 0.5 * i + 0.4, 60 + i % 12) for i in range(40)]


def leftovers(folder: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path, "a.bin") == []


def test_an_exception_in_the_block_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as stream:
        stream.write(b"half of the new")
        raise RuntimeError("disk gone")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path, "a.bin") == []


def test_a_folder_in_the_way_is_an_error_before_anything_is_written(tmp_path):
    (tmp_path / "out.tsv").mkdir()
    with pytest.raises(WriteError, match="is a folder"):
        write_notes_tsv(NOTES, tmp_path / "out.tsv")
    with pytest.raises(WriteError, match="is a folder"):
        check_output(tmp_path / "out.tsv")
    assert leftovers(tmp_path, "out.tsv") == []


def test_check_output_refuses_missing_folders_and_wrong_suffixes(tmp_path):
    with pytest.raises(WriteError, match="does not exist"):
        check_output(tmp_path / "nowhere" / "x.tsv")
    with pytest.raises(WriteError, match="use one of"):
        check_output(tmp_path / "x.docx", (".png",))
    assert check_output(tmp_path / "x.PNG", (".png",)) == tmp_path / "x.PNG"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_check_output_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="no permission"):
            check_output(folder / "x.tsv")
    finally:
        folder.chmod(0o700)


def test_a_planted_symlink_at_the_old_temporary_name_is_never_followed(tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("keep me\n")
    out = tmp_path / "score.musicxml"
    (tmp_path / "score.musicxml.part").symlink_to(victim)
    assert main(["export", str(DEMO_NOTES), "-o", str(out)]) == 0
    assert victim.read_text() == "keep me\n"
    assert out.is_file() and not out.is_symlink()
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_a_symlinked_target_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "notes.tsv"
    link.symlink_to(victim)
    write_notes_tsv(NOTES, link)
    assert victim.read_text() == "keep me\n"
    assert not link.is_symlink() and len(read_notes_tsv(link)) == len(NOTES)


def test_temporaries_are_created_exclusively_and_privately(tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        if str(path).endswith(".tmp"):
            opened.append((flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert len(opened) == 1
    flags, mode = opened[0]
    assert flags & os.O_EXCL and flags & os.O_CREAT and flags & os.O_NOFOLLOW
    assert mode == 0o600


@pytest.mark.parametrize("kind", ["tsv", "musicxml", "clef", "bin"])
def test_a_private_file_stays_private(tmp_path, kind):
    target = tmp_path / f"out.{kind}"
    target.write_bytes(b"old")
    target.chmod(0o600)
    if kind == "tsv":
        write_notes_tsv(NOTES, target)
    elif kind == "musicxml":
        assert main(["export", str(DEMO_NOTES), "-o", str(target)]) == 0
    elif kind == "clef":
        save_project(Project(notes=NOTES), target)
        assert len(load_project(target).notes) == len(NOTES)
    else:
        atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() != b"old"


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640


def with_small_disk(limit: int, setup: str, write: str) -> subprocess.CompletedProcess:
    """Run `setup`, then `write` with at most `limit` bytes allowed in any one file (a full
    disk as far as the writer can tell: write() fails with EFBIG), in a subprocess; a
    ClefError is printed on stderr as one line with exit status 2."""
    code = "\n".join([
        "import resource, sys", "from clef_app.errors import ClefError", setup,
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))",
        "try:", f"    sys.exit({write})",
        "except ClefError as exc:", "    print(exc, file=sys.stderr)", "    sys.exit(2)"])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


MANY = "notes = [NoteEvent(0.01 * i, 0.01 * i + 0.5, 40 + i % 40) for i in range(20000)]"


@pytest.mark.parametrize("kind", ["export", "tsv", "project"])
def test_a_full_disk_leaves_the_old_file_whole_and_no_temporary(tmp_path, kind):
    name = {"export": "score.musicxml", "tsv": "take.tsv", "project": "work.clef"}[kind]
    target = tmp_path / name
    if kind == "project":
        save_project(Project(notes=NOTES[:3]), target)
    else:
        write_notes_tsv(NOTES, target)
    before = target.read_bytes()
    setup, write = {
        "export": ("from clef_app.cli import main",
                   f"main(['export', {str(DEMO_NOTES)!r}, '-o', {str(target)!r}])"),
        "tsv": (f"from clef_app.notation.events import NoteEvent, write_notes_tsv\n{MANY}",
                f"write_notes_tsv(notes, {str(target)!r})"),
        "project": ("from clef_app.notation.events import NoteEvent\n"
                    f"from clef_app.project import Project, save_project\n{MANY}",
                    f"save_project(Project(notes=notes), {str(target)!r})"),
    }[kind]
    done = with_small_disk(len(before) + 100, setup, write)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and name in lines[0], lines
    assert "File too large" in lines[0]
    assert target.read_bytes() == before
    assert leftovers(tmp_path, name) == []


def test_export_to_a_folder_fails_before_the_score_is_built(tmp_path, capsys):
    (tmp_path / "out.pdf").mkdir()
    assert main(["export", str(DEMO_NOTES), "-o", str(tmp_path / "out.pdf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a folder" in err[0]
    assert leftovers(tmp_path, "out.pdf") == []


def test_a_line_log_is_whole_on_disk_after_every_line_and_keeps_the_old_ones(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n{"step": 2, "lo')  # an old in-place append, cut short
    log = LineLog(path, whole_lines(path))
    for step in (3, 4):
        log.append(f'{{"step": {step}}}')
        assert path.read_text().endswith(f'{{"step": {step}}}\n')  # on disk at once
    assert path.read_text().splitlines() == ['{"step": 1}', '{"step": 3}', '{"step": 4}']
    assert leftovers(tmp_path, "log.jsonl") == []


def test_a_line_log_waits_its_interval_and_writes_the_rest_when_closed(tmp_path):
    path = tmp_path / "manifest.jsonl"
    with LineLog(path, every_s=3600) as log:
        log.append("a")
        log.append("b")
        assert not path.exists()  # within the interval: nothing written yet
    assert path.read_text() == "a\nb\n"


def test_a_line_log_replaces_a_planted_symlink_and_never_writes_through_it(tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("keep me\n")
    path = tmp_path / "log.jsonl"
    path.symlink_to(victim)
    LineLog(path).append("line")
    assert victim.read_text() == "keep me\n"
    assert not path.is_symlink() and path.read_text() == "line\n"


def test_a_line_log_on_a_full_disk_keeps_its_file_whole(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("first\n")
    done = with_small_disk(
        100, "from clef_app.atomic import LineLog, whole_lines",
        f"LineLog({str(path)!r}, whole_lines({str(path)!r})).append('x' * 1000)")
    assert done.returncode == 2 and "log.jsonl" in done.stderr, done.stderr
    assert path.read_text() == "first\n"
    assert leftovers(tmp_path, "log.jsonl") == []


def test_a_line_log_never_reads_through_a_symlink_at_its_name(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("private line\n")
    (tmp_path / "log.jsonl").symlink_to(secret)
    assert whole_lines(tmp_path / "log.jsonl") == []  # not copied into the log
    assert whole_lines(tmp_path / "missing.jsonl") == []
