"""The score view's context menu: edits of the selected notes, and the meter, key and
tempo from a bar on (asked for in a dialog)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Protocol

from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from clef_app.notation import note_edits as edits
from clef_app.notation.score import ScoreResult


class ScoreView(Protocol):
    """What the menu needs of the score view (which imports this module)."""

    document: Any
    result: ScoreResult | None
    selected: set[int]

    def request(self, edit) -> None: ...


def build_menu(view: ScoreView, note_id: int | None) -> QMenu:
    """The score's context menu for a clicked note (or for bar 1 when none)."""
    menu = QMenu(view)
    ids, r, notes = sorted(view.selected), view.result, view.document.sorted_notes()
    settings = view.document.settings
    bar = edits.bar_of(r, note_id) if note_id is not None else 1
    if ids:
        for text, fn in (
            ("Pitch up\tUp", lambda: edits.transpose(notes, ids, 1)),
            ("Pitch down\tDown", lambda: edits.transpose(notes, ids, -1)),
            ("Respell enharmonically\tJ", lambda: edits.respell(settings, ids, r)),
            ("Dotted\t.", lambda: edits.scale_length(notes, ids, Fraction(3, 2), r)),
            ("Insert rest before\t0", lambda: edits.insert_rest(notes, ids, r)),
            ("Delete\tDel", lambda: edits.delete(notes, ids)),
        ):
            menu.addAction(text, lambda fn=fn: view.request(fn()))
        lengths = menu.addMenu("Duration")
        for name, q in (("Sixteenth\t3", Fraction(1, 4)), ("Eighth\t4", Fraction(1, 2)),
                        ("Quarter\t5", Fraction(1)), ("Half\t6", Fraction(2)),
                        ("Whole\t7", Fraction(4))):
            lengths.addAction(name, lambda q=q: view.request(
                edits.set_length(notes, ids, q, r)))
        menu.addSeparator()
    menu.addAction(f"Time signature from bar {bar}…", lambda: _ask_meter(view, bar))
    menu.addAction(f"Key from bar {bar}…", lambda: _ask_key(view, bar))
    menu.addAction(f"Tempo from bar {bar}…", lambda: _ask_tempo(view, bar))
    return menu


def _ask_meter(view: ScoreView, bar: int) -> None:
    text, ok = QInputDialog.getText(view, "Time signature", f"From bar {bar}:",
                                    text=str(view.result.bar_at(_bar_pos(view, bar)).meter))
    if ok and text.strip():
        _request_checked(view, lambda: edits.set_meter_from(view.document.settings, bar, text))


def _ask_key(view: ScoreView, bar: int) -> None:
    text, ok = QInputDialog.getText(view, "Key", f"From bar {bar} (e.g. D major, F# minor):",
                                    text=view.result.key_at(bar))
    if ok and text.strip():
        _request_checked(view, lambda: edits.set_key_from(view.document.settings, bar, text))


def _ask_tempo(view: ScoreView, bar: int) -> None:
    start = _bar_pos(view, bar)
    current = view.result.tempo_map.bpm_at(float(start))
    bpm, ok = QInputDialog.getDouble(view, "Tempo", f"Quarter notes per minute from bar {bar}:",
                                     round(current, 1), 10, 400, 1)
    if ok:
        _request_checked(view, lambda: edits.set_tempo_from(view.document.settings, bar, bpm))


def _bar_pos(view: ScoreView, bar: int) -> Fraction:
    for b in view.result.bars:
        if b.number == bar:
            return b.start
    return Fraction(0)


def _request_checked(view: ScoreView, make) -> None:
    try:
        view.request(make())
    except ValueError as exc:
        QMessageBox.warning(view, "Score", str(exc))
