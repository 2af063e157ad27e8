""""Why this note?": a right click or W on one selected note draws the model's map over its
segment of the spectrogram; Esc or another selection removes it. A tiny random-init model
stands in for the trained one (the plumbing, not the map's meaning, is under test)."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from clef_app.audio.logfreq import HIGH_EDGE, LOW_EDGE
from clef_app.config import FRAMES_PER_SECOND
from clef_app.gui.why_overlay import MAX_ALPHA, weights_to_rgba

from .mouse import SHIFT, at, click

SEGMENT_S = 2.56  # s: the model's segment (256 frames of 10 ms)


def _note(doc, pitch):
    return next(n for n in doc.notes.values() if n.pitch == pitch)


def _key(win, key):
    QTest.keyClick(win.spectrogram.graphics.viewport(), key)


def _shown_rect(overlay):
    """Where the map's image lies in data coordinates (s, pitch)."""
    image = overlay.image
    return image.mapRectToParent(image.boundingRect())


def test_weights_become_green_with_alpha_by_weight():
    w = np.array([[0.0, 0.25], [1.0, 0.0]])  # (rows, cols), row 0 lowest
    rgba = weights_to_rgba(w)
    assert rgba.shape == (2, 2, 4)  # (cols, rows, 4): x first, as the spectrogram image
    assert rgba[0, 1, 3] == MAX_ALPHA and rgba[0, 0, 3] == 0
    assert rgba[1, 0, 3] == round(0.5 * MAX_ALPHA)  # sqrt of a quarter of the strongest
    assert (rgba[..., 1] > rgba[..., 0]).all()


def test_why_is_disabled_without_a_model_and_says_why(window, monkeypatch):
    import clef_app.model.location as location

    monkeypatch.setattr(location, "find_checkpoint", lambda: None)
    window.document.set_selection({_note(window.document, 60).id})
    action = window.named_actions["why"]
    assert not action.isEnabled()
    assert "no trained model installed" in action.toolTip()


def test_why_needs_exactly_one_selected_note(window, tiny_checkpoint):
    view, doc, action = window.spectrogram, window.document, window.named_actions["why"]
    c4, e4 = _note(doc, 60), _note(doc, 64)
    window.update_model_actions()
    assert not action.isEnabled() and "select exactly one note" in action.toolTip()
    click(view, at(view, (c4.onset + c4.offset) / 2, 60))
    assert action.isEnabled()
    click(view, at(view, (e4.onset + e4.offset) / 2, 64), SHIFT)
    assert not action.isEnabled()


def test_right_click_why_draws_the_map_over_the_notes_segment_and_esc_removes_it(
        window, tiny_checkpoint, qtbot):
    view, doc, overlay = window.spectrogram, window.document, window.why_overlay
    g5 = _note(doc, 79)
    QTest.mouseClick(view.graphics.viewport(), Qt.MouseButton.RightButton,
                     Qt.KeyboardModifier.NoModifier, at(view, (g5.onset + g5.offset) / 2, 79))
    assert doc.selection == {g5.id}  # the right-clicked note is the one asked about
    menu = view.note_menu
    assert menu is not None and menu.isVisible()
    assert window.named_actions["why"] in menu.actions()
    with qtbot.waitSignal(window.jobs.why.finished, timeout=60_000) as done:
        window.named_actions["why"].trigger()
        menu.close()
    assert done.args[0]
    assert overlay.visible and overlay.image.isVisible() and overlay.label.isVisible()
    assert overlay.span == pytest.approx((0.0, SEGMENT_S))  # onset 2.2 s: segment 0
    rect = _shown_rect(overlay)
    half = 0.5 / FRAMES_PER_SECOND
    assert rect.left() == pytest.approx(-half) and rect.right() == pytest.approx(SEGMENT_S - half)
    assert rect.top() == pytest.approx(LOW_EDGE) and rect.bottom() == pytest.approx(HIGH_EDGE)
    assert overlay.image.image[..., 3].max() == MAX_ALPHA  # the strongest patch shows
    assert "decoder attention × patch evidence, segment 0.00–2.56 s" in overlay.label.toPlainText()
    window.activateWindow()  # the offscreen platform does not give it back after the popup
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    view.graphics.setFocus()
    _key(window, Qt.Key.Key_Escape)
    assert doc.selection == frozenset()
    assert not overlay.visible and not overlay.image.isVisible() and not overlay.label.isVisible()


def test_w_explains_a_note_in_a_later_segment_and_another_selection_clears_it(
        window, tiny_checkpoint, qtbot):
    view, doc, overlay = window.spectrogram, window.document, window.why_overlay
    late = view.editor.add_note(2.8, 72, 0.3)  # segment 1: 2.56-5.12 s
    assert doc.selection == {late.id}
    with qtbot.waitSignal(window.jobs.why.finished, timeout=60_000):
        _key(window, Qt.Key.Key_W)
        assert window.jobs.why.running and not window.named_actions["why"].isEnabled()
    assert overlay.span == pytest.approx((SEGMENT_S, 2 * SEGMENT_S))
    rect = _shown_rect(overlay)
    assert rect.left() == pytest.approx(SEGMENT_S - 0.5 / FRAMES_PER_SECOND)
    assert rect.width() == pytest.approx(SEGMENT_S)
    c4 = _note(doc, 60)
    click(view, at(view, (c4.onset + c4.offset) / 2, 60))
    assert doc.selection == {c4.id} and not overlay.visible


def test_a_result_for_a_note_no_longer_selected_is_dropped(window, tiny_checkpoint, qtbot):
    doc, overlay = window.document, window.why_overlay
    doc.set_selection({_note(doc, 64).id})
    window.jobs.explain_note()
    worker = window.jobs.why.job.worker
    assert worker is not None
    doc.set_selection(())  # the user moves on before the map arrives
    assert not window.jobs.why.running
    qtbot.waitUntil(lambda: worker.done, timeout=60_000)
    qtbot.wait(50)
    assert not overlay.visible


def test_a_log_frequency_models_map_lands_on_the_pitches_it_covers():
    from clef_app.audio.logfreq import N_ROWS, row_pitch
    from clef_app.config import FrontEndConfig
    from clef_app.gui.why_overlay import on_pitch_rows

    fe = FrontEndConfig(kind="logfreq")  # 224 rows from A0's lower edge to 8.1 kHz
    weights = np.zeros((14, 4))
    weights[0] = 1.0  # the lowest patch row: the image's lowest 16 of 224 rows
    lit = row_pitch(np.arange(N_ROWS))[on_pitch_rows(weights, fe)[:, 0] > 0]
    band = 16 * (fe.high_pitch - fe.low_pitch) / fe.image_height  # semitones per patch row
    assert lit.min() < fe.low_pitch + 0.5 and abs(lit.max() - (fe.low_pitch + band)) < 0.5
    mel = row_pitch(np.arange(N_ROWS))[on_pitch_rows(weights)[:, 0] > 0]
    assert mel.max() > lit.max() + 10  # a mel model's lowest band spans far more keys


def test_the_recording_is_resampled_on_the_worker_not_in_the_window(window, tiny_checkpoint,
                                                                    qtbot, monkeypatch):
    """A long recording's resampling to 16 kHz held the window when "Why this note?" began;
    it runs on the job's worker (where a close's cancel stops it between blocks)."""
    import threading

    from clef_app.gui import document

    doc, threads = window.document, []
    whole = document.resample

    def watched(*args):
        threads.append(threading.current_thread())
        return whole(*args)

    monkeypatch.setattr(document, "resample", watched)
    doc._samples_16k = None  # as for a recording no view has resampled yet
    doc.set_selection({_note(doc, 64).id})
    with qtbot.waitSignal(window.jobs.why.finished, timeout=60_000):
        window.jobs.explain_note()
    assert threads and threading.main_thread() not in threads
