"""Transcribing in the app: the window keeps responding, progress comes every batch with the
time left, and Cancel acts within a second, keeps the notes the document had and offers the
partial result. The shipped model runs where the notes matter; a tiny random one where only
the plumbing does."""

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from clef_app.gui.transcribe import find_model

DATA = Path(__file__).resolve().parents[1] / "data"

MAX_GAP_S = 0.100  # s: the longest the window may go without handling a timer event
CANCEL_S = 1.0  # s: from Cancel to the transcription's end


@pytest.fixture
def shipped_model():
    path, why = find_model()
    if path is None:
        pytest.skip(why)
    return path


class Heartbeat:
    """A 10-ms timer on the GUI thread; the longest gap between its ticks."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def longest_gap(self) -> float:
        return float(np.max(np.diff(self.ticks)))


@pytest.fixture
def piano(window, qtbot):
    """The window with 6 s of real piano open: the shipped model writes nothing for the
    tiny recording's pure sines, rightly (v6 learnt piano, not sine tones)."""
    with qtbot.waitSignal(window.spectrogram.spectrogramReady, timeout=20_000):
        assert window.controller.open(DATA / "opening.flac")
    return window


def test_the_window_never_stalls_while_the_shipped_model_transcribes(piano, shipped_model,
                                                                     qtbot):
    window = piano
    doc, view, job = window.document, window.spectrogram, window.jobs.transcription
    found = []
    job.found.connect(lambda notes: found.append(len(notes)))
    beat = Heartbeat()
    beat.timer.start()
    with qtbot.waitSignal(job.finished, timeout=300_000) as done:
        window.named_actions["transcribe"].trigger()
    beat.timer.stop()
    assert len(beat.ticks) > 20
    assert beat.longest_gap() <= MAX_GAP_S, f"the window stalled {beat.longest_gap():.3f} s"
    assert done.args[0].startswith("transcribed") and found
    assert doc.undo_stack.undoText() == "Transcribe" and doc.undo_stack.count() == 1
    assert not view.found_item.notes  # the provisional notes went with the run
    pitches = {n.pitch for n in doc.notes.values()}
    _, (y0, y1) = view.vb.viewRange()
    assert y0 <= min(pitches) and max(pitches) <= y1  # the view is fitted to the notes


def test_the_window_never_stalls_while_the_first_transcription_loads_the_model(tmp_path):
    """The first Transcribe of a session starts the model's process, which imports torch and
    loads the model: measured as a user meets it, in a process of its own (`clef
    open-benchmark --transcribe`, the app opened as `clef FILE` opens it), so nothing is
    loaded before the run. Each gap counts without the time the GUI thread was ready but
    waiting for a CPU (Linux's schedstat): the machine's other load, none on an idle one.
    With torch opened in the window's process, the GUI thread waited for the dynamic
    loader's locks while torch's libraries were mapped and initialised (280-990 ms at the
    first score page, or at any thread it started meanwhile); this failed then (368 ms of
    its own at load 2: the first score page's parse waiting for `dl_load_lock`)."""
    if find_model()[0] is None:
        pytest.skip(find_model()[1])
    report = tmp_path / "open.json"
    run = subprocess.run([sys.executable, "-m", "clef_app", "open-benchmark",
                          str(DATA / "opening.flac"), "--transcribe", "--json", str(report)],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    numbers = json.loads(report.read_text())
    assert numbers["transcription"].startswith("transcribed"), numbers["transcription"]
    assert not numbers["torch in the app's process"]  # the model ran in its own
    ours = numbers["longest stall less its wait for a CPU (ms)"]
    why = {k.strip(): v for k, v in numbers.items() if "stall" in k or k.startswith("  ")}
    assert ours <= 1000 * MAX_GAP_S, f"the window stalled {ours} ms of its own ({why})"


def test_progress_every_batch_with_the_time_left_and_notes_shown_before_the_end(
        window, tiny_checkpoint, qtbot):
    doc, job = window.document, window.jobs.transcription
    job.batch_size = 1  # one 2.56-s window per batch: two batches for the 3.2-s recording
    before = dict(doc.notes)
    reports, shown = [], []
    job.progress.connect(lambda f: reports.append((f, window.transcribing.progress.format())))
    job.found.connect(lambda notes: shown.append(dict(doc.notes) == before))
    collecting = []
    job.found.connect(lambda notes: collecting.append(gc.isenabled()))
    assert gc.isenabled()
    with qtbot.waitSignal(job.finished, timeout=120_000):
        window.jobs.transcribe()
    # no full garbage collection (0.3 s holding the GIL) while the model runs; after it, again
    assert collecting and not any(collecting) and gc.isenabled()
    fractions = [f for f, _ in reports]
    assert len(fractions) == 2 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "left" in reports[0][1]  # "transcribing 80%, about 0:01 left"
    assert shown and all(shown)  # found notes reach the view, not the document, mid-run


def test_cancel_acts_within_a_second_keeps_the_notes_and_offers_the_partial_result(
        piano, shipped_model, qtbot):
    window = piano
    doc, job = window.document, window.jobs.transcription
    job.batch_size = 1  # a report after every segment
    before = dict(doc.notes)
    took = []

    def cancel_once(notes):
        if notes and not took:
            took.append(time.perf_counter())
            job.cancel()

    job.found.connect(cancel_once)
    with qtbot.waitSignal(job.finished, timeout=300_000) as done:
        window.jobs.transcribe()
    assert took, "no notes before the end"
    assert time.perf_counter() - took[0] <= CANCEL_S
    assert done.args[0] == "" and doc.notes == before  # the previous notes stand
    assert "your notes are as they were" in window.statusBar().currentMessage()
    button = window.transcribing.use_partial_button
    assert button.isVisibleTo(window) and button.text().startswith("Use the ")
    partial, until = job.partial
    button.click()
    kept = {n.id for n in before.values() if n.onset >= until}
    assert set(doc.notes) == {n.id for n in partial} | kept
    assert doc.undo_stack.undoText() == "Transcribe (part)" and not button.isVisibleTo(window)
    doc.undo_stack.undo()
    assert doc.notes == before
