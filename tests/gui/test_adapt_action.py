"""Model › Adapt to My Recordings in the app: `clef adapt` runs in a child process on the
open project and the projects picked, the personal checkpoint it writes loads and becomes
the active model (shown in the status bar and the menu, kept in QSettings), Use Bundled
Model returns to the shipped one; too few corrections are refused in one line and Cancel
stops the run within a second, and neither writes anything. The real shipped model, the
committed 6-s clip and its notes (tests/training/test_adapt.py)."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from PySide6.QtWidgets import QFileDialog

from clef_app.gui import preferences
from clef_app.gui.adapting import Adaptation
from clef_app.gui.model_choice import find_model, models_dir
from clef_app.model.location import BUNDLED, find_checkpoint
from tests.training.test_adapt import corrected_project

pytestmark = pytest.mark.skipif(find_checkpoint() is None, reason="no shipped checkpoint")
CHILD_S = 300_000  # ms: the child imports torch, loads the model and trains (busy CPU)


@pytest.fixture
def app_window(qtbot, dialogs, tmp_path, monkeypatch):
    """The main window with a 3-step adaptation (1 epoch over the segments)."""
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    monkeypatch.setenv("CLEF_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("CLEF_MODEL", raising=False)
    monkeypatch.setattr(Adaptation, "epochs", 1.0)
    monkeypatch.setattr(Adaptation, "threads", 1)
    make_application()
    win = MainWindow()
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.adapting.cancel()
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()


def written() -> list[str]:
    """What is in the personal models' folder (a run's staging folder is one entry)."""
    folder = models_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_adapting_writes_a_personal_model_that_becomes_active_and_bundled_returns(
        app_window, qtbot, tmp_path, monkeypatch):
    win, c = app_window, app_window.controller
    bundled_before = digest(BUNDLED)
    assert c.open(corrected_project(tmp_path / "take.clef", marked=30))
    others = [corrected_project(tmp_path / f"other{i}.clef", marked=30) for i in (1, 2)]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: ([str(p) for p in others], ""))
    assert win.model_status.label.text() == "Model: bundled"
    fractions, ended = [], []
    c.adapting.progress.connect(fractions.append)
    c.adapting.finished.connect(ended.append)
    c.adapting.failed.connect(ended.append)
    win.named_actions["adapt_more"].trigger()
    assert win.model_status.progress.isVisible() and win.model_status.cancel.isVisible()
    assert not win.named_actions["adapt"].isEnabled()
    qtbot.waitUntil(lambda: bool(ended), timeout=CHILD_S)
    path = ended[0]
    assert path and find_model()[0] == c.model.path and str(c.model.path) == path
    name = os.path.basename(path)
    assert written() == sorted([name, name.removesuffix(".safetensors") + ".json"])
    # 9 corrected segments (3 projects), 2 steps: encoding, then each step, in order
    assert fractions == sorted(fractions) and len(fractions) >= 4
    assert fractions[-1] == pytest.approx(1.0)
    assert "segments of 3 projects" in c.adapting.summary
    assert win.model_status.label.text().startswith("Model: personal, adapted ")
    assert not win.model_status.progress.isVisible()
    assert win.named_actions["use_personal"].isChecked()
    assert preferences.get("model/personal") == path

    from clef_app.model.pipeline import Pipeline

    notes = Pipeline.load(path, device="cpu").transcribe_all(
        c.document.samples, c.document.sample_rate)
    assert notes

    win.named_actions["use_bundled"].trigger()
    assert find_model()[0] == BUNDLED and preferences.get("model/personal") == ""
    assert win.model_status.label.text() == "Model: bundled"
    assert win.named_actions["use_bundled"].isChecked()
    win.named_actions["use_personal"].trigger()
    assert str(find_model()[0]) == path
    assert digest(BUNDLED) == bundled_before


def test_too_few_corrections_are_refused_in_one_line_and_nothing_is_written(
        app_window, qtbot, tmp_path, dialogs):
    c = app_window.controller
    assert c.open(corrected_project(tmp_path / "take.clef", marked=3))
    with qtbot.waitSignal(c.adapting.failed, timeout=CHILD_S) as refused:
        app_window.named_actions["adapt"].trigger()
    message = refused.args[0]
    assert message.startswith("too few corrections to learn from: 3 corrected notes")
    assert "\n" not in message
    assert dialogs[-1] == ("warning", "Adapt to My Recordings", message)
    assert written() == [] and find_model()[0] == BUNDLED
    assert app_window.model_status.label.text() == "Model: bundled"
    assert not app_window.model_status.progress.isVisible()


def test_cancel_stops_the_run_within_a_second_and_writes_nothing(app_window, qtbot, tmp_path):
    c = app_window.controller
    assert c.open(corrected_project(tmp_path / "take.clef", marked=30))
    others = [corrected_project(tmp_path / f"other{i}.clef", marked=30) for i in (1, 2)]
    with qtbot.waitSignal(c.adapting.progress, timeout=CHILD_S):  # the model is working
        assert c.adapt(others)
    pid = c.adapting.process.processId()
    assert written() and all(n.startswith(".adapting-") for n in written())  # staging only
    with qtbot.waitSignal(c.adapting.finished, timeout=1000) as stopped:
        started = time.monotonic()
        app_window.model_status.cancel.click()
    assert time.monotonic() - started < 1.0 and stopped.args == [""]
    assert not os.path.exists(f"/proc/{pid}")  # the child is gone
    assert written() == [] and find_model()[0] == BUNDLED
    assert not app_window.model_status.progress.isVisible()
    assert app_window.named_actions["adapt"].isEnabled()


def test_a_personal_model_that_fails_its_check_falls_back_to_the_bundled_one(
        qtbot, tmp_path, monkeypatch, dialogs):
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    monkeypatch.delenv("CLEF_MODEL", raising=False)
    broken = tmp_path / "personal-20261207-083500.safetensors"
    broken.write_bytes(BUNDLED.read_bytes()[:100_000])  # cut short
    broken.with_suffix(".json").write_bytes(BUNDLED.with_suffix(".json").read_bytes())
    preferences.put("model/personal", str(broken))
    make_application()
    win = MainWindow()
    try:
        assert find_model()[0] == BUNDLED and preferences.get("model/personal") == ""
        assert win.statusBar().currentMessage() == ("using the bundled model: your personal "
                                                    f"model failed ({broken.name} is cut short)")
        assert win.model_status.label.text() == "Model: bundled"
    finally:
        win.close()
        win.deleteLater()


def test_a_kept_personal_model_never_replaces_a_file_of_its_name(tmp_path, monkeypatch):
    """The finished checkpoint and its JSON get a new name each (linked, which fails when
    the name is taken): a file already at either name stays as it was."""
    from clef_app.gui import adapting

    monkeypatch.setattr(adapting.time, "strftime", lambda fmt: "20260101-120000")
    staging = tmp_path / ".adapting-x"
    staging.mkdir()
    (staging / "personal.safetensors").write_bytes(b"weights")
    (staging / "personal.json").write_text("{}")
    stem = f"{adapting.PERSONAL_PREFIX}20260101-120000"
    (tmp_path / f"{stem}.json").write_text("the user's")  # a stray JSON at the first name
    (tmp_path / f"{stem}-1.safetensors").write_bytes(b"the user's")  # a model at the next
    job = adapting.Adaptation()
    job._staging = staging
    kept = job._keep()
    assert kept == tmp_path / f"{stem}-2.safetensors"
    assert kept.read_bytes() == b"weights" and kept.with_suffix(".json").read_text() == "{}"
    assert (tmp_path / f"{stem}.json").read_text() == "the user's"
    assert (tmp_path / f"{stem}-1.safetensors").read_bytes() == b"the user's"
    assert not (tmp_path / f"{stem}.safetensors").exists()
    assert not (tmp_path / f"{stem}-1.json").exists() and not staging.exists()
