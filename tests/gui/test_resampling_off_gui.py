"""No resampling on the GUI thread (issue 16): the playback's copy of a recording at a rate
the output device refuses, and a long recording above 48 kHz as it opens, are resampled on
threads of their own, and closing the app then ends cleanly within 2 s.

Real widgets offscreen, real files written here, and a real PortAudio device (a private
PulseAudio null sink, which takes rates up to 384 kHz and refuses 400 kHz: a project may
embed audio at up to 655 kHz).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.signal  # noqa: F401 - imported: the tests time resampling, not SciPy's import
import soundfile as sf

from clef_app.audio.io import load_audio, resample
from clef_app.gui import preferences
from tests.audio.pulse_server import null_sink_server
from tests.gui.test_hostile_gui import CLOSE_WHEN, run_app

REFUSED_RATE = 400_000  # Hz: above PulseAudio's 384 kHz
GUI_CPU_S = 0.1  # s of the GUI thread's own CPU the step may take (the window's 100 ms)
CLOSED_WITHIN = 2.0  # s from the close to the process's end


def chord(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    tones = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    return (0.2 * tones * (1 - (t % 2.0) / 2.0)).astype(np.float32)


class StallMeter:
    """The longest gap between ticks of a 10-ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last, self.longest = time.monotonic(), 0.0
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest, self.last = max(self.longest, now - self.last), now


def pulse_label(server) -> str:
    from clef_app.audio.devices import list_devices

    return next(d.label for d in list_devices().outputs if d.index == server.output_device)


def test_a_rate_the_device_refuses_is_resampled_for_playback_off_the_gui_thread(
        qtbot, dialogs):
    """40 s at 400 kHz: the document's load returns within 0.1 s of the GUI thread's CPU
    (before, set_sources resampled it there: seconds), the player resamples on a thread
    into the buffer it plays, and what it then plays is `resample`'s result."""
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    audio = chord(REFUSED_RATE, 40.0)
    with null_sink_server() as server:
        preferences.put("audio/output_device", pulse_label(server))
        make_application()
        win = MainWindow()
        try:
            qtbot.waitExposed(win)
            player = win.playback.player
            assert win.playback.available, win.playback.error
            cpu = time.thread_time()
            win.document.load(None, audio, REFUSED_RATE)
            cpu = time.thread_time() - cpu
            assert player.rate != REFUSED_RATE  # the device refused it
            assert cpu < GUI_CPU_S, f"the load took {cpu:.3f} s of the GUI thread's CPU"
            assert player.preparing
            meter = StallMeter()
            qtbot.waitUntil(lambda: not player.preparing, timeout=120_000)
            print(f"longest stall while resampling: {1000 * meter.longest:.0f} ms")
            want = resample(audio, REFUSED_RATE, player.rate)
            assert player.duration == pytest.approx(len(want) / player.rate)
            player.seek(10.0)
            got = player.render(4096)
            at = int(round(10.0 * player.rate))
            np.testing.assert_allclose(got, want[at : at + 4096], atol=1e-6)
        finally:
            win.document.undo_stack.setClean()
            win.close()
            win.deleteLater()


@pytest.mark.parametrize("rate,seconds", [(96_000, 150.0), (192_000, 60.0)])
def test_a_recording_above_48_khz_opens_at_once_and_resamples_on_the_worker(
        qtbot, dialogs, tmp_path, rate, seconds):
    """150 s at 96 kHz, 60 s at 192 kHz: open returns within 0.1 s of the GUI thread's CPU
    (before, it decoded and resampled the whole file there: 0.54 s for the first), the
    recording fills in at 48 kHz, and the result is what `load_audio` gives."""
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    take = tmp_path / "high.flac"
    sf.write(take, chord(rate, seconds), rate, subtype="PCM_24")
    make_application()
    win = MainWindow()
    try:
        qtbot.waitExposed(win)
        meter = StallMeter()
        cpu = time.thread_time()
        assert win.controller.open(take)
        cpu = time.thread_time() - cpu
        doc = win.document
        assert doc.sample_rate == 48_000 and len(doc.samples) == seconds * 48_000
        assert cpu < GUI_CPU_S, f"opening took {cpu:.3f} s of the GUI thread's CPU"
        assert doc.loading
        qtbot.waitUntil(lambda: not doc.loading, timeout=120_000)
        print(f"longest stall while decoding: {1000 * meter.longest:.0f} ms")
        np.testing.assert_allclose(doc.samples, load_audio(take).samples, atol=1e-6)
        assert not dialogs
    finally:
        win.document.undo_stack.setClean()
        win.close()
        win.deleteLater()


CLOSE_WHILE_PLAYBACK_RESAMPLES = CLOSE_WHEN + """
import sys, threading
import numpy as np
import scipy.signal  # imported: the close lands in the resampling, not in SciPy's import
from clef_app.audio import playback
from clef_app.audio.devices import list_devices
from clef_app.gui import preferences
from clef_app.gui.app import make_application, run_gui
from clef_app.notation.steps import Cancelled

make_application()
preferences.put("session/demo_shown", True)
preferences.put("audio/output_device", next(
    d.label for d in list_devices().outputs if d.index == DEVICE))
resampling = threading.Event()
whole = playback.resample_into

def watched(samples, from_rate, to_rate, out):
    print("resampling", len(samples), "samples from", from_rate, "Hz", flush=True)
    resampling.set()
    try:
        yield from whole(samples, from_rate, to_rate, out)
    except Cancelled:
        print("resampling: cancelled", flush=True)
        raise
    print("resampling: finished", flush=True)

playback.resample_into = watched

def load():
    window = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "document"))
    t = np.arange(RATE * 120) / RATE
    window.document.load(None, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    close_when(resampling.is_set)

QTimer.singleShot(300, load)
code = run_gui(None)
print("run_gui returned", code, flush=True)
sys.exit(code)
"""


def test_closing_while_the_playback_resamples_ends_cleanly(tmp_path):
    """The real run_gui in a subprocess, on the null sink: 120 s at 400 kHz loaded, the
    window closed while the player resamples it: the resampling is cancelled, the close
    takes under 2 s, run_gui returns 0 (no abort, no forced exit)."""
    with null_sink_server() as server:
        code = (CLOSE_WHILE_PLAYBACK_RESAMPLES.replace("DEVICE", str(server.output_device))
                .replace("RATE", str(REFUSED_RATE)))
        done = run_app(tmp_path, code)
        ended = time.time()
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # SIGABRT is -6
    assert f"resampling 48000000 samples from {REFUSED_RATE} Hz" in done.stdout, done.stdout
    assert "resampling: cancelled" in done.stdout, done.stdout  # not run to its end
    assert "run_gui returned 0" in done.stdout, done.stdout  # not ended by os._exit
    closing = float(done.stdout.split("closing at")[1].split()[0])
    assert float(done.stdout.split("close took")[1].split()[0]) < CLOSED_WITHIN, done.stdout
    assert ended - closing < CLOSED_WITHIN + 1.0, done.stdout  # + the sound server's stop
    assert "QThread" not in done.stderr, done.stderr[-2000:]


CLOSE_WHILE_DECODING = CLOSE_WHEN + """
import sys
import scipy.signal  # imported: the close lands in the decoding, not in SciPy's import
from clef_app.gui import preferences, workers
from clef_app.gui.app import make_application, run_gui

make_application()
preferences.put("session/demo_shown", True)
decoding = lambda: any(w.name == "decode" for w in workers._RUNNING)
QTimer.singleShot(0, lambda: close_when(
    decoding, lambda: print("decoding at close:", decoding(), flush=True), wait_s=30))
code = run_gui(PATH)
print("run_gui returned", code, flush=True)
sys.exit(code)
"""


def test_closing_while_a_long_recording_above_48_khz_decodes_ends_cleanly(tmp_path):
    """The real run_gui on a 10-minute 96-kHz FLAC: the window is up while the recording
    decodes and resamples on the worker (before, run_gui's open did all of it first), and
    closing then ends the process within 2 s, run_gui returning 0."""
    take = tmp_path / "long96k.flac"
    sf.write(take, chord(96_000, 600.0), 96_000, subtype="PCM_16")
    done = run_app(tmp_path, CLOSE_WHILE_DECODING.replace("PATH", repr(str(take))))
    ended = time.time()
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "decoding at close: True" in done.stdout, done.stdout
    assert "run_gui returned 0" in done.stdout, done.stdout
    closing = float(done.stdout.split("closing at")[1].split()[0])
    assert float(done.stdout.split("close took")[1].split()[0]) < CLOSED_WITHIN, done.stdout
    assert ended - closing < CLOSED_WITHIN, done.stdout
    assert "QThread" not in done.stderr, done.stderr[-2000:]
