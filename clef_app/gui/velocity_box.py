"""The toolbar's velocity box: the selected notes' velocity, as a note inspector shows it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractSpinBox, QSpinBox

from clef_app.notation.events import NoteEvent

NO_VALUE = 0  # the box's value when no single velocity applies (shown as text, not a number)
MIXED = "mixed"


class VelocityBox(QSpinBox):
    """Blank and disabled with nothing selected; the velocity of the selection; "mixed"
    when the selected notes differ. Typing a value sets every selected note to it; with a
    mixed selection the arrows make every note louder or softer by the same step."""

    edited = Signal(int)  # a velocity (1..127) the user chose for the selection
    stepped = Signal(int)  # arrow steps on a mixed selection (relative change)

    def __init__(self) -> None:
        super().__init__(minimum=NO_VALUE, maximum=127)
        self.setToolTip("velocity of the selected notes (Alt+wheel on the spectrogram)")
        self.setKeyboardTracking(False)  # a typed value applies on Enter, not digit by digit
        self._syncing = False
        self.valueChanged.connect(self._changed)
        self.show_notes([])

    @property
    def mixed(self) -> bool:
        return self.isEnabled() and self.value() == NO_VALUE

    def show_notes(self, notes: list[NoteEvent]) -> None:
        """Show the velocity of these (selected) notes."""
        velocities = {n.velocity for n in notes}
        single = len(velocities) == 1
        self._syncing = True
        self.setEnabled(bool(notes))
        self.setSpecialValueText(MIXED if notes else " ")  # " ": blank, not the number 0
        self.setMinimum(1 if single else NO_VALUE)
        self.setValue(velocities.pop() if single else NO_VALUE)
        self._syncing = False

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802
        if self.mixed:  # at the minimum, yet both ways make sense
            return (QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
                    | QAbstractSpinBox.StepEnabledFlag.StepDownEnabled)
        return super().stepEnabled()

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if self.mixed:
            self.stepped.emit(steps)
        else:
            super().stepBy(steps)

    def _changed(self, value: int) -> None:
        if not self._syncing and value != NO_VALUE:
            self.edited.emit(value)
