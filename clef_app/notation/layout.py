"""Piano layout: which hand (staff) plays each note, and the voices within a staff.

Hands follow voice continuity: each group of notes starting together is split between
the hands where the split keeps both hands close to where they just were, within a
hand's span, and in their usual register. Within a staff, a note that sounds on over
later notes of the same hand (the sustain pedal, or a legato overlap) is written up to
the next onset unless it is an outer line held over moving inner notes: then up to that
line's next note, in a voice of its own. A note the pedal may have held (see
quantize.pedal_released) whose line does not go on is the pedal ringing, not a held
note: it too ends at the next onset.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from clef_app.notation.quantize import QNote
from clef_app.notation.steps import Steps, checkpoint, run_to_end

UPPER, LOWER = 0, 1
HAND_SPAN = 14  # semitones a hand covers comfortably (a ninth)
SPAN_COST = 3.0  # per semitone beyond HAND_SPAN
REGISTER_COST = 0.6  # per semitone a hand strays into the other's register
RH_FLOOR, LH_CEILING = 55, 67  # G3, G4: below/above this a hand is out of its register
WINDOW_QUARTERS = 4.0  # notes this close in time define where the hands are
MIN_SEPARATION = 9.0  # semitones between cluster means for two hands to be playing
MIN_SEPARATION_POLYPHONIC = 5.0  # ... where most notes sound together with others
POLYPHONIC = 0.5  # fraction of notes sounding with others that makes a passage polyphonic
MIDDLE_C = 60
CONTINUITY = 0.15  # cost per semitone a hand's inner edge jumps between onsets
GAP_COST = 0.6  # per semitone the split's gap is narrower than the chord's widest gap
LINE_STEP = 2  # semitones: an outer line goes on at a note this close beyond it
MAX_VOICES = 2  # per staff; a third simultaneous line is cut to fit
SHORT_REST = Fraction(1, 4)  # quarter notes: a rest shorter than a 16th is held over


@dataclass(frozen=True)
class Placed:
    """A quantised note with its staff (0 upper, 1 lower) and voice (1-based)."""

    note: QNote
    staff: int
    voice: int


def group_by_start(qnotes: Sequence[QNote]) -> list[list[QNote]]:
    groups: dict[Fraction, list[QNote]] = defaultdict(list)
    for q in qnotes:
        groups[q.start].append(q)
    return [sorted(groups[k], key=lambda q: q.pitch) for k in sorted(groups)]


def assign_staves(qnotes: Sequence[QNote], split: str | int = "auto") -> dict[int, int]:
    """Note id -> staff, by a fixed split pitch or by following both hands (Viterbi).

    Each group of notes starting together is split at some index of its sorted pitches;
    a split costs its distance from where the hands play nearby (`hand_centres`), spans
    beyond a hand's reach, notes out of a hand's register and parting the chord short of
    its widest gap, plus how far each hand's inner edge (left hand's top, right hand's
    bottom) jumps from where that hand last played on the best path so far.
    """
    if split != "auto":
        return {q.id: UPPER if q.pitch >= int(split) else LOWER for q in qnotes}
    groups = group_by_start(qnotes)
    if not groups:
        return {}
    starts = np.array([float(q.start) for q in qnotes])
    ends = np.array([float(q.end) for q in qnotes])
    pitches = np.array([q.pitch for q in qnotes], dtype=float)
    overlapped = _overlapped(starts, ends)
    order = np.argsort(starts, kind="stable")
    ordered = starts[order]
    cost: list[float] = []
    edges: list[tuple[int | None, int | None]] = []  # (left top, right bottom) last played
    back: list[list[int]] = []
    for group in groups:
        checkpoint()
        near = _near(starts, order, ordered, float(group[0].start))
        centre = hand_centres(pitches[near], overlapped[near].mean() > POLYPHONIC)
        ps = [q.pitch for q in group]
        local = [_split_cost(ps[:k], ps[k:], centre) + _gap_cost(ps, k)
                 for k in range(len(ps) + 1)]
        if not cost:
            cost, back = local, [[0] * len(local)]
            edges = [_edges(ps, k, (None, None)) for k in range(len(ps) + 1)]
            continue
        new, links, new_edges = [], [], []
        for k in range(len(ps) + 1):
            options = [cost[j] + _jump(edges[j], ps, k) for j in range(len(cost))]
            j = int(np.argmin(options))
            new.append(options[j] + local[k])
            links.append(j)
            new_edges.append(_edges(ps, k, edges[j]))
        cost, edges = new, new_edges
        back.append(links)
    k = int(np.argmin(cost))
    staff: dict[int, int] = {}
    for t in range(len(groups) - 1, -1, -1):
        staff.update({q.id: LOWER for q in groups[t][:k]})
        staff.update({q.id: UPPER for q in groups[t][k:]})
        k = back[t][k]
    return staff


def _near(starts: np.ndarray, order: np.ndarray, ordered: np.ndarray, t: float
          ) -> np.ndarray:
    """Indices of the notes starting within WINDOW_QUARTERS of t, found by bisection in
    `ordered` (= starts[order], sorted): the few notes near t, not all (was quadratic)."""
    lo = np.searchsorted(ordered, t - WINDOW_QUARTERS - 1e-9, side="left")
    hi = np.searchsorted(ordered, t + WINDOW_QUARTERS + 1e-9, side="right")
    cand = order[lo:hi]
    return cand[np.abs(starts[cand] - t) <= WINDOW_QUARTERS]


def _gap_cost(ps: list[int], k: int) -> float:
    """Hands part a chord at its widest gap: a split elsewhere costs the difference."""
    if k == 0 or k == len(ps):
        return 0.0
    widest = max(b - a for a, b in zip(ps, ps[1:], strict=False))
    return GAP_COST * (widest - (ps[k] - ps[k - 1]))


def _edges(ps: list[int], k: int, before: tuple) -> tuple[int | None, int | None]:
    """The hands' inner edges after this split (a hand that rests keeps its last edge)."""
    return (ps[k - 1] if k > 0 else before[0], ps[k] if k < len(ps) else before[1])


def _jump(before: tuple[int | None, int | None], cur: list[int], k: int) -> float:
    """How far the hands' inner edges move from where each hand last played."""
    d = 0.0
    if k > 0 and before[0] is not None:
        d += abs(cur[k - 1] - before[0])
    if k < len(cur) and before[1] is not None:
        d += abs(cur[k] - before[1])
    return CONTINUITY * d


def _overlapped(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n,) whether each note sounds together with some other note."""
    order = np.argsort(starts)
    out = np.zeros(len(starts), dtype=bool)
    latest_end, latest = -np.inf, -1
    for i in order:
        if starts[i] < latest_end:
            out[i] = out[latest] = True
        if ends[i] > latest_end:
            latest_end, latest = ends[i], i
    return out


def hand_centres(pitches: np.ndarray, polyphonic: bool = True) -> dict[int, float]:
    """Mean pitch of each hand nearby: the best two-cluster split of the pitches.

    Pitches that do not fall in two clusters far enough apart (closer ones will do
    where notes sound together: two hands are playing) are one hand, the one whose
    register they are in; the other hand is placed an octave and a half away.
    """
    p = np.sort(pitches)
    if len(p) >= 2:
        csum, csq = np.cumsum(p), np.cumsum(p**2)
        k = np.arange(1, len(p))
        left = csq[k - 1] - csum[k - 1] ** 2 / k
        right = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (len(p) - k)
        best = int(np.argmin(left + right)) + 1
        lo, hi = p[:best].mean(), p[best:].mean()
        if hi - lo >= (MIN_SEPARATION_POLYPHONIC if polyphonic else MIN_SEPARATION):
            return {LOWER: float(lo), UPPER: float(hi)}
    m = float(p.mean()) if len(p) else 60.0
    if m >= MIDDLE_C:
        return {LOWER: m - 18.0, UPPER: m}
    return {LOWER: m, UPPER: m + 18.0}


def _split_cost(lh: list[int], rh: list[int], centre: dict[int, float]) -> float:
    cost = 0.0
    for hand, ps in ((LOWER, lh), (UPPER, rh)):
        if not ps:
            continue
        cost += sum(abs(p - centre[hand]) for p in ps) / 4.0
        cost += SPAN_COST * max(0, max(ps) - min(ps) - HAND_SPAN)
    cost += REGISTER_COST * sum(max(0, p - LH_CEILING) for p in lh)
    cost += REGISTER_COST * sum(max(0, RH_FLOOR - p) for p in rh)
    return cost


def written_lengths(qnotes: Sequence[QNote], all_starts: Sequence[Fraction] = ()) -> list[QNote]:
    """One staff's notes with sounding overlaps cut to the written length.

    A note sounding over later onsets of its staff is written up to the next onset,
    unless it is the top (bottom) note of a chord: then it is an outer line held to that
    line's next note (the next onset at or above (below) it, within LINE_STEP), in a
    voice of its own if that is later than the staff's next onset. A single note is held
    only when everything starting under it lies on one side of it and the pedal did not
    hold it. Notes written together share a length.
    """
    groups = group_by_start(qnotes)
    starts = [g[0].start for g in groups]
    out: list[QNote] = []
    for i, group in enumerate(groups):
        checkpoint()
        nxt = starts[i + 1] if i + 1 < len(groups) else None
        if nxt is None and any(q.pedalled for q in group):  # the staff's last onset:
            nxt = next((t for t in all_starts if t > starts[i]), None)  # the other staff's
        held, chord = [], []
        for k, q in enumerate(group):
            if nxt is None or q.end <= nxt:
                chord.append(q)
                continue
            later = groups[i + 1 : bisect_left(starts, q.end, i + 1)]  # start before its end
            top = k == len(group) - 1 and len(group) > 1
            bottom = k == 0 and len(group) > 1
            end = nxt
            # the pedal's ringing is no line of its own: it is written to the next note
            stop = nxt if q.pedalled else q.end
            above = all(p.pitch < q.pitch for g in later for p in g)
            below = all(p.pitch > q.pitch for g in later for p in g)
            if len(group) == 1 and not q.pedalled and (above or below):
                end = q.end  # a key held over (under) what follows: written as played
            elif top or (len(group) == 1 and above):  # an upper line held over what follows
                end = _line_end(later, lambda p, q=q: p >= q.pitch - LINE_STEP, stop)
            elif bottom or (len(group) == 1 and below):  # ... a lower line under it
                end = _line_end(later, lambda p, q=q: p <= q.pitch + LINE_STEP, stop)
            if end > nxt:
                held.append(replace(q, end=end))
            else:
                chord.append(replace(q, end=nxt))
        if chord:
            end = max(q.end for q in chord)
            chord = [replace(q, end=end) for q in chord]
        out.extend(held + chord)
    return sorted(out, key=lambda q: (q.start, q.pitch))


def _line_end(later: list[list[QNote]], continues, stop: Fraction) -> Fraction:
    """Where an outer line's note ends: at the line's next note, else at `stop`."""
    for g in later:
        if any(continues(p.pitch) for p in g):
            return g[0].start
    return stop


def assign_voices(
    qnotes: Sequence[QNote], staff: int, all_starts: Sequence[Fraction] = ()
) -> list[Placed]:
    """Voices of one staff: chords of equal length share a voice, higher lines lower numbers."""
    voice_end: dict[int, Fraction] = {}
    placed: list[Placed] = []
    sounding: dict[int, list[int]] = defaultdict(list)  # voice -> its notes that may still sound
    for group in group_by_start(written_lengths(qnotes, all_starts)):
        checkpoint()
        by_end: dict[Fraction, list[QNote]] = defaultdict(list)
        for q in group:
            by_end[q.end].append(q)
        parts = sorted(by_end.values(), key=lambda ns: -max(q.pitch for q in ns))
        lowest = 0
        for part in parts:
            v = _free_voice(voice_end, part[0].start, lowest)
            if v > MAX_VOICES and lowest >= MAX_VOICES:  # no voice left: join the chord above
                end = voice_end[lowest]
                part = [replace(q, end=end) for q in part]
                v = lowest
            elif v > MAX_VOICES:  # cut the line that is in the way
                v = lowest + 1
                _cut_voice(placed, sounding[v], part[0].start)
            voice_end[v] = part[0].end
            lowest = v
            sounding[v].extend(range(len(placed), len(placed) + len(part)))
            placed.extend(Placed(q, staff, v) for q in part)
    return placed


def _free_voice(voice_end: dict[int, Fraction], start: Fraction, above: int) -> int:
    v = above + 1
    while v in voice_end and voice_end[v] > start:
        v += 1
    return v


def _cut_voice(placed: list[Placed], sounding: list[int], at: Fraction) -> None:
    """End at `at` the notes of one voice sounding across it (`sounding`: their indices in
    `placed`). Cuts come at ever later onsets, so a note that ends by `at` leaves the list
    for good: each note is looked at a few times, not once per cut (was quadratic)."""
    keep = []
    for i in sounding:
        p = placed[i]
        if p.note.start < at < p.note.end:
            placed[i] = replace(p, note=replace(p.note, end=at))
        elif p.note.end > at:
            keep.append(i)
    sounding[:] = keep


def layout(qnotes: Sequence[QNote], split: str | int = "auto") -> list[Placed]:
    """Staff and voice for every note."""
    return run_to_end(layout_steps(qnotes, split))


def layout_steps(qnotes: Sequence[QNote], split: str | int = "auto") -> Steps[list[Placed]]:
    """`layout` yielding the fraction done after the hands and after each staff's voices."""
    staff = assign_staves(qnotes, split)
    yield 0.5
    all_starts = sorted({q.start for q in qnotes})
    out: list[Placed] = []
    for s in (UPPER, LOWER):
        out.extend(absorb_short_rests(
            assign_voices([q for q in qnotes if staff[q.id] == s], s, all_starts)))
        yield 0.75 if s == UPPER else 1.0
    return out


def absorb_short_rests(placed: list[Placed]) -> list[Placed]:
    """Notes of a voice held on over a rest shorter than SHORT_REST before the voice's
    next note: a released key a 32nd early is a performance, not a rest to read (a
    staccato is written as the note value with its rest only from a 16th on)."""
    by_voice: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(placed):
        by_voice[p.voice].append(i)
    out = list(placed)
    for idx in by_voice.values():
        starts = sorted({placed[i].note.start for i in idx})
        for i in idx:
            q = placed[i].note
            k = bisect_left(starts, q.end)
            nxt = starts[k] if k < len(starts) else None
            if nxt is not None and q.end < nxt and nxt - q.end < SHORT_REST:
                out[i] = replace(placed[i], note=replace(q, end=nxt))
    return out
