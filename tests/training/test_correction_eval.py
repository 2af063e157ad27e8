"""The simulated user's bookkeeping: which notes are errors, which it fixes first, what the
document remembers of the fixes, and how corrections saved are counted."""

from clef_app.notation.events import NoteEvent
from clef_app.training.correction_eval import churn, errors, fix_by_hand, summary

REF = [NoteEvent(1.0, 1.5, 60), NoteEvent(1.5, 2.0, 64), NoteEvent(2.0, 2.5, 67)]


def test_wrong_and_missing_notes_and_the_first_k_fixed_by_hand():
    est = [NoteEvent(1.02, 1.5, 60), NoteEvent(1.3, 1.6, 61), NoteEvent(2.2, 2.5, 67)]
    found = errors(REF, est)
    assert [n.pitch for n in found.wrong] == [61, 67]  # 67 is 200 ms late: wrong
    assert [(n.onset, n.pitch) for n in found.missing] == [(1.5, 64), (2.0, 67)]
    assert found.count == 4
    first = found.first(2)
    assert [n.pitch for n in first.wrong] == [61] and [n.pitch for n in first.missing] == [64]
    notes, fixes = fix_by_hand(est, first)
    assert errors(REF, notes).count == 2  # each fix by hand removes one error
    assert fixes.deleted == (est[1],)
    assert {n.id for n in notes if n.id in fixes.touched} == {
        n.id for n in notes if (n.onset, n.pitch) == (1.5, 64)}


def test_corrections_saved_per_minute():
    rows = [{"k": 1, "errors": 6, "hand": 5, "reread": 2, "replaced": 7, "lost": 3,
             "new_wrong": 4},
            {"k": 1, "errors": 1, "hand": 0, "reread": 0, "replaced": 0, "lost": 0,
             "new_wrong": 0}]
    got = summary(rows, minutes=0.5)[1]
    assert got == {"errors_per_min": 14.0, "hand_left_per_min": 10.0,
                   "reread_left_per_min": 4.0, "saved_per_min": 6.0,
                   "replaced_saved_per_min": -4.0, "lost_per_min": 6.0,
                   "new_wrong_per_min": 8.0}


def test_the_churn_of_replacing_a_passage():
    before = [NoteEvent(1.0, 1.5, 60), NoteEvent(1.5, 2.0, 64), NoteEvent(1.7, 2.0, 70)]
    new = [NoteEvent(1.01, 1.5, 60), NoteEvent(2.0, 2.5, 67), NoteEvent(2.2, 2.5, 71)]
    got = churn(REF, before, before, new)
    # 60 rewritten (not lost), 64 lost, 70 (wrong) removed, 67 found, 71 wrong
    assert got == {"replaced": 2, "lost": 1, "new_wrong": 1}
