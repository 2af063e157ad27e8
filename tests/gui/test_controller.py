"""The application controller through the window's own menus: every route opens a file the
same way, a new recording leaves no project path behind, and saving never writes over a
file that is not the open project without asking."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtWidgets import QFileDialog, QMessageBox

from clef_app.gui import file_actions
from clef_app.notation.events import NoteEvent
from clef_app.project import load_project

Button = QMessageBox.StandardButton
GUI = Path(__file__).resolve().parents[2] / "clef_app" / "gui"


@pytest.fixture
def other_wav(tmp_path):
    t = np.arange(22_050) / 22_050
    path = tmp_path / "other.wav"
    sf.write(path, (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 22_050)
    return path


@pytest.fixture
def project(window, tmp_path):
    """The tiny recording with one edit, saved as a project that is then the open one."""
    doc = window.document
    first = doc.sorted_notes()[0]
    doc.replace_notes("Move notes", [first], [first.moved(0.0, 2)])
    path = tmp_path / "mine.clef"
    assert window.controller.save_to(path)
    return path


def _choose(monkeypatch, method, path):
    monkeypatch.setattr(QFileDialog, method, lambda *a, **k: (str(path), ""))


def _open_by(route, window, monkeypatch, path):
    """Open `path` the way a user does it by `route`."""
    if route == "menu":
        _choose(monkeypatch, "getOpenFileName", path)
        window.named_actions["open"].trigger()
    elif route == "recent":
        from clef_app.gui import preferences

        preferences.add_recent(str(path))
        window.controller.recentChanged.emit()
        (action,) = [a for a in window.menus["recent"].actions() if a.toolTip() == str(path)]
        action.trigger()
    elif route == "demo":
        window.named_actions["open_demo"].trigger()
    elif route == "live":  # a finished take: the live panel's signal with its file
        window.live_panel.recorded_notes = [NoteEvent(0.1, 0.4, 62)]
        window.live_panel.recordingFinished.emit(str(path))


@pytest.mark.parametrize("route", ["menu", "recent", "demo", "live"])
def test_a_new_recording_is_not_saved_over_the_project(window, project, other_wav, route,
                                                       monkeypatch, dialogs):
    before = project.read_bytes()
    expected = file_actions.DEMO if route == "demo" else other_wav
    _open_by(route, window, monkeypatch, other_wav)
    assert window.document.audio_path == expected
    assert window.windowTitle().startswith(expected.name)
    assert window.controller.path is None
    window.document.replace_notes("Add note", [], [NoteEvent(0.5, 0.7, 70)])
    _choose(monkeypatch, "getSaveFileName", project)  # Save asks for a name; the user picks
    window.named_actions["save_project"].trigger()  # the old project: Clef must ask first
    assert [d[1] for d in dialogs if d[0] == "question"] == ["Replace the file?"]
    assert project.read_bytes() == before  # the answer was not "Yes": nothing written


def test_saving_the_open_project_does_not_ask_and_another_file_asks(window, project, tmp_path,
                                                                    monkeypatch):
    asked = []

    def question(parent, title, text, *args):
        asked.append(title)
        return Button.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    window.document.replace_notes("Add note", [], [NoteEvent(0.5, 0.7, 70)])
    window.named_actions["save_project"].trigger()
    assert asked == [] and len(load_project(project).notes) == 4
    other = tmp_path / "theirs.clef"
    other.write_bytes(b"someone else's file")
    _choose(monkeypatch, "getSaveFileName", other)
    window.named_actions["save_project_as"].trigger()
    assert asked == ["Replace the file?"]
    assert len(load_project(other).notes) == 4 and window.controller.path == other


def test_open_project_from_the_menu_and_import_midi_keep_its_path(window, project, tmp_path,
                                                                 monkeypatch):
    window.document.load(None, None, 16_000, [])
    _choose(monkeypatch, "getOpenFileName", project)
    window.named_actions["open_project"].trigger()
    assert window.controller.path == project and len(window.document.notes) == 3
    tsv = tmp_path / "more.tsv"
    tsv.write_text("0.1\t0.5\t72\t80\n")
    _choose(monkeypatch, "getOpenFileName", tsv)
    window.named_actions["import_midi"].trigger()  # any notes file: one undo step
    assert [n.pitch for n in window.document.sorted_notes()] == [72]
    assert window.controller.path == project  # an edit of the open project


def test_no_method_is_replaced_at_run_time(window):
    for obj in (window, window.controller):
        replaced = [name for name in vars(obj)
                    if isinstance(getattr(type(obj), name, None), types.FunctionType)]
        assert replaced == [], type(obj).__name__
    assert not hasattr(window, "open_path") and not hasattr(window, "confirm_discard")


def _gui_imports(path: Path) -> set[str]:
    """The gui modules a gui module imports, TYPE_CHECKING blocks and late imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[2] for n in names
                  if n.startswith("clef_app.gui.") and (GUI / f"{n.split('.')[2]}.py").exists()}
    return found - {path.stem}


def test_gui_modules_import_without_a_cycle():
    graph = {p.stem: _gui_imports(p) for p in GUI.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join((*trail, module))
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
