"""Autosave: written when due, atomic, found after a real `kill -9`, gone after a clean end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from clef_app.notation.events import NoteEvent
from clef_app.project import EmbeddedAudio, Project
from clef_app.project.autosave import Autosaver, find_recoveries


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_writes_only_when_changed_and_due(tmp_path):
    clock = FakeClock()
    saver = Autosaver(tmp_path, interval_s=30, clock=clock)
    calls = []
    clock.now += 30  # nothing is written in a session's first interval

    def snapshot():
        calls.append(1)
        return Project(notes=[NoteEvent(0, 1, 60)])

    assert saver.maybe_save(snapshot, generation=1)
    assert not saver.maybe_save(snapshot, generation=2)  # changed, but within the interval
    clock.now += 30
    assert not saver.maybe_save(snapshot, generation=1)  # back to the saved state
    assert saver.maybe_save(snapshot, generation=3)
    clock.now += 60
    assert not saver.maybe_save(snapshot, generation=3)  # due, but nothing changed
    assert len(calls) == 2
    assert saver.path.exists()


def test_live_session_is_not_offered_and_clean_close_leaves_nothing(tmp_path):
    saver = Autosaver(tmp_path, interval_s=0)
    saver.save(Project(notes=[NoteEvent(0, 1, 60)]))
    assert find_recoveries(tmp_path) == []  # its owner (this process) still holds the lock
    saver.close()
    assert find_recoveries(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_user_save_clears_the_recovery(tmp_path):
    saver = Autosaver(tmp_path, interval_s=0)
    saver.save(Project(notes=[NoteEvent(0, 1, 60)]))
    saver.mark_saved(generation=5)
    assert not saver.path.exists()
    assert not saver.due(5) and saver.due(6)


def test_embedded_audio_is_written_once_and_comes_back(tmp_path):
    saver = Autosaver(tmp_path, interval_s=0)
    samples = np.linspace(-0.5, 0.5, 8000, dtype=np.float32)
    project = Project(notes=[NoteEvent(0, 1, 60)], audio=EmbeddedAudio(samples, 8000))
    saver.save(project)
    first = saver.audio_path.stat().st_mtime_ns
    time.sleep(0.01)
    saver.save(project)
    assert saver.audio_path.stat().st_mtime_ns == first
    assert saver.path.stat().st_size < 4096  # the recovery file itself holds no audio
    os.close(saver._lock)  # as if the process died: the lock goes with it
    saver._lock = None
    (recovery,) = find_recoveries(tmp_path)
    back = recovery.load()
    assert isinstance(back.audio, EmbeddedAudio) and back.audio.sample_rate == 8000
    np.testing.assert_allclose(back.audio.samples, samples, atol=2**-22)
    recovery.discard()
    assert list(tmp_path.iterdir()) == []


WRITER = textwrap.dedent("""
    import sys, time
    from clef_app.notation.events import NoteEvent
    from clef_app.project import Project
    from clef_app.project.autosave import Autosaver

    saver = Autosaver(sys.argv[1], interval_s=float(sys.argv[2]))
    notes = []
    while True:
        notes.append(NoteEvent(len(notes) * 0.1, len(notes) * 0.1 + 0.05, 60))
        saver.maybe_save(lambda: Project(notes=list(notes)), generation=len(notes))
        print(len(notes), flush=True)
        time.sleep(0.02)
""")


def test_kill_9_loses_at_most_one_interval(tmp_path):
    interval = 0.5  # s
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(interval)],
                             stdout=subprocess.PIPE, text=True)
    try:
        count, start = 0, time.monotonic()
        while count < 150 and time.monotonic() - start < 60:  # about 3 s of editing
            count = int(child.stdout.readline())
        assert find_recoveries(tmp_path) == []  # alive: its recovery file is not offered
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        count = max([count, *(int(line) for line in child.stdout.read().split())])
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    (recovery,) = find_recoveries(tmp_path)
    recovered = len(recovery.load().notes)
    edits_per_interval = interval / 0.02
    assert count - edits_per_interval - 3 <= recovered <= count


def test_idle_session_leaves_no_files(tmp_path):
    saver = Autosaver(tmp_path, interval_s=30)
    assert not saver.maybe_save(lambda: Project(), generation=1)  # first interval: no write
    assert list(tmp_path.iterdir()) == []


def test_stale_lock_without_recovery_is_tidied(tmp_path):
    (tmp_path / "old-session.lock").write_text("")
    assert find_recoveries(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_damaged_recovery_file_is_offered_and_fails_cleanly(tmp_path):
    from clef_app.project import ProjectError

    (tmp_path / "dead.clef-recovery").write_bytes(b"PK\x03\x04 half a file")
    (recovery,) = find_recoveries(tmp_path)
    with pytest.raises(ProjectError, match="dead.clef-recovery"):
        recovery.load()
    recovery.discard()
    assert list(tmp_path.iterdir()) == []
