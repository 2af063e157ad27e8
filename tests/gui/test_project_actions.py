"""Project files in the GUI: save/open round trips, unsaved-changes prompts, bad files that
leave the open document alone, autosave and restoring after a crash."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from clef_app.notation.events import NoteEvent
from clef_app.project import Project, load_project, save_project
from clef_app.project.autosave import Autosaver, find_recoveries
from tests.project.zips import manifest, write_project

Button = QMessageBox.StandardButton
RATE = 22_050  # Hz


class Answers:
    """Stands in for QMessageBox.question: records the questions, gives set answers."""

    def __init__(self) -> None:
        self.answer = Button.Discard
        self.asked: list[str] = []

    def __call__(self, parent, title, text, *args, **kwargs):
        self.asked.append(title)
        return self.answer


@pytest.fixture
def answers(monkeypatch):
    fake = Answers()
    monkeypatch.setattr(QMessageBox, "question", fake)
    return fake


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, answers):
    monkeypatch.setenv("CLEF_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("CLEF_AUTOSAVE_SECONDS", "0")
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    make_application()
    w = MainWindow()
    qtbot.addWidget(w)
    w.errors = []
    monkeypatch.setattr(w.controller, "show_error",
                        lambda title, text: w.errors.append((title, text)))
    yield w
    w.controller.shutdown()


def _tone(seconds=1.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _with_edits(window, audio_path=None):
    doc = window.document
    doc.load(audio_path, _tone(), RATE, [NoteEvent(0.1, 0.4, 60, 90)])
    (first,) = doc.sorted_notes()
    doc.replace_notes("Add Note", [], [NoteEvent(0.5, 0.9, 64, 70)])
    doc.replace_notes("Move Note", [first], [first.moved(0.05, 2)])
    doc.set_setting("grid", "1/16")
    doc.undo_stack.undo()  # one redoable step remains in the history
    return doc


def _state(doc):
    return ([(n.id, n.onset, n.offset, n.pitch) for n in doc.sorted_notes()], dict(doc.settings),
            doc.undo_stack.count(), doc.undo_stack.index())


def test_file_menu_has_project_actions(window):
    texts = [a.text() for a in window.menus["file"].actions()]
    for text in ("Open &Project…", "&Save Project", "Save Project &As…"):
        assert text in texts
    assert window.named_actions["save_project"].shortcut().toString() == "Ctrl+S"


def test_save_and_open_round_trip_with_history(window, tmp_path, qtbot):
    doc = _with_edits(window)
    before = _state(doc)
    assert window.controller.save_to(tmp_path / "take.clef")
    assert doc.undo_stack.isClean() and window.windowTitle().startswith("take.clef")
    doc.load(None, None, RATE, [])  # something else entirely
    assert window.controller.open(tmp_path / "take.clef")
    assert _state(doc) == before
    np.testing.assert_allclose(doc.samples, _tone(), atol=2**-22)
    doc.undo_stack.redo()  # the redoable step came back too
    assert doc.settings == {"grid": "1/16"}
    doc.undo_stack.setIndex(0)
    assert [n.pitch for n in doc.sorted_notes()] == [60]
    assert window.errors == []


def test_referenced_recording(window, tmp_path, monkeypatch):
    import soundfile as sf

    wav = tmp_path / "take.wav"
    sf.write(wav, _tone(), RATE)
    from clef_app.gui import preferences

    window.named_actions["embed_audio"].setChecked(False)
    assert preferences.get("project/embed_audio") is False
    _with_edits(window, audio_path=wav)
    assert window.controller.save_to(tmp_path / "ref.clef")
    assert load_project(tmp_path / "ref.clef").audio.path == str(wav)
    assert window.controller.open(tmp_path / "ref.clef")
    assert window.document.audio_path == wav and window.errors == []
    wav.unlink()  # the recording goes missing: notes open, the user is told
    assert window.controller.open(tmp_path / "ref.clef")
    assert window.document.samples is None and len(window.document.notes) == 2
    assert window.errors and "not found" in window.errors[0][1]


def test_unsaved_changes_prompt(window, tmp_path, answers, monkeypatch):
    save_project(Project(notes=[NoteEvent(0, 1, 40)]), tmp_path / "other.clef")
    doc = _with_edits(window)
    before = _state(doc)
    answers.answer = Button.Cancel
    assert not window.controller.open(tmp_path / "other.clef")
    assert _state(doc) == before and answers.asked == ["Save changes?"]
    answers.answer = Button.Save  # no project file yet: Save As asks for a name
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "s.clef"), ""))
    assert window.controller.open(tmp_path / "other.clef")
    assert [n.pitch for n in load_project(tmp_path / "s.clef").notes] == [62, 64]
    assert [n.pitch for n in doc.sorted_notes()] == [40]


def _bad_files(tmp_path):
    (tmp_path / "empty.clef").write_bytes(b"")
    (tmp_path / "text.clef").write_text("not a project")
    write_project(tmp_path / "future.clef", manifest(version=2))
    write_project(tmp_path / "badnote.clef", manifest(notes=[{"onset": 1, "offset": 0,
                                                              "pitch": 60, "id": 1}]))
    write_project(tmp_path / "nan.clef", b'{"format": "clef-project", "version": NaN}')
    from tests.project.zips import write_zip

    write_zip(tmp_path / "escape.clef", [("project.json", json.dumps(manifest()).encode()),
                                         ("../../escape.txt", b"x")])
    save_project(Project(notes=[NoteEvent(0, 1, 60)]), tmp_path / "cut.clef")
    data = (tmp_path / "cut.clef").read_bytes()
    (tmp_path / "cut.clef").write_bytes(data[: len(data) // 2])
    return ["empty", "text", "future", "badnote", "nan", "escape", "cut", "missing"]


def test_bad_project_files_leave_the_document_alone(window, tmp_path):
    doc = _with_edits(window)
    before = _state(doc)
    names = _bad_files(tmp_path)
    for name in names:
        window.errors.clear()
        assert not window.controller.open(tmp_path / f"{name}.clef"), name
        assert _state(doc) == before, name
        assert len(window.errors) == 1, name
        title, text = window.errors[0]
        assert title == "Cannot open the project" and text.startswith(f"{name}.clef: "), text
    assert not (tmp_path.parent / "escape.txt").exists()


def test_recent_projects_open_from_the_menu(window, tmp_path):
    _with_edits(window)
    window.controller.save_to(tmp_path / "recent.clef")
    window.document.load(None, None, RATE, [])
    recent = window.menus["recent"].actions()
    assert recent[0].text() == "recent.clef"
    recent[0].trigger()
    assert len(window.document.notes) == 2


def test_autosave_writes_and_saving_clears_it(window, tmp_path):
    rdir = tmp_path / "recovery"
    _with_edits(window)
    window.controller.autosave.save_if_due()
    (recovery_file,) = rdir.glob("*.clef-recovery")
    assert len(load_project(recovery_file).notes) == 2
    window.controller.save_to(tmp_path / "saved.clef")
    assert list(rdir.glob("*.clef-recovery")) == []
    window.controller.shutdown()
    assert list(rdir.iterdir()) == []


def test_restore_after_a_crash(window, tmp_path, monkeypatch):
    rdir = tmp_path / "recovery"
    crashed = Autosaver(rdir, interval_s=0)
    notes = [NoteEvent(0.2, 0.6, 67, id=501), NoteEvent(0.3, 0.5, 71, id=502)]
    project = Project(notes=notes, settings={"title": "Lost"},
                      source_path=str(tmp_path / "work.clef"))
    crashed.save(project)
    os.close(crashed._lock)  # the process "dies": its lock goes with it
    crashed._lock = None
    assert len(find_recoveries(rdir)) == 1
    assert window.controller.offer_recovery() == 1
    window.controller.restore_question.done(Button.Yes)  # "Restore"
    doc = window.document
    assert [n.id for n in doc.sorted_notes()] == [501, 502] and doc.settings["title"] == "Lost"
    assert not doc.undo_stack.isClean()  # restored work is unsaved
    assert window.controller.path == tmp_path / "work.clef"
    assert find_recoveries(rdir) == []  # the old file is gone; this session has its own
    assert len(list(rdir.glob("*.clef-recovery"))) == 1
