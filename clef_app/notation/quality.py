"""`clef score-eval`: how close Clef's score of a performance is to the composer's score.

Excerpts of music21 corpus pieces (PIECES: simple meters, then compound ones) are played
(a tempo curve with rubato and a final ritardando, see notation.corpus), then either
rendered with FluidSynth and transcribed by the Clef model, or, with --oracle, taken as
the played notes with realistic noise (onsets +-15 ms, releases +-30 ms, velocity +-6) so the
score-building half is measured without the model. Clef then builds its score and each
written note is compared with the original after one global alignment of positions:

- pitch: the same spelled pitch (F#4 is not G-4);
- onset: the same position in quarter notes;
- duration: the same written length (ties joined);
- meter: the same time signature with bar lines in the same places;
- key: the same key signature;
- hands: the same staff, taking the upper half of the original's parts as the right hand
  (soprano and alto of a chorale, the first staff of a piano piece).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from clef_app.notation.corpus import WrittenNote, performance, written_notes
from clef_app.notation.events import NoteEvent
from clef_app.notation.readability import Readability, readability
from clef_app.notation.score import ScoreResult, build_score, written_pitch

ONSET_JITTER = 0.015  # s: standard deviation of played onsets around the tempo curve
RELEASE_JITTER = 0.03  # s: ... of releases
VELOCITY_JITTER = 6.0  # MIDI velocity units: loudness varies from note to note
PEDAL_LIFT = 0.08  # s after a bar line the pedal changes
MATCH_ONSET = 0.05  # s: a transcribed note matches a played one within this (same pitch)
RUBATO = 0.04  # relative tempo swing over a 4-bar phrase
FINAL_RIT = 0.8  # tempo ratio reached at the last bar line


@dataclass(frozen=True)
class Piece:
    work: str  # music21 corpus path
    bars: int  # bars used from the start (a pickup bar is extra)
    bpm: float  # quarter notes per minute
    group: str = "original"  # which set it belongs to (means are printed per set)


# The first eight are the set the earlier numbers were measured on (kept for comparison);
# despite the name they are works the model trained on (see `in_training`). The compound
# set adds 6/8, 9/8, 12/8 and 3/8; its two jigs (folk collections are never trained on)
# are the only works here the model has not seen.
PIECES = (
    Piece("bach/bwv117.4.mxl", 8, 84),
    Piece("bach/bwv253.mxl", 8, 80),
    Piece("bach/bwv145.5.mxl", 10, 96),
    Piece("bach/bwv57.8.mxl", 10, 90),
    Piece("cpebach/h186.mxl", 8, 96),
    Piece("haydn/opus1no1/movement4.mxl", 12, 132),
    Piece("mozart/k156/movement4.mxl", 8, 100),
    Piece("verdi/laDonnaEMobile.mxl", 16, 112),
    Piece("haydn/opus1no1/movement1.mxl", 12, 150, "compound"),  # 6/8 Presto
    Piece("mozart/k458/movement1.mxl", 12, 160, "compound"),  # 6/8
    Piece("schumann_robert/opus41no1/movement2.mxl", 8, 110, "compound"),  # 6/8, fast eighths
    Piece("ryansMammoth/GarryOwenJig.abc", 16, 170, "compound"),  # 6/8 jig
    Piece("beethoven/opus18no1/movement2.mxl", 6, 100, "compound"),  # 9/8
    Piece("ryansMammoth/CockAndTheHenJig.abc", 12, 170, "compound"),  # 9/8 slip jig
    Piece("bach/bwv248.23-2.mxl", 6, 84, "compound"),  # 12/8
    Piece("mozart/k156/movement1.mxl", 16, 130, "compound"),  # 3/8 Presto
)


def in_training(work: str) -> bool:
    """Whether the model's training split may contain this work (clef build-data's rule)."""
    from clef_app.training.corpus import SKIP_DIRS, held_out

    return work.split("/")[0] not in SKIP_DIRS and not held_out(work)


@dataclass
class PieceScore:
    name: str
    method: str
    group: str
    notes: int  # original notes
    matched: int  # transcribed notes matched to an original one
    pitch: float  # fractions of original notes
    onset: float
    duration: float
    hands: float
    meter_ok: bool
    key_ok: bool
    meter: str  # "estimated/true"
    key: str
    read: Readability | None = None  # the score's readability counts


def load_piece(piece: Piece):
    """(excerpt, written notes, (true meter, bar quarters), key-signature sharps, pickup)."""
    from music21 import corpus

    score = corpus.parse(piece.work)
    excerpt = score.measures(0, piece.bars)
    first = excerpt.parts[0].getElementsByClass("Measure")[0]
    ts = excerpt.recurse().getElementsByClass("TimeSignature")[0]
    ks = excerpt.recurse().getElementsByClass("KeySignature")
    pickup = Fraction(first.paddingLeft).limit_denominator(96)
    pickup = Fraction(ts.barDuration.quarterLength) - pickup if pickup else Fraction(0)
    meter = (ts.ratioString, Fraction(ts.barDuration.quarterLength))
    return excerpt, written_notes(excerpt), meter, (ks[0].sharps if ks else 0), pickup


STYLES = ("gentle", "rubato", "drift", "spread")  # how a corpus piece is performed
PHRASE_RUBATO = 0.12  # "rubato": tempo swing over a 4-bar phrase (a pianist's, not a metronome's)
PHRASE_RIT = 0.75  # ... tempo ratio reached at each phrase's end
DRIFT = 0.04  # "drift": random-walk step of log tempo per bar (the tempo wanders 20-40 %)
SPREAD_STEP = 0.02  # "spread": s between successive notes of a spread chord, bottom up
MELODY_LEAD = 0.02  # s a chord's top note sounds before the rest (melody lead)
REAL_JITTER = 0.02  # s: onset noise of the rubato, drift and spread styles


def play(
    written: list[WrittenNote], piece: Piece, seed: int, bar: Fraction, pickup: Fraction,
    style: str = "gentle",
) -> list[NoteEvent]:
    """A performance of the written notes (timing noise is `jitter`'s).

    Styles: "gentle", a slow 4 % swing and a final ritardando (the earlier benchmark);
    "rubato", phrases of four bars that push on and hold back 12 % with a ritardando into
    each phrase end; "drift", that rubato on a tempo wandering as a random walk bar by
    bar; "spread", the rubato with chords of three or more notes spread from the bottom
    up and melody notes played early, as pianists play them.
    """
    end = float(max(w.start + w.length for w in written))
    rng = np.random.default_rng(seed + 1000)
    bar_q = float(bar)
    walk = np.exp(np.cumsum(rng.normal(0, DRIFT, int(end / bar_q) + 3)))

    def bpm(q: float) -> float:
        rit = 1.0 - (1.0 - FINAL_RIT) * min(max((q - (end - 4)) / 4, 0.0), 1.0)
        if style == "gentle":
            return piece.bpm * (1.0 + RUBATO * np.sin(2 * np.pi * q / 16.0 + seed)) * rit
        phrase = ((q - float(pickup)) / (4 * bar_q)) % 1.0  # 0..1 through a 4-bar phrase
        arc = 1.0 + PHRASE_RUBATO * np.sin(2 * np.pi * phrase)
        hold = 1.0 - (1.0 - PHRASE_RIT) * max(0.0, (phrase - 0.85) / 0.15)
        drift = walk[int(max(q, 0.0) / bar_q)] if style == "drift" else 1.0
        return piece.bpm * arc * hold * drift * rit

    notes = performance(written, bpm, bar_quarters=bar_q, first_bar_line=float(pickup))
    return spread_chords(notes, rng) if style == "spread" else notes


def spread_chords(notes: Sequence[NoteEvent], rng: np.random.Generator) -> list[NoteEvent]:
    """Chords of three or more notes spread bottom up (SPREAD_STEP each, varied), and the
    top note of every chord played MELODY_LEAD early."""
    by_onset: dict[float, list[NoteEvent]] = {}
    for n in notes:
        by_onset.setdefault(round(n.onset, 4), []).append(n)
    out = []
    for group in by_onset.values():
        group = sorted(group, key=lambda n: n.pitch)
        for k, n in enumerate(group):
            shift = 0.0
            if len(group) >= 3 and rng.random() < 0.5:
                shift = k * SPREAD_STEP * rng.uniform(0.6, 1.4)
            if len(group) >= 2 and k == len(group) - 1:
                shift -= MELODY_LEAD
            out.append(replace(n, onset=max(0.0, n.onset + shift),
                               offset=max(n.offset, n.onset + shift + 0.03)))
    return out


def jitter(notes: Sequence[NoteEvent], seed: int, onset_jitter: float = ONSET_JITTER
           ) -> list[NoteEvent]:
    rng = np.random.default_rng(seed)
    out = []
    for n in notes:
        on = n.onset + rng.normal(0, onset_jitter)
        off = max(on + 0.03, n.offset + rng.normal(0, RELEASE_JITTER))
        vel = int(np.clip(round(n.velocity + rng.normal(0, VELOCITY_JITTER)), 1, 127))
        out.append(replace(n, onset=max(0.0, on), offset=off, velocity=vel))
    return out


def pedalled(notes: Sequence[NoteEvent], bar_seconds: Sequence[float]) -> list[NoteEvent]:
    """Sounding notes under legato pedalling that changes at every bar line.

    The pedal goes down just after each bar line and up just after the next one; a key
    released while it is down sounds until it lifts (cut where the same key strikes again),
    as the training labels and so the model's transcriptions have it.
    """
    ups = list(bar_seconds[1:]) + [max(n.offset for n in notes) + 0.5]
    pedal = [(d + PEDAL_LIFT, u + PEDAL_LIFT) for d, u in zip(bar_seconds, ups, strict=True)]
    out = []
    for n in notes:
        off = n.offset
        for down, up in pedal:
            if down <= off < up:  # held until this pedal lifts (the next one goes down then)
                off = up
                break
        out.append(replace(n, offset=off))
    nxt: dict[int, float] = {}
    for n in sorted(out, key=lambda n: -n.onset):
        if n.pitch in nxt and n.offset > nxt[n.pitch]:
            out[out.index(n)] = replace(n, offset=max(nxt[n.pitch], n.onset + 0.03))
        nxt[n.pitch] = n.onset
    return out


def match(transcribed: Sequence[NoteEvent], played: Sequence[NoteEvent]) -> dict[int, int]:
    """Transcribed id -> played id: same pitch, nearest onset within MATCH_ONSET, one-to-one."""
    pairs = sorted(
        (abs(t.onset - p.onset), t.id, p.id)
        for t in transcribed for p in played
        if t.pitch == p.pitch and abs(t.onset - p.onset) <= MATCH_ONSET
    )
    used_t, used_p, out = set(), set(), {}
    for _, tid, pid in pairs:
        if tid not in used_t and pid not in used_p:
            out[tid] = pid
            used_t.add(tid)
            used_p.add(pid)
    return out


def compare(
    result: ScoreResult, written: list[WrittenNote], pairs: dict[int, int],
    true_meter: str, true_sharps: int, pickup: Fraction, n_parts: int,
) -> tuple[float, float, float, float, bool, bool, str, str]:
    by_id = {w.id: w for w in written}
    matched = [(result.placed[t].note, by_id[p]) for t, p in pairs.items() if t in result.placed]
    shift = Counter(q.start - w.start for q, w in matched).most_common(1)
    shift = shift[0][0] if shift else Fraction(0)
    n = max(len(written), 1)
    pitch = sum(written_pitch(result, q, None).nameWithOctave == w.name for q, w in matched) / n
    onset = sum(q.start - shift == w.start for q, w in matched) / n
    dur = sum(q.start - shift == w.start and q.length == w.length for q, w in matched) / n
    staff = {t: result.placed[t].staff for t in pairs if t in result.placed}
    upper = (n_parts + 1) // 2  # parts 0..upper-1 are the right hand
    hands = sum(staff[t] == (by_id[p].staff >= upper) for t, p in pairs.items() if t in staff) / n
    meter = result.timing.meters[0][1]
    bar_len = meter.bar_quarters
    # Clef's bar 1 line (position 0) lies at -shift on the original's time line
    meter_ok = str(meter) == true_meter and (-shift - pickup) % bar_len == 0
    from clef_app.notation.keys import parse_key

    sharps = parse_key(result.keys[0][1]).sharps
    return (pitch, onset, dur, hands, meter_ok, sharps == true_sharps,
            f"{meter}/{true_meter}", f"{sharps:+d}/{true_sharps:+d}")


def evaluate_piece(
    piece: Piece, method: str, oracle: bool, seed: int, transcriber=None, pedal: bool = False,
    style: str = "gentle",
):
    excerpt, written, (true_meter, bar), sharps, pickup = load_piece(piece)
    played = play(written, piece, seed, bar, pickup, style)
    if oracle:
        heard = jitter(played, seed, ONSET_JITTER if style == "gentle" else REAL_JITTER)
        if pedal:
            heard = pedalled(heard, bar_times(played, written, bar, pickup))
        pairs = {n.id: n.id for n in heard}
    else:
        heard = transcribe(played, transcriber)
        pairs = match(heard, played)
    result = build_score(heard, {}, method)
    pitch, onset, dur, hands, meter_ok, key_ok, meter, key = compare(
        result, written, pairs, true_meter, sharps, pickup, len(excerpt.parts))
    name = piece.work.rsplit(".", 1)[0] + ("*" if in_training(piece.work) else "")
    return PieceScore(name, method, piece.group, len(written), len(pairs), pitch, onset, dur, hands,
                      meter_ok, key_ok, meter, key, readability(result.score, true_meter))


def bar_times(
    played: Sequence[NoteEvent], written: list[WrittenNote], bar: Fraction, pickup: Fraction
) -> list[float]:
    """Seconds of each bar line of a performance (interpolated through its notes)."""
    q = np.array([float(w.start) for w in written])
    t = np.array([n.onset for n in played])
    order = np.argsort(q)
    lines = np.arange(float(pickup), q.max() + float(bar), float(bar))
    return list(np.interp(lines, q[order], t[order]))


def transcribe(played: Sequence[NoteEvent], transcriber) -> list[NoteEvent]:
    """Render the performance with FluidSynth and transcribe it with the Clef model."""
    from clef_app.audio.synth import render_notes

    audio = render_notes(played, transcriber.sample_rate)
    notes: list[NoteEvent] = []
    for progress in transcriber.transcribe(audio, transcriber.sample_rate):
        notes += progress.notes
    return notes


def format_table(rows: list[PieceScore]) -> str:
    """Agreement with the original, then the readability counts, per piece and per set."""
    head = (f"{'piece':<36} {'method':<7} {'notes':>5} {'match':>5} {'pitch':>6} {'onset':>6} "
            f"{'dur':>6} {'hands':>6}  {'meter est/true':<15} {'key est/true':<12}"
            f"{READ_HEAD}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<36} {r.method:<7} {r.notes:>5} {r.matched:>5} {r.pitch:>6.1%} "
            f"{r.onset:>6.1%} {r.duration:>6.1%} {r.hands:>6.1%}  "
            f"{('ok ' if r.meter_ok else 'NO ') + r.meter:<15} "
            f"{('ok ' if r.key_ok else 'NO ') + r.key:<12}{read_cells(r.read)}")
    lines.append("-" * len(head))
    groups = list(dict.fromkeys(r.group for r in rows))
    for group in groups + (["all"] if len(groups) > 1 else []):
        for method in dict.fromkeys(r.method for r in rows):
            rs = [r for r in rows if r.method == method and group in ("all", r.group)]
            lines.append(_mean_line(f"mean {group} ({len(rs)})", method, rs))
    lines.append("* the model trained on this work (other performances and renders of it)")
    lines.append(READ_LEGEND)
    return "\n".join(lines)


READ_HEAD = (f" {'<16th':>6} {'tup/bar':>7} {'in tup':>6} {'rest/bar':>8} {'clef/10':>7} "
             f"{'meter':>6}")
READ_LEGEND = ("<16th: written notes drawn shorter than a 16th; tup/bar: tuplet brackets per bar; "
               "in tup: notes in tuplets; rest/bar: printed rests per bar; clef/10: clef changes "
               "per staff per 10 bars; meter: bars in the piece's time signature")


def read_cells(read: Readability | None) -> str:
    if read is None:
        return ""
    meter = f"{read.meter_share:>6.0%}" if read.meter_known else f"{'?':>6}"
    return (f" {read.short_share:>6.1%} {read.tuplets_per_bar:>7.2f} {read.tuplet_share:>6.1%} "
            f"{read.rests_per_bar:>8.2f} {read.clef_changes_per_10:>7.2f} {meter}")


def _mean_line(label: str, method: str, rs: list[PieceScore]) -> str:
    pooled = sum((r.read for r in rs if r.read is not None), Readability())
    return (f"{label:<36} {method:<7} {sum(r.notes for r in rs):>5} "
            f"{sum(r.matched for r in rs):>5} {np.mean([r.pitch for r in rs]):>6.1%} "
            f"{np.mean([r.onset for r in rs]):>6.1%} {np.mean([r.duration for r in rs]):>6.1%} "
            f"{np.mean([r.hands for r in rs]):>6.1%}  "
            f"{f'{sum(r.meter_ok for r in rs)}/{len(rs)} ok':<15} "
            f"{f'{sum(r.key_ok for r in rs)}/{len(rs)} ok':<12}"
            f"{read_cells(pooled) if any(r.read for r in rs) else ''}")
