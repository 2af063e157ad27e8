"""A real crash: `kill -9` an offscreen Clef while it is being edited; the next start offers
the autosaved work and restores it, losing at most one autosave interval."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from clef_app.project.autosave import find_recoveries

INTERVAL = 0.6  # s: the autosave interval the crashing app runs with
EDIT_MS = 20  # ms between edits

EDITING_APP = textwrap.dedent(f"""
    from PySide6.QtCore import QTimer
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow
    from clef_app.notation.events import NoteEvent

    app = make_application()
    window = MainWindow()
    doc = window.document
    doc.load(None, None, 16000, [])
    count = 0

    def edit():
        global count
        count += 1
        doc.replace_notes("Add Note", [], [NoteEvent(count * 0.1, count * 0.1 + 0.05, 60)])
        print(count, flush=True)

    timer = QTimer(interval={EDIT_MS})
    timer.timeout.connect(edit)
    timer.start()
    app.exec()
""")

RESTARTED_APP = textwrap.dedent("""
    import os
    from PySide6.QtWidgets import QMessageBox
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    app = make_application()
    window = MainWindow()
    offers = []
    def ask(recovery):
        offers.append(recovery)
        return QMessageBox.StandardButton.Yes
    window.project_actions._ask_restore = ask
    restored = window.project_actions.offer_recovery()
    doc = window.document
    print(len(offers), restored, len(doc.notes), doc.undo_stack.count(),
          doc.undo_stack.isClean(), flush=True)
    os._exit(0)
""")


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen",
            "CLEF_RECOVERY_DIR": str(tmp_path / "recovery"),
            "CLEF_AUTOSAVE_SECONDS": str(INTERVAL),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


def test_kill_9_then_restart_restores_the_edits(tmp_path, env):
    app = subprocess.Popen([sys.executable, "-c", EDITING_APP], stdout=subprocess.PIPE,
                           text=True, env=env)
    try:
        count, start = 0, time.monotonic()
        while count < 120 and time.monotonic() - start < 90:
            line = app.stdout.readline()
            assert line, "the editing app stopped on its own"
            count = int(line)
        assert find_recoveries(tmp_path / "recovery") == []  # alive: not offered
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=10)
        count = max([count, *(int(x) for x in app.stdout.read().split())])
    finally:
        if app.poll() is None:
            app.kill()
        app.stdout.close()
    assert app.returncode == -signal.SIGKILL
    done = subprocess.run([sys.executable, "-c", RESTARTED_APP], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    offers, restored, notes, history, clean = done.stdout.split()
    assert (offers, restored, clean) == ("1", "True", "False")
    lost = count - int(notes)
    assert 0 <= lost <= INTERVAL * 1000 / EDIT_MS + 3, (count, notes)
    assert int(history) == int(notes)  # each restored note comes with its undo step
