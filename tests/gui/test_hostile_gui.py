"""Hostile files and shutdowns in the app: a damaged notes table beside a recording or a
recording cut short still opens, with a warning; closing the app while work runs ends
within 2 s and never aborts (the real `run_gui` in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


def status_text(window) -> str:
    return window.statusBar().currentMessage()


def test_a_damaged_notes_table_beside_a_recording_warns_and_the_recording_opens(
        window, tmp_path, qtbot):
    take = tmp_path / "take.wav"
    sf.write(take, (0.2 * np.sin(np.arange(16000) * 0.1)).astype(np.float32), 16000)
    (tmp_path / "take.notes.tsv").write_text("0\t1\t60\t" + "9" * 200_000 + "\n")
    with qtbot.waitSignal(window.spectrogram.spectrogramReady, timeout=20_000):
        assert window.controller.open(take)
    assert window.document.audio_path == take
    assert window.document.notes == {} or len(window.document.notes) == 0
    assert "take.notes.tsv" in status_text(window) and "not read" in status_text(window)


def test_a_recording_cut_short_opens_with_a_warning_saying_how_much(window, tmp_path, qtbot):
    rng = np.random.default_rng(1)
    whole = tmp_path / "whole.flac"
    sf.write(whole, (0.1 * rng.standard_normal(10 * 16000)).astype(np.float32), 16000)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.9)])
    with qtbot.waitSignal(window.spectrogram.spectrogramReady, timeout=20_000):
        assert window.controller.open(cut)
    assert 7.0 < window.document.duration < 10.0
    text = status_text(window)
    assert "cut.flac: damaged after" in text and "of 10.0 s" in text and "%" in text


def test_a_midi_note_at_a_million_seconds_is_refused_at_once(window, dialogs, tmp_path):
    from tests.notation.test_note_bounds import midi_file

    path = midi_file(tmp_path / "far.mid", [(0.0, 0.5, 60), (1_000_000.0, 1_000_001.0, 61)])
    before = dict(window.document.notes)
    started = time.perf_counter()
    assert not window.controller.open(path)
    assert time.perf_counter() - started < 2.0
    assert dialogs and "far.mid" in dialogs[-1][2] and "14400 s" in dialogs[-1][2]
    assert dict(window.document.notes) == before


def test_a_project_bomb_is_refused_without_decoding(window, dialogs, tmp_path):

    from tests.project.test_bombs import embedded, flac
    from tests.project.zips import write_project

    data = flac(100)
    path = write_project(tmp_path / "bomb.clef", embedded(data, 655_350, 1_000_000_000),
                         ("audio.flac", data))
    before = window.document.audio_path
    started = time.perf_counter()
    assert not window.controller.open(path)
    assert time.perf_counter() - started < 2.0
    assert dialogs and "bomb.clef" in dialogs[-1][2] and "frames" in dialogs[-1][2]
    assert window.document.audio_path == before


CLOSE_WHILE_BUSY = """
import os, sys, threading, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from clef_app.gui import preferences, workers
from clef_app.gui.app import make_application, run_gui

make_application()
preferences.put("session/demo_shown", True)
marks = {{}}

def stuck_job(cancelled):
    yield None
    time.sleep(60)  # one step that cannot be interrupted, like one long engraving
    return None

def close():
    if {stuck!r}:
        workers.GeneratorWorker(stuck_job, name="stuck").start()
    busy = [w.name for w in workers._RUNNING]
    print("running at close:", busy, flush=True)
    marks["closed"] = time.monotonic()
    print("closing at", time.time(), flush=True)
    for w in QApplication.topLevelWidgets():
        w.close()

QTimer.singleShot({delay}, close)
code = run_gui({path!r})
print("exit after", round(time.monotonic() - marks["closed"], 2), flush=True)
sys.exit(code)
"""


def run_app_and_close(tmp_path: Path, path: str | None, stuck: bool,
                      delay_ms: int) -> subprocess.CompletedProcess:
    """Start the app for real (`run_gui`) in a subprocess and close its windows after
    `delay_ms`; it prints what was running then and how long after the close it ended."""
    return run_app(tmp_path, CLOSE_WHILE_BUSY.format(stuck=stuck, delay=delay_ms, path=path))


def run_app(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    """Run `code` (a script that starts the app) offscreen in a subprocess with its own
    settings, recovery and data folders."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "CLEF_RECOVERY_DIR": str(tmp_path / "recovery"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=240, cwd=ROOT, env=env)


def seconds_to_exit(done: subprocess.CompletedProcess, ended: float) -> float:
    """From the close to the process's end: as run_gui returned, or (when it ended the
    process itself, a first import still running on a `preload` thread) as seen here."""
    if "exit after" in done.stdout:
        return float(done.stdout.split("exit after")[1].split()[0])
    return ended - float(done.stdout.split("closing at")[1].split()[0])


def test_closing_while_a_long_spectrogram_computes_ends_at_once(tmp_path):
    take = tmp_path / "long.wav"
    rng = np.random.default_rng(2)
    sf.write(take, (0.1 * rng.standard_normal(15 * 60 * 16000)).astype(np.float32), 16000)
    done = run_app_and_close(tmp_path, str(take), stuck=False, delay_ms=300)
    ended = time.time()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "spectrogram" in done.stdout, done.stdout  # it was still computing when closed
    assert seconds_to_exit(done, ended) < 2.0, done.stdout
    assert "QThread" not in done.stderr, done.stderr[-2000:]


def test_closing_with_a_job_stuck_in_one_step_ends_without_an_abort(tmp_path):
    started = time.monotonic()
    done = run_app_and_close(tmp_path, None, stuck=True, delay_ms=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # SIGABRT is -6
    assert "stuck" in done.stdout, done.stdout
    assert "QThread: Destroyed" not in done.stderr, done.stderr[-2000:]
    assert "exit after" not in done.stdout  # run_gui ended the process itself ...
    assert time.monotonic() - started < 30  # ... after STOP_WAIT_MS, not the job's 60 s


CLOSE_WHEN = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

def close_when(ready, say=lambda: None, began=time.monotonic(), wait_s=200):
    # once ready() (or after wait_s): say(), close every window, print when and how long
    if not ready() and time.monotonic() - began < wait_s:
        QTimer.singleShot(2, lambda: close_when(ready, say, began, wait_s))
        return
    say()
    print("closing at", time.time(), flush=True)
    started = time.monotonic()
    for w in QApplication.topLevelWidgets():
        w.close()
    print("close took", round(time.monotonic() - started, 3), flush=True)
"""

CLOSE_WHILE_RESAMPLING = CLOSE_WHEN + """
import sys, threading
import scipy.signal  # imported: the close lands in the resampling, not in SciPy's import
from clef_app.gui import document, preferences
from clef_app.gui.app import make_application, run_gui
from clef_app.notation.steps import Cancelled

make_application()
preferences.put("session/demo_shown", True)
preferences.put("spectrogram/scale", "mel")  # the model's picture: the recording at 16 kHz
resampling = threading.Event()
whole = document.resample

def watched(samples, from_rate, to_rate):
    print("resampling", len(samples), "samples from", from_rate, "Hz", flush=True)
    resampling.set()
    try:
        out = whole(samples, from_rate, to_rate)
    except Cancelled:
        print("resampling: cancelled", flush=True)
        raise
    print("resampling: finished", flush=True)
    return out

document.resample = watched
QTimer.singleShot(0, lambda: close_when(resampling.is_set))
code = run_gui(PATH)
print("run_gui returned", code, flush=True)
sys.exit(code)
"""


def test_closing_while_a_long_recording_is_resampled_cancels_it_and_exits_cleanly(tmp_path):
    """A 10-minute 44.1-kHz recording shown on the model's scale is resampled to 16 kHz on
    the spectrogram's worker; closing then stops the resampling within a block, and the
    app returns from its event loop (no abort, no forced exit)."""
    take = tmp_path / "long.flac"
    rate, seconds = 44_100, 600
    t = np.arange(rate * seconds) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    sf.write(take, (0.2 * chord * (1 - (t % 2.0) / 2.0)).astype(np.float32), rate)
    done = run_app(tmp_path, CLOSE_WHILE_RESAMPLING.replace("PATH", repr(str(take))))
    ended = time.time()
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # SIGABRT is -6
    assert "resampling 26460000 samples from 44100 Hz" in done.stdout, done.stdout
    assert "resampling: cancelled" in done.stdout, done.stdout  # not run to its end
    assert "run_gui returned 0" in done.stdout, done.stdout  # not ended by os._exit
    closing = float(done.stdout.split("closing at")[1].split()[0])
    assert float(done.stdout.split("close took")[1].split()[0]) < 2.0, done.stdout
    assert ended - closing < 2.0, done.stdout
    assert "QThread" not in done.stderr, done.stderr[-2000:]


CLOSE_DURING_FIRST_LOAD = CLOSE_WHEN + """
import os, sys
from clef_app.gui import preferences
from clef_app.gui.app import make_application, run_gui
from clef_app.model.transcribe_child import CHILD

make_application()
preferences.put("session/demo_shown", True)
# the model's process loads the model as on a busy machine: seconds
SLOW_LOAD = '''
import time
from clef_app.model import pipeline, transcribe_child
load = pipeline.Pipeline.load.__func__

def slow_load(cls, *args, **kwargs):
    time.sleep(6)
    return load(cls, *args, **kwargs)

pipeline.Pipeline.load = classmethod(slow_load)
transcribe_child.main()
'''
CHILD.command = [sys.executable, "-c", SLOW_LOAD]

def transcribe():
    window = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "named_actions"))
    window.named_actions["transcribe"].trigger()
    close_when(lambda: CHILD.pid is not None,
               lambda: print("closing during the load; model process", CHILD.pid, flush=True))

QTimer.singleShot(300, transcribe)
sys.exit(run_gui(PATH))
"""


def test_closing_during_the_first_transcribes_model_load_ends_at_once(tmp_path,
                                                                      tiny_recording):
    """The first Transcribe starts the model's process, which loads torch and the checkpoint
    for seconds; the job waits for it in short steps, so a close cancels it at once, and the
    model's process ends with the app (before, the close waited its 2 s for the worker, then
    left it running)."""
    done = run_app(tmp_path, CLOSE_DURING_FIRST_LOAD.replace("PATH", repr(str(tiny_recording))))
    ended = time.time()
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # SIGABRT is -6
    assert "closing during the load" in done.stdout, done.stdout
    assert float(done.stdout.split("close took")[1].split()[0]) < 1.0, done.stdout
    assert ended - float(done.stdout.split("closing at")[1].split()[0]) < 2.0, done.stdout
    assert "QThread" not in done.stderr, done.stderr[-2000:]
    child = Path(f"/proc/{int(done.stdout.split('model process')[1].split()[0])}")
    while child.exists() and time.time() < ended + 1.0:
        time.sleep(0.05)
    assert not child.exists(), "the model's process outlived the app"
