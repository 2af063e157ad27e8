"""Reconciling a re-read with the passage's old notes: agreement keeps the old note, and
notes change only near a fix, where the re-read is confident."""

from clef_app.model.reconcile import REPLACE_ALL, Reconcile, reconcile
from clef_app.notation.events import NoteEvent

RULE = Reconcile(reach=1.0, drop_below=0.3, add_from=0.5)


def _n(onset: float, pitch: int, confidence: float) -> NoteEvent:
    return NoteEvent(onset, onset + 0.4, pitch, 80, confidence=confidence)


def test_a_note_both_readings_write_stays_as_it_was():
    old = [_n(1.00, 60, 0.1)]
    new = [_n(1.04, 60, 0.9)]  # the same note, 40 ms later
    assert reconcile(old, new, [1.2], RULE) == ([], [])


def test_near_a_fix_unsure_old_notes_go_and_confident_new_ones_come():
    sure_old, unsure_old = _n(1.0, 62, 0.6), _n(1.2, 64, 0.2)
    sure_new, unsure_new = _n(1.5, 67, 0.7), _n(1.6, 69, 0.4)
    removed, added = reconcile([sure_old, unsure_old], [sure_new, unsure_new], [1.1], RULE)
    assert removed == [unsure_old]
    assert added == [sure_new]


def test_far_from_every_fix_nothing_changes():
    old, new = [_n(5.0, 62, 0.05)], [_n(6.0, 67, 0.99)]
    assert reconcile(old, new, [1.0], RULE) == ([], [])
    assert reconcile(old, new, [], RULE) == (old, new)  # no fix: the whole passage is near


def test_one_old_note_pairs_with_one_new_note():
    old = [_n(1.00, 60, 0.9)]
    new = [_n(1.03, 60, 0.9), _n(0.98, 60, 0.9)]  # the nearer one is the old note
    assert reconcile(old, new, [1.0], RULE) == ([], [new[0]])


def test_replacing_all_is_the_old_behaviour():
    old, new = [_n(1.0, 60, 0.9)], [_n(1.0, 60, 0.1), _n(3.0, 50, 0.01)]
    assert reconcile(old, new, [9.0], REPLACE_ALL) == (old, new)
