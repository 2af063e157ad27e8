"""Closing the app during the playback's first rendering (issue 16). That rendering first
loads the soundfont: FluidSynth's import, SciPy's and reading 148 MB of samples, seconds on
a busy machine in calls nothing can interrupt (and beside it the spectrogram's first import
of scipy.fft). The workers wait for these in short steps (`clef_app.preload`), so closing
cancels them at once; the loads run on daemon threads the process may end under. The real
`run_gui` in a subprocess."""

from __future__ import annotations

import time

from tests.gui.test_hostile_gui import CLOSE_WHEN, run_app

CLOSED_WITHIN = 2.0  # s from the close to the process's end
LOAD_S = 6.0  # s the soundfont's load is made to last at least (a busy machine's)

CLOSE_DURING_FIRST_RENDERING = CLOSE_WHEN + """
import sys, time
from clef_app.gui import preferences, workers
from clef_app.gui.app import make_application, run_gui

from clef_app.audio import synth

make_application()
preferences.put("session/demo_shown", True)
load = synth.get_renderer

def slow_load(*args):  # as on a busy machine: the load lasts seconds, whenever it is seen
    time.sleep(LOAD_S)
    return load(*args)

synth.get_renderer = slow_load
QTimer.singleShot(0, lambda: close_when(  # during the first rendering
    lambda: any(w.name == "synth" for w in workers._RUNNING),
    lambda: print("soundfont loaded:", bool(synth._RENDERERS), flush=True), wait_s=120))
sys.exit(run_gui(PATH))
"""


def test_closing_during_the_first_playback_rendering_ends_within_two_seconds(
        tiny_recording, tmp_path):
    code = CLOSE_DURING_FIRST_RENDERING.replace("PATH", repr(str(tiny_recording)))
    done = run_app(tmp_path, code.replace("LOAD_S", repr(LOAD_S)))
    ended = time.time()
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])  # SIGABRT is -6
    assert "soundfont loaded: False" in done.stdout, done.stdout  # closed during its load
    closing = float(done.stdout.split("closing at")[1].split()[0])
    close_took = float(done.stdout.split("close took")[1].split()[0])
    assert close_took < CLOSED_WITHIN, done.stdout  # it waited STOP_WAIT_MS for the load
    assert ended - closing < CLOSED_WITHIN, done.stdout
    assert "QThread" not in done.stderr, done.stderr[-2000:]


def test_a_cancelled_wait_for_the_soundfont_leaves_at_once_and_the_load_goes_on():
    """In one process: the wait is left within a step, a later caller gets the renderer."""
    from clef_app import preload
    from clef_app.audio import synth
    from clef_app.notation.steps import Cancelled, stop_when

    started = time.monotonic()
    try:
        with stop_when(lambda: time.monotonic() - started > 0.1):
            synth.ready_renderer()
        loaded_before = True  # an earlier test of this process loaded it
    except Cancelled:
        loaded_before = False
        assert time.monotonic() - started < 0.1 + 5 * preload.WAIT_STEP_S
    assert synth.ready_renderer() is synth.get_renderer()
    assert loaded_before or not preload.running()


def test_a_failed_piece_is_raised_to_its_waiter_and_tried_again_by_the_next():
    from clef_app import preload

    tries = []

    def work() -> int:
        tries.append(1)
        if len(tries) == 1:
            raise OSError("the first try fails")
        return 7

    key = f"test {time.monotonic()}"
    try:
        preload.wait_for(key, work)
        raise AssertionError("the failure was not raised")
    except OSError as exc:
        assert "first try" in str(exc)
    assert preload.wait_for(key, work) == 7 and preload.wait_for(key, work) == 7
    assert len(tries) == 2
