"""Exports run on a worker: the window keeps ticking while a PDF is written, the engraved
score is reused, and Cancel leaves no file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

DEMO_NOTES = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"
TICK_MS = 10  # the GUI timer's interval while exporting
MAX_STALL_S = 0.100  # the longest the window may go without a tick


@pytest.fixture
def demo_window(window, qtbot):
    """The window with the demo's 191 notes, their score engraved."""
    assert window.controller.open(DEMO_NOTES)
    view = window.score_view
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.placed) == 191,
                    timeout=60_000)
    return window


def _export(window, qtbot, monkeypatch, path, kind="pdf"):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    ticks: list[float] = []
    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.wait(50)
    with qtbot.waitSignal(window.controller.exports.finished, timeout=120_000) as done:
        window.named_actions[f"export_{kind}"].trigger()
        ticks.append(time.perf_counter())
    timer.stop()
    return done.args[0], ticks


def test_pdf_export_never_stalls_the_window_and_reuses_the_score(demo_window, qtbot,
                                                                 monkeypatch, tmp_path):
    path = tmp_path / "demo.pdf"
    written, ticks = _export(demo_window, qtbot, monkeypatch, path)
    assert written == str(path) and path.read_bytes()[:5] == b"%PDF-"
    assert demo_window.controller.exports.reused  # the engraved score, not built again
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 20 and max(gaps) < MAX_STALL_S, f"longest stall {max(gaps):.3f} s"
    assert not demo_window.export_progress.isVisible()


def test_an_edit_means_the_score_is_built_again(demo_window, qtbot, monkeypatch, tmp_path):
    doc = demo_window.document
    first = doc.sorted_notes()[0]
    doc.replace_notes("Transpose", [first], [first.moved(0.0, 1)])
    written, _ = _export(demo_window, qtbot, monkeypatch, tmp_path / "x.musicxml", "musicxml")
    assert written and not demo_window.controller.exports.reused


def test_cancel_writes_nothing(demo_window, qtbot, monkeypatch, tmp_path):
    path = tmp_path / "cancelled.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(demo_window.controller.exports.finished, timeout=120_000) as done:
        demo_window.named_actions["export_pdf"].trigger()
        assert demo_window.export_cancel.isVisible()
        demo_window.export_cancel.click()
    assert done.args == [""] and not path.exists()


def test_cancel_acts_inside_the_analysis_of_a_large_score(qtbot, tmp_path):
    """A cancel while a large score's beats, grid and hands are worked out (one stage,
    seconds long, between two progress steps) ends the export at once, writing nothing."""
    from clef_app.gui.export_job import ExportJob
    from clef_app.notation.events import NoteEvent

    notes = [NoteEvent(0.125 * i, 0.125 * i + 0.1, 60 + (7 * i) % 24) for i in range(12_000)]
    job, path = ExportJob(), tmp_path / "large.musicxml"
    progress: list[float] = []
    job.progress.connect(progress.append)
    with qtbot.waitSignal(job.finished, timeout=600_000) as done:
        assert job.start(notes, {}, path, "musicxml")
        qtbot.waitUntil(lambda: 0.0 < max(progress, default=0.0) < 0.3, timeout=600_000)
        asked = time.perf_counter()
        job.cancel()
    assert time.perf_counter() - asked < 2.0  # wall seconds, on a busy 2-core machine
    assert done.args == [""] and not path.exists() and list(tmp_path.iterdir()) == []


def test_an_export_into_a_folder_that_cannot_be_written_fails_before_the_work(qtbot, tmp_path):
    """Issue 16: every output path is checked before the work (a large score is minutes of
    building): a folder in the way of the file, or a missing folder, is said at once."""
    from clef_app.gui.export_job import ExportJob
    from clef_app.notation.events import NoteEvent

    notes = [NoteEvent(0.125 * i, 0.125 * i + 0.1, 60 + (7 * i) % 24) for i in range(12_000)]
    job, failures = ExportJob(), []
    job.failed.connect(failures.append)
    (tmp_path / "score.musicxml").mkdir()
    for path in (tmp_path / "score.musicxml", tmp_path / "missing" / "score.pdf"):
        assert not job.start(notes, {}, path, path.suffix[1:])
        assert not job.running and "score." in failures[-1]
    assert "is a folder" in failures[0] and "does not exist" in failures[1]
