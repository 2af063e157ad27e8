"""Transcribe Again in the app, offscreen, with the shipped model on the committed 6-s clip:
the notes the user marked as right, moved and drew stay, the one they deleted stays gone,
the rest of the marked region is reconciled with the re-read in one undo step that Undo
takes back whole."""

from pathlib import Path

import pytest

from clef_app.gui.reread import passage_of
from clef_app.model.location import find_checkpoint
from clef_app.notation import note_edits
from clef_app.notation.corrections import REREAD, Passage
from clef_app.notation.events import NoteEvent

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.skipif(find_checkpoint() is None, reason="no shipped checkpoint")


def test_the_passage_is_the_marked_region_else_the_selected_notes_box():
    a, b = NoteEvent(1.0, 1.5, 60), NoteEvent(2.0, 2.4, 67)
    assert passage_of((0.5, 3.0), [a]) == Passage(0.5, 3.0)
    box = passage_of(None, [a, b])
    assert (box.low, box.high) == (60, 67) and box.holds(a) and box.holds(b)
    assert passage_of(None, []) is None


def test_transcribe_again_keeps_the_fixes_in_one_undo_step(qtbot, tmp_path, monkeypatch):
    import torch

    from clef_app.gui.main_window import MainWindow

    torch.set_num_threads(1)
    import clef_app.model.reconcile as reconcile

    monkeypatch.setenv("CLEF_MODEL", str(find_checkpoint()))
    # the passage's notes are replaced outright: with the shipped reconciling rule a re-read
    # of this clip may rightly change nothing, and this test is about the app's undo step
    monkeypatch.setattr(reconcile, "RECONCILE", reconcile.REPLACE_ALL)
    win = MainWindow()
    qtbot.addWidget(win)
    doc = win.document
    assert win.controller.open(DATA / "opening.flac")  # its notes file comes beside it
    inside = [n for n in doc.sorted_notes() if 1.0 <= n.onset < 4.0]
    doc.set_selection([inside[2].id])
    win.named_actions["confirm"].trigger()  # K: mark as right
    doc.apply(note_edits.move(doc.sorted_notes(), [inside[0].id], 0.03, 0))
    drawn = NoteEvent(2.5, 2.9, 40, 70)
    doc.apply(note_edits.add(drawn))
    gone = max(inside[4:], key=lambda n: n.confidence)
    doc.apply(note_edits.delete(doc.sorted_notes(), [gone.id]))
    kept = [doc.notes[inside[2].id], doc.notes[inside[0].id], drawn]
    before = dict(doc.notes)
    steps = doc.undo_stack.count()
    win.spectrogram.set_loop(1.0, 4.0)
    with qtbot.waitSignal(win.controller.jobs.rereading.finished, timeout=120_000):
        win.named_actions["reread"].trigger()

    assert doc.undo_stack.count() == steps + 1 and doc.undo_stack.undoText() == REREAD
    for n in kept:
        assert doc.notes[n.id] == n
    assert not [n for n in doc.notes.values() if n.pitch == gone.pitch
                and abs(n.onset - gone.onset) <= 0.05]
    replaced = set(before) - set(doc.notes)
    assert all(1.0 <= before[i].onset < 4.0 for i in replaced)  # only the passage changes
    assert all(n.id in before or 1.0 <= n.onset < 4.0 for n in doc.notes.values())
    win.named_actions["undo"].trigger()
    assert doc.notes == before
    assert doc.corrections().touched >= {n.id for n in kept}
    win.named_actions["redo"].trigger()
    assert doc.undo_stack.undoText() == REREAD and set(before) - set(doc.notes) == replaced
    doc.undo_stack.setClean()
    win.close()


def test_a_reread_that_changes_nothing_says_so_and_adds_no_undo_step(qtbot):
    from clef_app.gui.main_window import MainWindow
    from clef_app.model.reread import Reread

    win = MainWindow()
    qtbot.addWidget(win)
    assert win.controller.open(DATA / "opening.flac")
    doc, job = win.document, win.controller.jobs.rereading
    before, steps = dict(doc.notes), doc.undo_stack.count()
    job._state = (doc.undo_stack.index(), steps)  # as `start` records it
    with qtbot.waitSignal(job.finished) as said:
        job._done(Reread(removed=[], added=[], locked=list(doc.notes.values())[:2]))
    assert said.args[0] == "Transcribe again: 2 of your notes kept; the model found nothing " \
                          "to change"
    assert doc.undo_stack.count() == steps and doc.notes == before
    win.close()
