"""What the live view showed and when, against true notes (ShownLog), on scripted pulls."""

import pytest

from clef_app.audio.live_latency import ShownLog, format_shown, shown_stats
from clef_app.notation.events import NoteEvent

START = 100.0  # clock at which recording time 0 sounded


def note(onset, pitch, offset=None):
    return NoteEvent(onset, offset or onset + 0.3, pitch, 80)


def test_latency_runs_from_the_true_onset_to_the_first_pull_that_shows_the_note():
    truth = [note(1.0, 60), note(1.5, 64), note(2.0, 67)]
    log = ShownLog(START)
    log.update(START + 1.2, [], [note(1.06, 60)])  # 60 ms off: not yet the true note
    log.update(START + 1.4, [], [note(1.02, 60)])  # the same provisional note, now on time
    log.update(START + 1.9, [], [note(1.02, 60), note(2.3, 72)])  # 72: no true note
    log.update(START + 2.1, [], [note(1.02, 60)])  # 72 withdrawn
    log.update(START + 2.7, [note(1.01, 60), note(1.49, 64)], [])  # both final
    log.update(START + 3.0, [], [note(2.3, 72)])  # 72 comes back, then is withdrawn again
    log.update(START + 3.1, [], [])

    assert log.latency(truth) == pytest.approx([0.4, 1.2, float("inf")])
    assert log.latency(truth, final_only=True) == pytest.approx([1.7, 1.2, float("inf")])
    assert log.withdrawn(truth) == (2, 1, 1)  # 60 confirmed; 72 withdrawn and false
    s = shown_stats(log, truth)
    assert s["kept"]["n"] == 2 and s["kept"]["max"] == pytest.approx(1.2)
    assert s["provisional"] == {"shown": 2, "withdrawn": 1, "withdrawn_false": 1,
                                "returned": 1}
    text = "\n".join(format_shown(s, 1.5))
    assert "(2 of 3 true notes): median 0.80 s" in text and "vanished and came back: 1" in text


def test_a_true_note_never_shown_is_left_out_not_counted_as_fast():
    log = ShownLog(START)
    log.update(START + 5.0, [note(4.0, 50)], [])
    s = shown_stats(log, [note(1.0, 60), note(4.0, 50)])
    assert s["kept"]["n"] == s["any"]["n"] == 1 and s["kept"]["median"] == pytest.approx(1.0)
