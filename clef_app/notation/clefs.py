"""Which clef each staff shows, bar by bar: the fewest ledger lines, few clef changes.

A staff's notes are read in treble or bass clef, whichever needs fewer ledger lines over a
passage; changing clef costs as much as `CHANGE_COST` ledger lines, so a clef changes for a
passage that gains from it, not for a single high or low note. Each staff leans towards its
own clef (treble above, bass below) when the two are close.
"""

from __future__ import annotations

from collections.abc import Sequence

TREBLE, BASS = "treble", "bass"
CHANGE_COST = 8  # ledger lines a clef change must save
HOME_BONUS = 1  # ledger lines the staff's own clef is granted per bar with notes
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


def choose_clefs(bars: Sequence[Sequence[int]], home: str) -> list[str]:
    """The clef of every bar, given the MIDI pitches in each bar of one staff.

    Minimises ledger lines plus `CHANGE_COST` per change (dynamic programming over bars);
    the first bar starts in whichever clef serves the opening best.
    """
    if not bars:
        return []
    clefs = (TREBLE, BASS)

    def cost(pitches: Sequence[int], c: str) -> float:
        bonus = HOME_BONUS if pitches and c == home else 0
        return sum(ledger_lines(p, c) for p in pitches) - bonus

    total = {c: cost(bars[0], c) for c in clefs}
    back: list[dict[str, str]] = []
    for pitches in bars[1:]:
        came = {c: min(clefs, key=lambda b, c=c: (total[b] + CHANGE_COST * (b != c), b != c))
                for c in clefs}
        total = {c: total[came[c]] + CHANGE_COST * (came[c] != c) + cost(pitches, c)
                 for c in clefs}
        back.append(came)
    last = min(clefs, key=lambda c: (total[c], c != home))
    out = [last]
    for came in reversed(back):
        out.append(came[out[-1]])
    return out[::-1]
