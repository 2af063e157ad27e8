"""The playback loop: a region marked on the time ruler, or the selected notes' span.

Marking a region turns looping on; the transport's Loop button turns it off and on again,
and with no region marked it loops the selected notes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from clef_app.gui.document import Document
from clef_app.gui.playback_controls import Playback, PlaybackControls
from clef_app.gui.spectrogram_view import SpectrogramView


class Looping(QObject):
    """Keeps the spectrogram's loop region, the Loop button and playback's loop agreed."""

    message = Signal(str)  # a hint for the status bar

    def __init__(self, document: Document, view: SpectrogramView, transport: PlaybackControls,
                 playback: Playback, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.view, self.playback = document, view, playback
        self.button = transport.loop_button
        view.loopChanged.connect(self.region_changed)
        transport.loopToggled.connect(self.toggled)

    def region_changed(self, start: float, end: float) -> None:
        has_loop = end > start
        if has_loop and not self.button.isChecked():
            self.button.setChecked(True)  # marking a region means: loop it
        self.playback.set_loop(start, end if self.button.isChecked() else start)
        if not has_loop:
            self.button.setChecked(False)

    def toggled(self, on: bool) -> None:
        region = self.view.loop_region()
        if on and region is None:
            if self.document.selected_notes():
                self.loop_selection()
                return
            self.message.emit("mark a loop: drag on the time ruler, or select notes and press L")
        self.view.loop.setVisible(on and region is not None)
        a, b = region or (0.0, 0.0)
        self.playback.set_loop(a, b if on else a)

    def loop_selection(self) -> None:
        notes = self.document.selected_notes()
        if notes:
            self.view.set_loop(min(n.onset for n in notes), max(n.offset for n in notes))
