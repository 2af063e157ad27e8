"""The Model menu and the status bar's model corner: which model is active, adapting it.

Model › Adapt to This Recording / Adapt to This and Other Projects… run the controller's
adaptation; Use Bundled Model and Use My Personal Model switch the active model (one
checked at a time); Cancel Adapting stops a run. The status bar shows the active model
("Model: bundled") and, while adapting, a progress bar with the time left and Cancel.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QToolButton,
    QWidget,
)

from clef_app.gui import file_actions
from clef_app.gui.axes import format_time
from clef_app.gui.controller import AppController

ADAPT_TIP = ("fine-tune a personal model on the notes you corrected (the ViT stays frozen), "
             "in the background; the bundled model is never changed")


def build_menu(window: QMainWindow, action) -> None:
    """The Model menu; `action` is menus._action (name, text, slot, keys, tip, checkable)."""
    c: AppController = window.controller
    menu = window.menus["model"] = window.menuBar().addMenu("&Model")
    menu.setToolTipsVisible(True)
    menu.addAction(action(window, "adapt", "&Adapt to This Recording", c.adapt, (),
                          ADAPT_TIP))
    menu.addAction(action(window, "adapt_more", "Adapt to This and &Other Projects…",
                          lambda: _adapt_more(window), (), ADAPT_TIP + "; pick the other "
                          "Clef projects whose corrections count too"))
    menu.addAction(action(window, "cancel_adapt", "&Cancel Adapting", c.adapting.cancel, (),
                          "stop adapting (nothing is written)"))
    menu.addSeparator()
    group = QActionGroup(window)
    for name, text, slot, tip in (
            ("use_bundled", "Use &Bundled Model", c.use_bundled_model,
             "transcribe with the model Clef ships with"),
            ("use_personal", "Use My &Personal Model", c.use_personal_model,
             "transcribe with your newest personal model")):
        item = action(window, name, text, slot, (), tip, True)
        group.addAction(item)
        menu.addAction(item)
    menu.aboutToShow.connect(lambda: update_menu(window))
    for signal in (c.model.changed, c.adapting.started, c.adapting.finished,
                   c.adapting.failed):
        signal.connect(lambda *_: update_menu(window))
    update_menu(window)


def update_menu(window: QMainWindow) -> None:
    """Check the active model and enable what can run now."""
    c: AppController = window.controller
    a = window.named_actions
    latest = c.model.latest_personal()
    personal = c.model.personal
    a["use_bundled"].setChecked(not personal)
    a["use_personal"].setChecked(personal)
    a["use_personal"].setEnabled(latest is not None)
    adapted = c.model.description().removeprefix("personal, ")
    a["use_personal"].setText(f"Use My &Personal Model ({adapted})" if personal
                              else "Use My &Personal Model")
    running = c.adapting.running
    a["adapt"].setEnabled(not running)
    a["adapt_more"].setEnabled(not running)
    a["cancel_adapt"].setEnabled(running)


def _adapt_more(window: QMainWindow) -> None:
    names, _ = QFileDialog.getOpenFileNames(window, "Adapt to These Projects Too",
                                            file_actions.last_dir(),
                                            file_actions.PROJECT_FILTER)
    if names:
        window.controller.adapt([Path(n) for n in names])


class ModelStatus(QWidget):
    """The status bar's model corner: "Model: …", and while adapting its progress."""

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.label = QLabel()
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFixedWidth(300)
        self.cancel = QToolButton(text="Cancel", toolTip="stop adapting (nothing is written)")
        self.cancel.clicked.connect(controller.adapting.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.progress, self.cancel, self.label):
            layout.addWidget(w)
        a = controller.adapting
        a.started.connect(lambda: self._show(True))
        a.progress.connect(self._progress)
        a.finished.connect(lambda _path: self._show(False))
        a.failed.connect(lambda _msg: self._show(False))
        controller.model.changed.connect(lambda _text: self._label())
        self._show(False)
        self._label()

    def _label(self) -> None:
        text = self.controller.model.description()
        self.label.setText(f"Model: {text}")
        self.label.setToolTip(f"transcribing with {self.controller.model.path} "
                              "(Model menu: adapt it, or switch)")

    def _show(self, on: bool) -> None:
        self.progress.setRange(0, 0 if on else 1000)  # busy until the first progress line
        self.progress.setFormat("adapting: loading the model…")
        self.progress.setVisible(on)
        self.cancel.setVisible(on)

    def _progress(self, fraction: float) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(fraction * 1000))
        left = self.controller.adapting.remaining()
        self.progress.setFormat(f"adapting %p%, about {format_time(left)} left"
                                if left is not None and fraction < 1.0 else "adapting %p%")
