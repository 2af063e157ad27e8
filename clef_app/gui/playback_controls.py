"""Listening: the transport (play/pause, seek, loop, speed, balance) over the Qt-free Player.

The audio callback lives in `clef_app.audio.playback.Player` and only copies buffers; here a
QTimer polls `position()` for the cursor. The synthesised notes are re-rendered on a worker
shortly after the notes stop changing. Without an output device the controls stay usable
(seek, loop) and `message` says why nothing is heard.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from clef_app.gui import preferences
from clef_app.gui.axes import format_time
from clef_app.gui.document import Document
from clef_app.gui.workers import GeneratorWorker
from clef_app.notation.steps import Cancelled, stop_when

CURSOR_MS = 30  # ms between cursor updates (~33 per second)
RESYNTH_MS = 600  # ms of quiet after the last note edit before the notes are re-rendered


class Playback(QObject):
    """Owns the Player; follows the document's audio and notes."""

    positionChanged = Signal(float)  # seconds of source time
    stateChanged = Signal(bool)  # playing
    message = Signal(str)  # for the status bar

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.player = None
        self.error = ""
        self._open_player()
        self._synth_worker: GeneratorWorker | None = None
        self._timer = QTimer(self, interval=CURSOR_MS)
        self._timer.timeout.connect(self._tick)
        self._resynth = QTimer(self, interval=RESYNTH_MS, singleShot=True)
        self._resynth.timeout.connect(self._render_synth)
        self._loop: tuple[float, float] | None = None
        self._closed = False
        self._partial = False  # the player took a recording still decoding
        document.audioChanged.connect(self._audio_changed)
        document.audioLoaded.connect(self._audio_loaded)
        document.notesChanged.connect(self._resynth.start)

    def _open_player(self) -> None:
        from clef_app.gui.settings_dialog import device_index

        try:
            from clef_app.audio.playback import Player

            device = device_index(preferences.get("audio/output_device"), "output")
            self.player = Player(device)
            self.error = self.player.error
            self.player.set_speed(preferences.get("playback/speed") / 100.0)
            self.player.set_mix(preferences.get("playback/balance"))
        except Exception as exc:  # PortAudio missing or broken: everything else still works
            self.player, self.error = None, f"no audio output: {exc}"

    def reopen(self) -> None:
        """Use the output device now chosen in the preferences."""
        if self.player is not None:
            self.pause()
            self.player.close()
        self._open_player()
        self._audio_changed()

    @property
    def available(self) -> bool:
        return self.player is not None and self.player.available

    @property
    def playing(self) -> bool:
        return self.player is not None and self.player.playing

    def position(self) -> float:
        return self.player.position() if self.player is not None else 0.0

    # -- sources -----------------------------------------------------------------------
    def _audio_changed(self) -> None:
        if self.player is None:
            return
        self.player.pause()
        self._partial = self.doc.loading  # the array still fills in (`gui.decoding`)
        samples = self.doc.samples
        if samples is None:
            samples = np.zeros(self.doc.sample_rate, dtype=np.float32)
        self.player.set_sources(samples, None, self.doc.sample_rate)
        self._apply_loop()
        self.stateChanged.emit(False)
        self.positionChanged.emit(0.0)
        self._resynth.start()

    def _audio_loaded(self) -> None:
        """A recording that decoded in the background is complete. The player plays the
        document's own array, filled in place, unless the device refused its rate: then its
        copy was resampled from what had arrived, and is made again where playback was."""
        if not self._partial or self.player is None or self.player.rate == self.doc.sample_rate:
            return
        at, playing = self.position(), self.playing
        self._audio_changed()
        self.seek(at)
        if playing:
            self.play()

    def _render_synth(self) -> None:
        if self.player is None or self.doc.samples is None or self._closed:
            return
        from clef_app.audio.playback_sources import render_for_playback

        # at the player's rate (the device's, which may not be the recording's): then
        # handing it over resamples nothing on this thread
        notes, rate, seconds = self.doc.sorted_notes(), self.player.rate, self.doc.duration
        if self._synth_worker is not None:
            self._synth_worker.cancel()

        def job(cancelled):
            yield None
            if not notes:
                return np.zeros(int(seconds * rate), dtype=np.float32)
            with stop_when(cancelled):  # closing the app stops a long rendering at once
                try:
                    return render_for_playback(notes, rate, seconds)
                except Cancelled:
                    return None

        worker = GeneratorWorker(job, name="synth")
        worker.finished.connect(lambda audio, w=worker: self._synth_done(w, audio, rate))
        worker.failed.connect(lambda msg: self.message.emit(f"cannot synthesise the notes: {msg}"))
        self._synth_worker = worker.start()

    def _synth_done(self, worker: GeneratorWorker, audio, rate: int) -> None:
        if worker is not self._synth_worker or audio is None or self.player is None:
            return
        self._synth_worker = None
        if rate != self.player.rate:  # another device meanwhile: render at its rate
            self._resynth.start()
            return
        self.player.set_synth(audio, rate)
        self._apply_loop()

    # -- transport ---------------------------------------------------------------------
    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def play(self, start: float | None = None) -> None:
        if not self.available:
            self.message.emit(f"{self.error or 'no audio output'}: playback is off")
            return
        try:
            self.player.play(start)
        except Exception as exc:  # PortAudioError and what a dying device raises: shown
            self.message.emit(str(exc))
            return
        self._timer.start()
        self.stateChanged.emit(True)

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()
        self._timer.stop()
        self.positionChanged.emit(self.position())
        self.stateChanged.emit(False)

    def seek(self, seconds: float) -> None:
        if self.player is None:
            return
        self.player.seek(max(0.0, min(seconds, self.doc.duration)))
        self.positionChanged.emit(self.position())

    def _tick(self) -> None:
        self.positionChanged.emit(self.position())
        if not self.playing:
            self._timer.stop()
            self.stateChanged.emit(False)

    def set_loop(self, start: float, end: float) -> None:
        """Loop [start, end) s; end <= start ends looping."""
        self._loop = (start, end) if end > start else None
        self._apply_loop()

    def _apply_loop(self) -> None:
        if self.player is None:
            return
        if self._loop is None:
            self.player.clear_loop()
        else:
            self.player.set_loop(*self._loop)

    def set_speed(self, percent: int) -> None:
        if self.player is not None:
            self.player.set_speed(percent / 100.0)

    def set_balance(self, balance: float) -> None:
        if self.player is not None:
            self.player.set_mix(balance)

    def close(self) -> None:
        self._closed = True
        self._timer.stop()
        self._resynth.stop()
        if self.player is not None:
            self.player.close()


class PlaybackControls(QWidget):
    """Toolbar widget: play/pause, time, loop, speed and the original/notes balance."""

    loopToggled = Signal(bool)

    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        self.play_button = QToolButton(toolTip="Play / pause (Space)")
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._state_changed(False)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.setFixedWidth(34)
        self.play_button.clicked.connect(playback.toggle)
        self.time_label = QLabel("0:00.00")
        self.time_label.setMinimumWidth(120)
        self.time_label.setToolTip("playback position / length")
        self.loop_button = QToolButton(text="⟲ Loop", checkable=True,
                                       toolTip="Loop the marked region (drag on the time ruler,"
                                               " or L to loop the selected notes)")
        self.loop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_button.toggled.connect(self.loopToggled)
        self.speed = QSpinBox(minimum=50, maximum=100, singleStep=5, suffix=" %")
        self.speed.setToolTip("playback speed (pitch unchanged)")
        self.speed.setFixedWidth(72)
        self.speed.setValue(preferences.get("playback/speed"))
        self.speed.valueChanged.connect(self._speed_changed)
        self.balance = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
        self.balance.setFixedWidth(110)
        self.balance.setToolTip("what you hear: the recording (left), both (middle), "
                                "the transcribed notes (right)")
        self.balance.setValue(int(round(100 * preferences.get("playback/balance"))))
        self.balance.valueChanged.connect(self._balance_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.play_button, self.time_label, self.loop_button, QLabel("Speed"),
                  self.speed, QLabel("Recording"), self.balance, QLabel("Notes")):
            layout.addWidget(w)
        playback.stateChanged.connect(self._state_changed)
        playback.positionChanged.connect(self._position_changed)
        playback.set_speed(self.speed.value())
        playback.set_balance(self.balance.value() / 100.0)

    def _state_changed(self, playing: bool) -> None:
        """The style's own play and pause icons: no font needs a glyph for them (U+23F8,
        the pause sign, is missing from common fonts and showed as a box)."""
        icon = (QStyle.StandardPixmap.SP_MediaPause if playing
                else QStyle.StandardPixmap.SP_MediaPlay)
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")  # what screen readers say

    def _position_changed(self, seconds: float) -> None:
        total = self.playback.doc.duration
        self.time_label.setText(f"{format_time(seconds, 0.01)} / {format_time(total, 1)}")

    def _speed_changed(self, percent: int) -> None:
        self.playback.set_speed(percent)
        preferences.put("playback/speed", percent)

    def _balance_changed(self, value: int) -> None:
        self.playback.set_balance(value / 100.0)
        preferences.put("playback/balance", value / 100.0)
