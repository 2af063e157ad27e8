"""Preferences: spectrogram look and audio devices (stored in QSettings)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from clef_app.audio.logfreq import SCALES
from clef_app.gui import preferences

SYSTEM_DEFAULT = "System default"


def device_names() -> tuple[list[str], list[str], str]:
    """(input names, output names, error) from the audio layer; never raises."""
    try:
        from clef_app.audio.devices import list_devices

        devices = list_devices()
    except Exception as exc:  # PortAudio missing or failing: the dialog still opens
        return [], [], f"no audio: {exc}"
    return ([d.label for d in devices.inputs], [d.label for d in devices.outputs],
            devices.error)


def device_index(label: str, kind: str) -> int | None:
    """The PortAudio index of a device label saved in preferences (None: default/missing)."""
    if not label:
        return None
    try:
        from clef_app.audio.devices import list_devices

        devices = list_devices()
    except Exception:  # PortAudio missing or failing: no device to remember
        return None
    for d in devices.inputs if kind == "input" else devices.outputs:
        if d.label == label:
            return d.index
    return None


class SettingsDialog(QDialog):
    """Edits the preferences; `accept()` writes them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clef Preferences")
        self.colormap = QComboBox()
        self.colormap.addItems(preferences.COLORMAPS)
        self.colormap.setCurrentText(preferences.get("spectrogram/colormap"))
        self.db_range = QDoubleSpinBox(minimum=20.0, maximum=120.0, singleStep=5.0, suffix=" dB")
        self.db_range.setValue(preferences.get("spectrogram/db_range"))
        self.db_range.setToolTip("how far below the loudest sound the colours reach")
        self.scale = QComboBox()
        self.scale.addItem("Log-frequency (what the model reads)", SCALES[0])
        self.scale.addItem("Mel (coarse in the bass)", SCALES[1])
        chosen = self.scale.findData(preferences.get("spectrogram/scale"))
        self.scale.setCurrentIndex(max(0, chosen))
        self.scale.setToolTip("log-frequency gives every key the same height, down to A0 "
                              "(the bundled model reads it); mel was earlier models' input")
        inputs, outputs, error = device_names()
        self.input_device = self._device_combo(inputs, preferences.get("audio/input_device"))
        self.output_device = self._device_combo(outputs, preferences.get("audio/output_device"))

        look = QGroupBox("Spectrogram")
        form = QFormLayout(look)
        form.addRow("Colour map", self.colormap)
        form.addRow("Range", self.db_range)
        form.addRow("Pitch axis", self.scale)
        audio = QGroupBox("Audio devices")
        form = QFormLayout(audio)
        form.addRow("Input (recording)", self.input_device)
        form.addRow("Output (playback)", self.output_device)
        if error:
            note = QLabel(error)
            note.setWordWrap(True)
            form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (look, audio, buttons):
            layout.addWidget(w)

    @staticmethod
    def _device_combo(names: list[str], current: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(SYSTEM_DEFAULT, "")
        for name in names:
            combo.addItem(name, name)
        if current and current not in names:
            combo.addItem(f"{current} (not connected)", current)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def accept(self) -> None:
        preferences.put("spectrogram/colormap", self.colormap.currentText())
        preferences.put("spectrogram/db_range", float(self.db_range.value()))
        preferences.put("spectrogram/scale", self.scale.currentData())
        preferences.put("audio/input_device", self.input_device.currentData() or "")
        preferences.put("audio/output_device", self.output_device.currentData() or "")
        super().accept()
