"""Which clef each staff shows, bar by bar: the fewest ledger lines, few clef changes.

A staff's notes are read in treble or bass clef, whichever needs fewer ledger lines over a
passage; changing clef costs as much as `CHANGE_COST` ledger lines, so a clef changes for a
passage that gains from it, not for a single high or low note. Each staff leans towards its
own clef (treble above, bass below) when the two are close. A clef holds for MIN_RUN bars at
least, and as many as MIN_RUN_QUARTERS quarter notes take (`min_run_bars`), and never
changes where a note is tied across the bar line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

TREBLE, BASS = "treble", "bass"
CHANGE_COST = 16  # ledger lines a clef change must save
HOME_BONUS = 2  # ledger lines the staff's own clef is granted per bar with notes
MIN_RUN = 4  # bars a clef holds at least once set (the last bars of a piece excepted)
MIN_RUN_QUARTERS = 16  # ... and quarter notes: short bars (2/4, 3/8) hold it for more bars
# (bottom line, top line) as MIDI pitches of natural notes
STAFF_LINES = {TREBLE: (64, 77), BASS: (43, 57)}  # E4..F5, G2..A3
_STEP_IN_OCTAVE = (0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6)  # C C# D D# E F F# G G# A A# B


def diatonic_step(pitch: int) -> int:
    """Staff position of a MIDI pitch in steps (a sharp sits on its natural's line)."""
    return (pitch // 12) * 7 + _STEP_IN_OCTAVE[pitch % 12]


def ledger_lines(pitch: int, clef: str) -> int:
    """How many ledger lines a note needs in `clef`."""
    bottom, top = (diatonic_step(p) for p in STAFF_LINES[clef])
    step = diatonic_step(pitch)
    if step < bottom:
        return (bottom - step) // 2
    return max(0, (step - top) // 2)


def min_run_bars(bar_quarters: float) -> int:
    """Bars a clef holds at least in bars of this many quarter notes (the hysteresis is
    over a stretch of music, not a count of bars: eight bars of 2/4, four of 4/4)."""
    return max(MIN_RUN, math.ceil(MIN_RUN_QUARTERS / max(bar_quarters, 0.5)))


def choose_clefs(
    bars: Sequence[Sequence[int]], home: str, tied_in: Sequence[bool] | None = None,
    min_run: int = MIN_RUN,
) -> list[str]:
    """The clef of every bar, given the MIDI pitches in each bar of one staff.

    Minimises ledger lines plus `CHANGE_COST` per change (dynamic programming over bars,
    its states a clef and how many bars it has lasted), under two rules a pianist's score
    keeps: a clef, once set, holds for at least `min_run` bars (hysteresis: a clef change
    needs a sustained reason, never a flicker), and a bar that a note is tied into
    (`tied_in[i]`) never changes clef, so a tied note is written in one clef. The first bar
    starts in whichever clef serves the opening best; the last run may be shorter.
    """
    if not bars:
        return []
    locked = list(tied_in) if tied_in is not None else [False] * len(bars)
    clefs = (TREBLE, BASS)

    def cost(pitches: Sequence[int], c: str) -> float:
        bonus = HOME_BONUS if pitches and c == home else 0
        return sum(ledger_lines(p, c) for p in pitches) - bonus

    states = [(c, r) for c in clefs for r in range(1, min_run + 1)]
    inf = float("inf")
    total = {st: (cost(bars[0], st[0]) if st[1] == 1 else inf) for st in states}
    back: list[dict[tuple[str, int], tuple[str, int]]] = []
    for i, pitches in enumerate(bars[1:], 1):
        new: dict[tuple[str, int], float] = {}
        came: dict[tuple[str, int], tuple[str, int]] = {}
        for c, r in states:
            here = cost(pitches, c)
            options = []
            if r == 1 and not locked[i]:  # a change into c: the other clef has lasted
                other = BASS if c == TREBLE else TREBLE
                options.append((total[(other, min_run)] + CHANGE_COST, (other, min_run)))
            if r > 1:  # c goes on
                options.append((total[(c, r - 1)], (c, r - 1)))
            if r == min_run:
                options.append((total[(c, min_run)], (c, min_run)))
            best = min(options, key=lambda o: o[0]) if options else (inf, (c, r))
            new[(c, r)] = best[0] + here
            came[(c, r)] = best[1]
        total = new
        back.append(came)
    last = min(states, key=lambda st: (total[st], st[0] != home))
    out = [last]
    for came in reversed(back):
        out.append(came[out[-1]])
    return [c for c, _ in out[::-1]]
