"""Closing the app while Verovio lays out a segment of the score (issue 16): the engraving
is cancelled and its thread ends within 2 s, none is left running (which Qt would abort
on). Verovio's layout is one call that holds Python's lock; it runs in a child process
that the cancel kills (`notation.engrave_child`)."""

from __future__ import annotations

import threading
import time

from clef_app.gui import workers
from clef_app.notation import segments

CLOSED_WITHIN = 2.0  # s of wall time from the engraving's start in Verovio to the closed window


def long_musicxml(bars: int) -> str:
    """A one-staff score of `bars` bars of 16ths: Verovio takes seconds to lay it out
    (1,000 bars: 2.1 s of CPU measured), while writing it takes no time."""
    run = "".join(f"<note><pitch><step>{s}</step><octave>5</octave></pitch><duration>1"
                  f"</duration><type>16th</type></note>" for s in "CDEFGABCDEFGABCD")
    signs = ("<attributes><divisions>4</divisions><time><beats>4</beats><beat-type>4"
             "</beat-type></time><clef><sign>G</sign><line>2</line></clef></attributes>")
    measures = "".join(f'<measure number="{i + 1}">{signs if i == 0 else ""}{run}</measure>'
                       for i in range(bars))
    return ('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="4.0"><part-list>'
            '<score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
            f'<part id="P1">{measures}</part></score-partwise>')


def test_closing_while_verovio_lays_out_a_segment_ends_within_two_seconds(
        window, qtbot, monkeypatch):
    view = window.score_view
    # the opening's work done (its first playback rendering imports SciPy and FluidSynth:
    # seconds on a loaded machine, in one step nothing can interrupt)
    qtbot.waitUntil(lambda: view.result is not None and not workers._RUNNING, timeout=120_000)
    big, started = long_musicxml(3000), []  # ~6 s of CPU in Verovio
    in_verovio = threading.Event()

    def large_segment(*args, **kwargs) -> str:  # the segment's MusicXML: a long one
        started.append(time.perf_counter())
        in_verovio.set()
        return big

    monkeypatch.setattr(segments, "to_musicxml", large_segment)
    window.document.set_setting("meter", [[1, "3/4"]])  # every segment engraved again
    qtbot.waitUntil(in_verovio.is_set, timeout=300_000)
    worker = view._worker
    assert worker is not None and worker.thread is not None
    window.document.undo_stack.setClean()
    closing = time.perf_counter()
    window.close()
    closed = time.perf_counter()
    assert closed - started[0] < CLOSED_WITHIN, (
        f"closed {closed - started[0]:.2f} s after Verovio began (close() took "
        f"{closed - closing:.2f} s)")
    assert not worker.thread.isRunning()  # nothing left for Qt to abort on
    assert not workers.any_stuck()
