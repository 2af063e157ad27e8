"""The live-input panel (dock content): device, record/stop, level, scrolling spectrogram, notes.

Friture's habit: the PortAudio callback (in `clef_app.audio.live.LiveInput`) only copies
into a ring buffer; this panel's 40-Hz timer pulls through `LiveSession.pump()` and redraws.
The model decodes on `LiveTranscription`'s own thread; only NoteEvents and numpy arrays
come back. The input stream is open only while the panel is visible or recording.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clef_app.audio.devices import AudioUnavailable, DeviceList, list_devices
from clef_app.audio.live import LiveInput, LiveSession, LiveTranscription
from clef_app.audio.live_transcription import checkpoint_stream_factory, transcription_unavailable
from clef_app.audio.logfreq import HIGH_EDGE, LOW_EDGE, N_ROWS, mel_on_rows
from clef_app.config import FRAMES_PER_SECOND
from clef_app.gui import preferences
from clef_app.gui.axes import PitchAxis, format_time
from clef_app.gui.level_meter import METER_FLOOR, LevelMeter
from clef_app.gui.model_choice import find_model
from clef_app.gui.note_overlay import NotesItem
from clef_app.gui.spectrogram_view import colormap
from clef_app.notation.events import NoteEvent

SILENCE_DB = -100.0  # dB: what the live view shows before any audio arrives
TICK_MS = 25  # ms: the redraw timer; 40 Hz nominal keeps >= 30 frames/s on a busy CPU
WINDOW_SECONDS = 10.0  # s of spectrogram shown
BACKGROUND = QColor(14, 14, 18)


def default_recordings_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local/share/Clef") / "recordings"


class LivePanel(QWidget):
    """Records from an input device into a FLAC file while transcribing it live.

    Args:
        document: the main window's document (not changed here: the window decides what
            to do with `recordingFinished`, e.g. open the file and take `recorded_notes`).
        devices: what PortAudio offers (default: asked now); an empty list means no device.
        recordings_dir: where takes are written (default: the app data folder).
        stream_factory: makes a model stream (default: the installed checkpoint; None found
            means live transcription is off and the panel says why).
    """

    recordingFinished = Signal(str)  # path of the FLAC file, after the last notes arrived
    liveNotes = Signal(list)  # NoteEvents completed since the last emission (recording time)

    def __init__(self, document=None, parent: QWidget | None = None, *,
                 devices: DeviceList | None = None, recordings_dir: str | Path | None = None,
                 stream_factory=None) -> None:
        super().__init__(parent)
        self.document = document
        self.devices = devices if devices is not None else list_devices()
        self.recordings_dir = Path(recordings_dir) if recordings_dir else default_recordings_dir()
        self.transcription_off = "" if stream_factory is not None else transcription_unavailable()
        self.stream_factory = stream_factory or (  # the active model at each take
            None if self.transcription_off
            else lambda: checkpoint_stream_factory(find_model()[0])())
        self.input: LiveInput | None = None
        self.session: LiveSession | None = None
        self.recorded_notes: list[NoteEvent] = []
        self._path: Path | None = None
        self._finishing = False
        self._record_t0 = 0.0  # panel time (s) at which the current take began
        self._frames_total = 0
        self._spec = np.full((int(WINDOW_SECONDS * FRAMES_PER_SECOND), N_ROWS), SILENCE_DB,
                             dtype=np.float32)
        self.redraws = 0
        self._build()
        self._fill_devices()
        self.timer = QTimer(self, interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 460)  # a side dock, not half the window

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.device_box = QComboBox()
        self.device_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.device_box.currentIndexChanged.connect(self._device_chosen)
        self.rescan = QToolButton(text="Rescan", toolTip="Look for input devices again")
        self.rescan.clicked.connect(lambda: self.refresh_devices(rescan=True))
        self.record_button = QPushButton("● Record")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record from the input (kept as FLAC) and transcribe live")
        self.record_button.toggled.connect(self._record_toggled)
        self.meter = LevelMeter()
        self.clock = QLabel("0:00")
        self.clock.setMinimumWidth(44)
        grid = QGridLayout()
        grid.addWidget(QLabel("Input"), 0, 0)
        grid.addWidget(self.device_box, 0, 1, 1, 2)
        grid.addWidget(self.rescan, 0, 3)
        grid.addWidget(self.record_button, 1, 0, 1, 1)
        grid.addWidget(self.meter, 1, 1, 1, 2)
        grid.addWidget(self.clock, 1, 3)
        grid.setColumnStretch(1, 1)

        self.plot = pg.PlotWidget(axisItems={"left": PitchAxis()}, enableMenu=False)
        self.plot.setBackground(BACKGROUND)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "seconds")
        self.plot.setMinimumSize(300, 220)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.image.setLookupTable(colormap(preferences.get("spectrogram/colormap"))
                                  .getLookupTable(nPts=256))
        self.notes_item, self.sounding_item = NotesItem(), NotesItem()
        self.sounding_item.provisional = True  # drawn lighter: may still change
        self.plot.addItem(self.notes_item)
        self.plot.addItem(self.sounding_item)
        self.plot.setYRange(LOW_EDGE, HIGH_EDGE, padding=0)  # y is the pitch, as the workspace's

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(grid)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        self._draw_spectrogram()

    # -- devices ---------------------------------------------------------------------------
    def refresh_devices(self, rescan: bool = False) -> None:
        """Ask PortAudio again (only while no stream is open)."""
        if self.recording:
            return
        self.stop_input()
        self.devices = list_devices(refresh=rescan)
        self._fill_devices()
        if self.isVisible():
            self.start_input()

    def _fill_devices(self) -> None:
        self.device_box.blockSignals(True)
        self.device_box.clear()
        for d in self.devices.inputs:
            self.device_box.addItem(d.label, d.index)
        saved = preferences.get("audio/input_device")
        labels = [d.label for d in self.devices.inputs]
        default = [d.label for d in self.devices.inputs if d.index == self.devices.default_input]
        pick = saved if saved in labels else (default[0] if default else None)
        if pick is not None:
            self.device_box.setCurrentIndex(labels.index(pick))
        self.device_box.blockSignals(False)
        problem = self.devices.input_message
        self.device_box.setEnabled(not problem)
        if problem:
            self.device_box.addItem("No input device")
        self.record_button.setEnabled(not problem)
        self._say(f"{_capital(problem)}: recording is off. Everything else in Clef works."
                  if problem else self._idle_text())

    def _device_chosen(self, _index: int) -> None:
        label = self.device_box.currentText()
        if label and self.device_box.currentData() is not None:
            preferences.put("audio/input_device", label)
        if self.input is not None and not self.recording:
            self.stop_input()
            self.start_input()

    @property
    def device(self) -> int | None:
        return self.device_box.currentData()

    # -- input stream ------------------------------------------------------------------------
    def start_input(self) -> bool:
        """Open the chosen device and start drawing; False (and a message) if it fails."""
        if self.input is not None:
            return True
        if self.devices.input_message or self.device is None:
            return False
        live = LiveInput(self.device)
        try:
            live.start()
        except AudioUnavailable as exc:
            self.record_button.setEnabled(False)
            self._say(f"{_capital(str(exc))}. Recording is off; choose another input.")
            return False
        self.input, self.session = live, LiveSession(live)
        self.record_button.setEnabled(True)
        self._say(self._idle_text())
        self.timer.start()
        return True

    def stop_input(self) -> None:
        if self.recording:
            return
        self.timer.stop()
        if self.input is not None:
            self.input.stop()
        self.input = self.session = None
        self.meter.set_level(METER_FLOOR)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.start_input()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.stop_input()

    def shutdown(self) -> None:
        """Stop recording and close the device (the main window calls this when it closes)."""
        self.stop_recording()
        self._finishing = False
        self.timer.stop()
        if self.input is not None:
            self.input.stop()
        self.input = self.session = None

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    # -- recording ---------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.session is not None and (self.session.recording or self._finishing)

    def _record_toggled(self, on: bool) -> None:
        if on and not self.recording:
            if not self.start_recording():
                self.record_button.setChecked(False)
        elif not on and self.recording:
            self.stop_recording()

    def start_recording(self) -> bool:
        if not self.start_input():
            return False
        stamp = time.strftime("%Y-%m-%d %H.%M.%S")
        self._path = self.recordings_dir / f"Recording {stamp}.flac"
        for n in range(2, 100):  # two takes in one second: the second is "(2)"
            if not self._path.exists() and not self._path.is_symlink():
                break
            self._path = self.recordings_dir / f"Recording {stamp} ({n}).flac"
        transcription = None
        if self.stream_factory is not None:
            transcription = LiveTranscription(self.stream_factory, self.input.rate)
        try:
            self.session.start_recording(self._path, transcription)
        except Exception as exc:  # the folder is not writable, the disk is full...
            self._say(f"Cannot record to {self._path}: {exc}")
            return False
        self.recorded_notes = []
        self._record_t0 = self._frames_total / FRAMES_PER_SECOND
        self.notes_item.set_notes({})
        self.record_button.setText("■ Stop")
        self.record_button.setChecked(True)
        self.device_box.setEnabled(False)
        self.rescan.setEnabled(False)
        return True

    def stop_recording(self) -> None:
        """Close the file; `recordingFinished` follows once the last segment is decoded."""
        if self.session is None or not self.session.recording:
            return
        self.session.stop_recording()
        self._finishing = True
        self.record_button.setEnabled(False)
        self.record_button.setText("● Record")
        self._say("Finishing: decoding the last segment…")
        self._poll_finished()

    def _poll_finished(self) -> None:
        tr = self.session.transcription if self.session is not None else None
        if tr is not None and not tr.done:
            return
        self._finishing = False
        if tr is not None:
            self._take_notes()
        self.record_button.setChecked(False)
        self.record_button.setEnabled(True)
        self.device_box.setEnabled(True)
        self.rescan.setEnabled(True)
        path = str(self._path)
        self._say(f"Saved {Path(path).name} ({len(self.recorded_notes)} notes). "
                  + (tr.error if tr is not None and tr.error else ""))
        self.recordingFinished.emit(path)
        if not self.isVisible():
            self.stop_input()

    # -- the timer's pull ------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.session is None:
            return
        pump = self.session.pump()
        self.meter.set_level(pump.level_dbfs)
        n = len(pump.frames)
        if n:
            self._frames_total += n
            keep = min(n, len(self._spec))
            self._spec = np.roll(self._spec, -keep, axis=0)
            self._spec[-keep:] = mel_on_rows(pump.frames[-keep:])  # on the workspace's rows
        self._take_notes(pump.notes, pump.sounding)
        self._draw_spectrogram()
        if self.session.recording:
            self.clock.setText(format_time(self.session.recorder.seconds))
            self._say(self._recording_text())
        elif self._finishing:
            self._poll_finished()

    def _take_notes(self, notes: list[NoteEvent] | None = None,
                    sounding: list[NoteEvent] | None = None) -> None:
        tr = self.session.transcription if self.session is not None else None
        if notes is None and tr is not None:
            notes, sounding = tr.take()
        if notes:
            self.recorded_notes += notes
            self.liveNotes.emit(list(notes))
            self.notes_item.set_notes(self._placed(self.recorded_notes))
        self.sounding_item.set_notes(self._placed(sounding or []))

    def _placed(self, notes: list[NoteEvent]) -> dict[int, NoteEvent]:
        """Notes moved from recording time to the panel's time axis, keyed by position."""
        from dataclasses import replace

        t0 = self._record_t0
        return {i: replace(n, onset=n.onset + t0, offset=n.offset + t0, id=i)
                for i, n in enumerate(notes)}

    def _draw_spectrogram(self) -> None:
        end = self._frames_total / FRAMES_PER_SECOND
        db_range = float(preferences.get("spectrogram/db_range"))
        # silence (the -100 dB fill, or no device) stays dark instead of filling the range
        top = max(float(self._spec.max()), SILENCE_DB + db_range)
        floor = top - db_range
        self.image.setImage(self._spec.T, autoLevels=False, levels=(floor, max(top, floor + 1)))
        self.image.setRect(QRectF(end - WINDOW_SECONDS - 0.5 / FRAMES_PER_SECOND, LOW_EDGE,
                                  WINDOW_SECONDS, HIGH_EDGE - LOW_EDGE))
        self.plot.setXRange(end - WINDOW_SECONDS, end, padding=0)
        self.redraws += 1

    # -- messages ------------------------------------------------------------------------------
    def _idle_text(self) -> str:
        if self.transcription_off:
            return f"Ready to record. Live transcription is off: {self.transcription_off}."
        return "Ready to record; notes appear while you play."

    def _recording_text(self) -> str:
        tr = self.session.transcription
        drops = self.input.dropped_frames if self.input is not None else 0
        parts = [f"Recording to {self._path.name}"]
        if tr is not None:
            parts.append(tr.error or f"{len(self.recorded_notes)} notes")
            lat = tr.log.first[-20:]
            if lat:
                parts.append(f"latency {np.median(lat):.1f} s")
        else:
            parts.append(f"live transcription off: {self.transcription_off}")
        if drops:
            parts.append(f"{drops} samples dropped")
        return " · ".join(parts)

    def _say(self, text: str) -> None:
        self.status.setText(text)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
