"""A real crash: `kill -9` an offscreen Clef while it is being edited; the next start, made
the way `clef` makes it, offers the autosaved work and restores it, losing at most one
autosave interval."""

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
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from clef_app.gui.app import start

    window = start(sys.argv[1])  # what `clef RECORDING` runs before its event loop
    editor = window.spectrogram.editor
    count = 0

    def edit():
        global count
        count += 1
        editor.add_note(3.0 + count * 0.1, 60 + count % 12, 0.05)
        print(count, flush=True)

    timer = QTimer(interval={EDIT_MS})
    timer.timeout.connect(edit)
    timer.start()
    QApplication.instance().exec()
""")


RESTARTED_APP = textwrap.dedent("""
    import os
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from clef_app.cli import main
    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    make_application()  # `main` runs the app on this one; the timers play the user
    Yes = QMessageBox.StandardButton.Yes

    def look_for_the_offer():
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                 and w.isVisible() and w.windowTitle() == "Restore unsaved work?"]
        if not boxes:
            QTimer.singleShot(50, look_for_the_offer)
            return
        print(boxes[0].button(Yes).text(), flush=True)
        boxes[0].button(Yes).click()
        QTimer.singleShot(300, report)

    def report():
        (window,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        doc = window.document
        for value in (doc.audio_path, len(doc.notes), doc.undo_stack.count(),
                      doc.undo_stack.isClean(), window.windowTitle()):
            print(value, flush=True)
        os._exit(0)

    QTimer.singleShot(0, look_for_the_offer)
    main([])  # what `clef` runs
""")


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen",
            "CLEF_RECOVERY_DIR": str(tmp_path / "recovery"),
            "CLEF_AUTOSAVE_SECONDS": str(INTERVAL),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


def test_kill_9_then_restart_restores_the_edits(tmp_path, env, tiny_recording):
    app = subprocess.Popen([sys.executable, "-c", EDITING_APP, str(tiny_recording)],
                           stdout=subprocess.PIPE, text=True, env=env)
    try:
        count, start_time = 0, time.monotonic()
        while count < 120 and time.monotonic() - start_time < 90:
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
    offer, audio, notes, history, clean, title = done.stdout.strip().splitlines()[-6:]
    assert offer == "Restore"  # the question, with its Restore button
    assert audio == str(tiny_recording)
    added = int(notes) - 3  # the recording's own three notes came from its .tsv
    lost = count - added
    assert 0 <= lost <= INTERVAL * 1000 / EDIT_MS + 3, (count, added)
    assert int(history) == added  # each restored note comes with its undo step
    assert clean == "False" and title.startswith("tiny.wav")
