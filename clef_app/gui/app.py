"""Starting the GUI: the application object, its dark look, and the first document."""

from __future__ import annotations

import gc
import os
import sys

# music21 (the score's engraving, needed by the window's modules) loads before PySide6: once
# PySide6 is in, its import hook reads the source of every module imported after it, and
# music21's ~700 modules cost 0.13-0.15 s more CPU before the window can paint (measured)
import music21  # noqa: F401
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from clef_app import __version__, preload
from clef_app.gui import preferences, workers

DARK = {  # palette role -> colour: a dark workspace so the spectrogram reads best
    QPalette.ColorRole.Window: QColor(37, 38, 43),
    QPalette.ColorRole.WindowText: QColor(226, 226, 230),
    QPalette.ColorRole.Base: QColor(26, 27, 31),
    QPalette.ColorRole.AlternateBase: QColor(44, 45, 51),
    QPalette.ColorRole.ToolTipBase: QColor(250, 250, 235),
    QPalette.ColorRole.ToolTipText: QColor(20, 20, 20),
    QPalette.ColorRole.Text: QColor(226, 226, 230),
    QPalette.ColorRole.Button: QColor(52, 53, 60),
    QPalette.ColorRole.ButtonText: QColor(226, 226, 230),
    QPalette.ColorRole.BrightText: QColor(255, 90, 90),
    QPalette.ColorRole.Highlight: QColor(64, 160, 220),
    QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
    QPalette.ColorRole.Link: QColor(110, 190, 255),
    QPalette.ColorRole.PlaceholderText: QColor(140, 140, 150),
}


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), styled dark, with Clef's settings identity."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(preferences.ORGANISATION)
    app.setApplicationName(preferences.APPLICATION)
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 128))
    app.setPalette(palette)
    pg.setConfigOptions(antialias=False, imageAxisOrder="col-major")
    return app


def start(path: str | None = None):
    """The shown main window, on `path`, or on the demo at the very first start; work a
    crashed session left is offered first (the question does not block the window)."""
    make_application()
    from clef_app.gui.controller import AppController
    from clef_app.gui.file_actions import DEMO
    from clef_app.gui.main_window import MainWindow

    controller = AppController()
    window = MainWindow(controller)
    controller.setParent(window)
    window.show()
    if path:
        controller.open(path)
    elif not preferences.get("session/demo_shown") and DEMO.is_file():
        if controller.open_demo():
            preferences.put("session/demo_shown", True)
    else:
        window.status("File › Open Recording… (Ctrl+O) to begin, or Help › Open the Demo "
                      "Recording", 0)
    controller.offer_recovery()
    # what start-up built (modules, the window) lives as long as the app: full garbage
    # collections need not scan it again, which keeps their pauses short
    gc.freeze()
    return window


def run_gui(path: str | None = None) -> int:
    """Open the main window (see `start`) and run the event loop until it closes."""
    app = make_application()
    window = start(path)  # noqa: F841 - kept alive while the loop runs
    code = app.exec()
    if workers.any_stuck() or preload.running():
        # a job still in a step that cannot be interrupted (closing cancelled it and waited
        # STOP_WAIT_MS): end now rather than let Qt destroy its running thread (SIGABRT);
        # or a first import or the soundfont still loading on its own thread, left by a
        # cancelled worker (`clef_app.preload`): end without running C libraries' exit
        # handlers beneath it. Nothing is lost: every file is written atomically and the
        # window has closed.
        preferences.settings().sync()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
