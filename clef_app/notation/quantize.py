"""Quantisation: note times in seconds -> score positions on a grid chosen beat by beat.

Each beat gets a subdivision (1, 2, 4, 8, for triplets 3, 6, and 5 or 7 where a beat
holds exactly that many evenly spaced notes) by a Viterbi pass over
the beats: the cost of a subdivision is how far the onsets in that beat lie from its
grid (in units of an assumed timing error) plus a prior that prefers plain, binary
grids, plus a cost for switching between binary and ternary from one beat to the next
(triplets come in runs). Offsets snap to the grid of the beat they end in, and no note
ends up shorter than the grid step where it starts.

Real performance timing (issue 17): onsets are assumed to stray at least NOISE_SCALE
times the performance's own unevenness (`onset_noise`, in seconds), so in a fast beat
an uneven or mistimed onset is no evidence for a finer grid, while an exact performance
keeps every grid it shows; and a grid finer than 16ths (or sextuplet 16ths) needs a run
of notes one step apart (a lone short gap is unevenness, a flam or an ornament); a
triplet for one note off the beat costs as much (notation.grid_evidence's UNSHOWN).
NOISE_SCALE and UNSHOWN were chosen on maps-dev's slow group (ground truth and Clef's
transcriptions of the first 60 s, `clef score-eval --maps`): NOISE_SCALE the largest in
steps of 0.5 at which Troika, the group's one piece with triplets, keeps all its
triplets (at 4 it loses some); UNSHOWN the lone triplet's old 1.5 nats raised to the
run's 3 (at 1.5 a late chord that had been a 32nd became a triplet). The fast group and
the corpus performances (`--oracle --style rubato/spread/drift`) are the held-out check.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from clef_app.notation.events import NoteEvent
from clef_app.notation.grid_evidence import SAME_ATTACK, onset_noise, ternary, unlikely_grids
from clef_app.notation.steps import Steps, checkpoint, run_to_end
from clef_app.notation.timemap import TempoMap

TIMING_SIGMA = 0.05  # beats: assumed spread of onsets around their grid point
NOISE_SCALE = 3.5  # onsets are assumed to stray at least this many times the performance's
# own unevenness (`onset_noise`: a pianist's, a transcription's error)
SWITCH_COST = 0.5  # nats: changing between binary and ternary subdivision between beats
END_TOLERANCE = 0.15  # beats: an offset may move this far to make a simpler note value
END_RELATIVE = 0.2  # ... or this fraction of the note's length, if more
PEDAL_STRIKES = 3  # notes struck at this many times ending together: a pedal release
PEDAL_TOLERANCE = 0.05  # s
PEDAL_IN_USE = 0.12  # share of notes ending at releases that shows a pedalled performance
EARLY = 0.12  # beats: an onset this close before a beat belongs to that beat
MIN_WRITTEN = Fraction(1, 4)  # quarter notes: a note is written a 16th at least (a key
# released sooner is a staccato, not a 32nd and a rest), unless any next note comes sooner
CHORD_GAP = 0.035  # s between successive attacks of one (spread) chord at most
CHORD_SPREAD = 0.12  # s from a chord's first attack to its last at most
CHORD_BEATS = 0.2  # beats from a chord's first attack to its last at most
# subdivision -> prior cost in nats (simple grids are likelier)
SUB_PRIOR = {1: 0.0, 2: 0.3, 4: 0.9, 8: 3.0, 3: 1.8, 6: 3.5, 5: 2.0, 7: 2.0}
TUPLETS = (5, 7)  # quintuplets and septuplets: only where every note of one is played
TUPLET_SLACK = 0.3  # of a tuplet step: how far each of its notes may lie from its place
SAME_PULSE = 0.15  # a quintuplet's notes within this ratio of a neighbour beat's pace are none
GRID_SUBS = {  # settings grid -> allowed subdivisions of a quarter-note beat
    "auto": (1, 2, 4, 8, 3, 6, 5, 7),
    "1/8": (1, 2),
    "1/16": (1, 2, 4),
    "1/32": (1, 2, 4, 8),
    "1/12": (1, 3),
    "1/24": (1, 2, 3, 4, 6),
}
COMPOUND_SUBS = {  # the same for a dotted-quarter beat (6/8, 9/8, 12/8)
    "auto": (1, 3, 6, 2),
    "1/8": (1, 3),
    "1/16": (1, 3, 6),
    "1/32": (1, 3, 6, 12),
    "1/12": (1, 3),
    "1/24": (1, 3, 6),
}


@dataclass(frozen=True)
class QNote:
    """A note on the score's time line: positions in quarter notes from bar 1's bar line."""

    id: int
    pitch: int
    start: Fraction
    end: Fraction
    velocity: int = 80
    pedalled: bool = False  # its sound ends with others' at a pedal release: written legato

    @property
    def length(self) -> Fraction:
        return self.end - self.start


def choose_subdivisions(
    beat_pos: np.ndarray, n_beats: int, subs: Sequence[int], compound: bool = False,
    seconds: np.ndarray | None = None, chords_once: bool = False,
    beat_seconds: np.ndarray | None = None,
) -> list[int]:
    """Viterbi choice of one subdivision per beat.

    Args:
        beat_pos: onset positions in beats, shape (n,).
        n_beats: beats 0..n_beats-1 are chosen for.
        subs: allowed subdivisions.
        compound: a dotted-quarter beat, where thirds are the plain case.
        seconds: the same onsets in seconds, if known: then a quintuplet (septuplet) whose
            notes come as fast as the notes of a neighbouring beat is no tuplet but that
            beat's pulse in a beat tracked too long (`same_pulse`).
        chords_once: attacks closer than SAME_ATTACK count once.
        beat_seconds: (n_beats,) each beat's length in seconds, if known: then onsets
            are assumed to stray NOISE_SCALE times the performance's `onset_noise` at
            least (in a fast beat, more of a beat).

    Returns:
        the subdivision of each beat.
    """
    prior = {s: _prior(s, compound) for s in subs}
    empty = [np.inf if s in TUPLETS else prior[s] for s in subs]  # a beat with no onset
    local = np.tile(np.array(empty, dtype=float), (n_beats, 1))
    misfit = np.zeros((n_beats, len(subs)))  # beats^2: squared distances from each grid
    idx = np.floor(beat_pos + EARLY).astype(int)
    order = np.argsort(idx, kind="stable")  # each beat's onsets in their given order
    bounds = np.searchsorted(idx[order], np.arange(n_beats + 1))
    beat_ioi = _beat_iois(seconds[order], bounds, n_beats) if seconds is not None else None
    struck = np.nonzero(np.diff(bounds))[0]  # only beats with onsets: linear, not n x beats
    attacks = {}
    for b in struck:
        checkpoint()
        x = beat_pos[order[bounds[b] : bounds[b + 1]]] - b
        if chords_once:
            xs = np.sort(x)
            x = xs[np.concatenate([[True], np.diff(xs) > SAME_ATTACK])]
        attacks[b] = x
        for j, s in enumerate(subs):
            misfit[b, j] = float(np.sum((x - np.round(x * s) / s) ** 2))
            local[b, j] = prior[s]
            if s in TUPLETS and (not is_tuplet(x, s) or same_pulse(beat_ioi, b)):
                local[b, j] = np.inf
    if chords_once:
        for b, after in zip(struck, [attacks[c].min() + c for c in struck[1:]] + [np.inf],
                            strict=True):
            local[b] += unlikely_grids(attacks[b], after - b, subs, compound)
    sigma = np.full(n_beats, TIMING_SIGMA)
    path = _viterbi(local + misfit / (2 * sigma[:, None] ** 2), subs)
    if beat_seconds is not None:  # again, with the onsets as uneven as the performance's
        noise = onset_noise(attacks, [subs[j] for j in path], beat_seconds)
        sigma = np.maximum(sigma, NOISE_SCALE * noise / beat_seconds)
        path = _viterbi(local + misfit / (2 * sigma[:, None] ** 2), subs)
    return [subs[j] for j in path]


def _beat_iois(seconds: np.ndarray, bounds: np.ndarray, n_beats: int) -> np.ndarray:
    """(n_beats,) median gap in seconds between the attacks (chords once) of each beat
    with at least three of them; NaN elsewhere. `seconds` in beat order, `bounds` each
    beat's slice of it."""
    out = np.full(n_beats, np.nan)
    for b in np.nonzero(np.diff(bounds) >= 3)[0]:
        t = np.sort(seconds[bounds[b] : bounds[b + 1]])
        gaps = np.diff(t)
        gaps = gaps[gaps > CHORD_GAP]
        if len(gaps) >= 2:
            out[b] = float(np.median(gaps))
    return out


def same_pulse(beat_ioi: np.ndarray | None, b: int) -> bool:
    """Whether beat b's notes come as fast (within SAME_PULSE) as a neighbouring beat's."""
    if beat_ioi is None or np.isnan(beat_ioi[b]):
        return False
    near = [beat_ioi[k] for k in (b - 1, b + 1) if 0 <= k < len(beat_ioi)]
    return any(abs(v / beat_ioi[b] - 1) < SAME_PULSE for v in near if not np.isnan(v))


def is_tuplet(x: np.ndarray, n: int) -> bool:
    """Whether onsets x (beats from the beat) are n evenly spaced notes filling the beat.

    Chords count once; every one of the n places must be struck, within TUPLET_SLACK of
    a step, and nothing else: the evidence for a quintuplet is all five notes.
    """
    times = np.sort(x)
    if len(times) == 0:
        return False
    groups = times[np.concatenate([[True], np.diff(times) > TUPLET_SLACK / n])]
    if len(groups) != n:
        return False
    return bool(np.all(np.abs(groups * n - np.arange(n)) < TUPLET_SLACK))


def _prior(sub: int, compound: bool) -> float:
    if not compound:
        return SUB_PRIOR.get(sub, 5.0)
    return {1: 0.0, 3: 0.3, 6: 0.9, 12: 3.0, 2: 2.5}.get(sub, 5.0)


def _viterbi(local: np.ndarray, subs: Sequence[int]) -> list[int]:
    n, k = local.shape
    fam = np.array([float(ternary(s)) if s != 1 and s not in TUPLETS else -1.0 for s in subs])
    trans = np.where((fam[:, None] >= 0) & (fam[None, :] >= 0) & (fam[:, None] != fam[None, :]),
                     SWITCH_COST, 0.0)
    cost = local[0].copy()
    back = np.zeros((n, k), dtype=int)
    for b in range(1, n):
        total = cost[:, None] + trans
        back[b] = np.argmin(total, axis=0)
        cost = total[back[b], np.arange(k)] + local[b]
    path = [int(np.argmin(cost))]
    for b in range(n - 1, 0, -1):
        path.append(int(back[b][path[-1]]))
    return path[::-1]


def quantize(notes: Sequence[NoteEvent], tmap: TempoMap, *options) -> list[QNote]:
    """`quantize_steps` run to its end: the notes placed on the grid."""
    return run_to_end(quantize_steps(notes, tmap, *options))


def quantize_steps(
    notes: Sequence[NoteEvent],
    tmap: TempoMap,
    grid: str = "auto",
    beat_quarters: Fraction = Fraction(1),
    first_beat: Fraction = Fraction(0),
) -> Steps[list[QNote]]:
    """Place notes on the grid, yielding the fraction done after each of three passes.

    Args:
        notes: in seconds.
        tmap: seconds -> quarter notes.
        grid: a key of GRID_SUBS.
        beat_quarters: the beat (1 = quarter, 3/2 = dotted quarter in compound meters).
        first_beat: the position of some beat (the beat phase), in quarter notes.

    Returns:
        notes in quarter-note positions, sorted by (start, pitch); same-pitch overlaps cut.
    """
    if not notes:
        return []
    compound = beat_quarters == Fraction(3, 2)
    subs = (COMPOUND_SUBS if compound else GRID_SUBS)[grid]
    on_q = tmap.to_quarters([n.onset for n in notes])
    off_q = tmap.to_quarters([n.offset for n in notes])
    bq = float(beat_quarters)
    on_b = (on_q - float(first_beat)) / bq
    on_b = chord_onsets(np.array([n.onset for n in notes]), on_b)
    off_b = (off_q - float(first_beat)) / bq
    b0 = int(np.floor(min(on_b.min(), off_b.min()))) - 1
    n_beats = int(np.ceil(max(on_b.max(), off_b.max()))) - b0 + 2
    edges = tmap.to_seconds((np.arange(n_beats + 1) + b0) * bq + float(first_beat))
    beat_subs = choose_subdivisions(on_b - b0, n_beats, subs, compound,
                                    np.array([n.onset for n in notes]), chords_once=True,
                                    beat_seconds=np.maximum(np.diff(edges), 1e-3))
    yield 1 / 3
    shortest = MIN_WRITTEN / beat_quarters  # in beats
    pedal = pedal_released(notes)
    if len(pedal) >= PEDAL_IN_USE * len(notes):  # the pedal is in use: any note may ring on
        pedal = {n.id for n in notes}
    spans = []
    for x_on, x_off in zip(on_b - b0, off_b - b0, strict=True):
        checkpoint()
        start = _snap(x_on, beat_subs, early=EARLY)
        step = Fraction(1, beat_subs[min(int(start), n_beats - 1)])
        spans.append((start, max(_snap_end(x_off, start, beat_subs, compound), start + step)))
    yield 2 / 3
    starts = sorted({a for a, _ in spans})
    out = []
    for n, (start, end) in zip(notes, spans, strict=True):
        checkpoint()
        if end - start < shortest:  # a staccato: held to a 16th or to the next note
            k = bisect_right(starts, start)
            end = max(end, min(start + shortest, starts[k] if k < len(starts) else end))
        q0 = (start + b0) * beat_quarters + first_beat
        q1 = (end + b0) * beat_quarters + first_beat
        out.append(QNote(n.id, n.pitch, q0, q1, n.velocity, n.id in pedal))
    return resolve_overlaps(out)


def chord_onsets(seconds: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Onset positions with each spread chord (attacks each within CHORD_GAP of the last,
    spanning at most CHORD_SPREAD s and CHORD_BEATS of a beat: an arpeggiated or
    unevenly struck chord) moved to one place, its median: one chord, not a 32nd run."""
    order = np.argsort(seconds, kind="stable")
    out = pos.copy()
    start = 0
    for k in range(1, len(order) + 1):
        i = order[k - 1]
        if k < len(order):
            j, first = order[k], order[start]
            if (seconds[j] - seconds[i] <= CHORD_GAP and seconds[j] - seconds[first]
                    <= CHORD_SPREAD and pos[j] - pos[first] <= CHORD_BEATS):
                continue
        group = order[start:k]
        if len(group) > 1:
            out[group] = float(np.median(pos[group]))
        start = k
    return out


def pedal_released(notes: Sequence[NoteEvent]) -> set[int]:
    """Ids of notes whose sound ends at a sustain-pedal release.

    A release shows as notes struck at PEDAL_STRIKES or more different times whose sound
    stops together (within PEDAL_TOLERANCE); their keys were let go earlier. (Two
    strikes ending together is ordinary legato: a half note beside two quarters.)
    `quantize` takes a performance where PEDAL_IN_USE of the notes end so as pedalled
    throughout: a note cut short by its own key struck again hides its release too.
    """
    order = sorted(notes, key=lambda n: n.offset)
    out: set[int] = set()
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and order[j + 1].offset - order[i].offset <= PEDAL_TOLERANCE:
            j += 1
        group = order[i : j + 1]
        onsets = np.sort([n.onset for n in group])
        strikes = 1 + int(np.sum(np.diff(onsets) > PEDAL_TOLERANCE))
        if strikes >= PEDAL_STRIKES:
            out.update(n.id for n in group)
        i = j + 1
    return out


def _snap(x: float, subs: Sequence[int], early: float) -> Fraction:
    """Position x (beats) rounded to the grid of the beat it belongs to."""
    b = int(np.clip(np.floor(x + early), 0, len(subs) - 1))
    s = subs[b]
    return b + Fraction(int(round((x - b) * s)), s)


def _snap_end(x: float, start: Fraction, subs: Sequence[int], compound: bool) -> Fraction:
    """An offset rounded to the coarsest grid that is close enough: durations are simple."""
    b = int(np.clip(np.floor(x), 0, len(subs) - 1))
    sub = subs[b]
    if sub == 1:
        sub = 3 if compound else 2
    tol = max(END_TOLERANCE, END_RELATIVE * (x - float(start)))
    if sub in TUPLETS and start < b:  # a note from before the tuplet ends at a beat: on a
        # plain grid, a rest between it and a tuplet note of its voice could not be written
        # (a 20th of a beat between a 16th and a quintuplet)
        return Fraction(b + 1 if x - b >= 0.5 else b)
    if sub in TUPLETS:  # a tuplet's steps are short: an end moves less than half of one
        tol = min(tol, 0.45 / sub)
    levels = (1, sub) if sub in TUPLETS else (1, 3, 6, 12) if ternary(sub) else (1, 2, 4, 8)
    for level in [v for v in levels if v <= sub] + [sub]:
        cand = b + Fraction(int(round((x - b) * level)), level)
        if cand > start and abs(float(cand) - x) <= tol:
            return cand
    return b + Fraction(int(round((x - b) * sub)), sub)


def resolve_overlaps(qnotes: Sequence[QNote]) -> list[QNote]:
    """Drop same-pitch duplicates (keep the longer) and cut a note where its pitch repeats."""
    by_key: dict[tuple[int, Fraction], QNote] = {}
    for q in qnotes:
        k = (q.pitch, q.start)
        if k not in by_key or q.length > by_key[k].length:
            by_key[k] = q
    ordered = sorted(by_key.values(), key=lambda q: (q.pitch, q.start))
    out = []
    for a, b in zip(ordered, ordered[1:] + [None], strict=True):
        if b is not None and b.pitch == a.pitch and a.end > b.start:
            a = QNote(a.id, a.pitch, a.start, b.start, a.velocity, a.pedalled)
        out.append(a)
    return sorted(out, key=lambda q: (q.start, q.pitch))
