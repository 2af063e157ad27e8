"""The score view's jobs on a worker thread (plain data in and out): the whole score built
and its changed segments engraved, and an edit's segments previewed with the timing kept.
"""

from __future__ import annotations

from bisect import bisect_right

from clef_app.notation import segments
from clef_app.notation.events import NoteEvent
from clef_app.notation.score import ScoreResult, build_bars, build_score_steps
from clef_app.notation.steps import Steps, run_to_end, scaled

PREVIEW_MAX_NOTES = 64  # notes changed at most for an edit to be previewed (its segments)
PREVIEW_MAX_SEGMENTS = 2  # ... in at most this many segments

Segments = list[tuple[str, str | None]]  # (signature, SVG; None: the page shown is current)


def engrave_job(notes: list[NoteEvent], settings: dict, shown: frozenset[str] = frozenset()
                ) -> tuple[ScoreResult | None, Segments]:
    """The score and its segments' SVG (plain data: runs on a worker thread)."""
    return run_to_end(engrave_steps(notes, settings, shown))


def engrave_steps(notes: list[NoteEvent], settings: dict, shown: frozenset[str] = frozenset()
                  ) -> Steps[tuple[ScoreResult | None, Segments]]:
    """`engrave_job` yielding progress between segments, so a worker can stop it there.

    Only segments whose signature is not among `shown` (the segments on screen) are
    engraved; the others come back as (signature, None).
    """
    if not notes:
        return None, []
    result = yield from scaled(build_score_steps(notes, settings), 0.0, 0.5)
    out: Segments = []
    ranges = segments.segment_ranges(len(result.bars))
    for k, (a, b) in enumerate(ranges):
        sig = segments.segment_signature(result, a, b)
        out.append((sig, None if sig in shown else segments.engrave_segment(result, a, b)))
        yield 0.5 + 0.5 * (k + 1) / len(ranges)
    return result, out


def preview_steps(notes: list[NoteEvent], settings: dict, previous: ScoreResult,
                  changed: list[NoteEvent]) -> Steps[tuple[int, str] | None]:
    """("preview", segment index, SVG) for each segment of `previous` that the changed notes
    (their old and new versions) touch, built with its timing kept (`build_bars`); nothing
    when they touch more than PREVIEW_MAX_SEGMENTS."""
    starts = [b.start for b in previous.bars]
    times = [t for n in changed for t in (n.onset, n.offset)]
    pos = previous.tempo_map.to_quarters(times)
    touched = sorted({segments.segment_of(max(0, bisect_right(starts, float(q)) - 1))
                      for q in pos})
    last_segment = segments.segment_of(len(previous.bars) - 1)
    touched = [k for k in touched if k <= last_segment]
    if not touched or len(touched) > PREVIEW_MAX_SEGMENTS:
        return
    for k in touched:
        a, b = segments.segment_ranges(len(previous.bars))[k]
        quick = build_bars(notes, settings, previous, a, b - 1)
        yield ("preview", k, segments.engrave_score(quick.score, first=a == 0))
