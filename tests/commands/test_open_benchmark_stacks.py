"""`clef open-benchmark --stacks FILE` writes its stacks through the safe writer (issue 16):
faulthandler dumps into an anonymous temporary file, copied to FILE when the run ends, so a
symlink planted at FILE is replaced, never written through; a FILE that cannot be written is
refused before the benchmark starts."""

from __future__ import annotations

import argparse
import time

import pytest

from clef_app.atomic import WriteError
from clef_app.commands import open_benchmark


def test_the_stacks_of_a_stall_reach_the_file_and_never_a_planted_symlink(qapp, tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("keep me\n")
    stacks = tmp_path / "stacks.txt"
    stacks.symlink_to(victim)
    beat = open_benchmark._Heartbeat(stacks)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # ticks: the watchdog is armed
        qapp.processEvents()
        time.sleep(0.005)
    time.sleep(0.5)  # the GUI thread stalls: the watchdog dumps every thread's stack
    beat.stop()
    assert victim.read_text() == "keep me\n"
    assert not stacks.is_symlink()
    assert "most recent call first" in stacks.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bashrc", "stacks.txt"]


def test_an_unwritable_stacks_file_is_refused_before_the_benchmark(tmp_path):
    audio = tmp_path / "take.wav"
    audio.write_bytes(b"RIFF")  # never opened: the output is checked first
    args = argparse.Namespace(audio=audio, json=None, stacks=tmp_path / "no" / "s.txt",
                              first_screen=True, transcribe=False)
    with pytest.raises(WriteError, match="does not exist"):
        open_benchmark.run(args)
