"""Notes + settings -> a two-staff piano score (music21), with a map to and from note ids.

The pipeline: timing (tempo map, meter, pickup) -> quantisation -> key -> hands and
voices -> bars -> music21 objects. Every written note carries an element id derived from
its NoteEvent id ("n17", and "n17-2", "n17-3" for tied continuations) that survives
MusicXML, Verovio's MEI and its SVG, so a click in the engraving finds its note.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from music21 import chord, clef, duration, instrument, layout, metadata, meter, note, stream, tempo
from music21 import key as m21key

from clef_app.notation import keys
from clef_app.notation.clefs import BASS, TREBLE, choose_clefs, min_run_bars
from clef_app.notation.events import NoteEvent
from clef_app.notation.layout import LOWER, UPPER, Placed, layout_steps
from clef_app.notation.layout import layout as place_notes
from clef_app.notation.measures import Bar, make_bars, split_span
from clef_app.notation.quantize import QNote, quantize, quantize_steps
from clef_app.notation.settings import ScoreSettings
from clef_app.notation.steps import Steps, run_to_end, scaled
from clef_app.notation.timemap import TempoMap
from clef_app.notation.timing import Timing, analyse_timing_steps

BARS_PER_STEP = 50  # bars written between two progress reports (and chances to cancel)
TEMPO_MARK_CHANGE = 0.12  # a new tempo mark when a bar's tempo differs this much (ratio)
SIXTH = Fraction(1, 6)  # quarter notes: a 16th of a sextuplet
_ELEMENT_ID = re.compile(r"^n(\d+)(?:-\d+)?$")


@dataclass
class ScoreResult:
    """A built score and what it was built from."""

    score: stream.Score
    timing: Timing
    keys: list[tuple[int, str]]  # (first bar, key name)
    bars: list[Bar]
    placed: dict[int, Placed]  # note id -> its quantised, placed note
    element_ids: dict[int, list[str]] = field(default_factory=dict)  # note id -> element ids

    @property
    def tempo_map(self) -> TempoMap:
        return self.timing.tempo_map

    def bar_at(self, position: Fraction) -> Bar:
        for bar in reversed(self.bars):
            if bar.start <= position:
                return bar
        return self.bars[0]

    def key_at(self, bar_number: int) -> str:
        name = self.keys[0][1]
        for b, k in self.keys:
            if b <= bar_number:
                name = k
        return name


def note_id_of(element_id: str) -> int | None:
    """The NoteEvent id behind a score element id ("n17-2" -> 17), None for other elements."""
    m = _ELEMENT_ID.match(element_id)
    return int(m.group(1)) if m else None


def build_score(
    notes: Sequence[NoteEvent], settings: dict | None = None, method: str = "auto"
) -> ScoreResult:
    """Build the score.

    Args:
        notes: the document's notes, times in seconds.
        settings: user overrides (see notation.settings).
        method: "auto" (beat tracking, meter/key estimation, adaptive grid, hands by voice
            continuity) or "simple" (the walking skeleton: one tempo, 4/4, 1/16 grid,
            split at middle C) kept as the quality baseline.

    Returns:
        the music21 score, the analysis, and the note id <-> element id maps.
    """
    return run_to_end(build_score_steps(notes, settings, method))


def build_score_steps(
    notes: Sequence[NoteEvent], settings: dict | None = None, method: str = "auto"
) -> Steps[ScoreResult]:
    """`build_score` as a generator (notation.steps): yields the fraction done after each
    stage and every BARS_PER_STEP bars written, and returns the ScoreResult."""
    s = ScoreSettings.from_dict(settings)
    yield 0.0
    timing = yield from scaled(analyse_timing_steps(notes, s, method), 0.0, 0.3)
    yield 0.3
    grid = s.grid if method == "auto" else (s.grid if s.grid != "auto" else "1/16")
    qnotes = yield from scaled(quantize_steps(notes, timing.tempo_map, grid,
                                              timing.beat_quarters, timing.first_beat), 0.3, 0.38)
    key_list = [(b, k) for b, k in s.key if keys.parse_key(k)]  # parse_key raises if invalid
    if not key_list or key_list[0][0] > 1:
        key_list.insert(0, (1, keys.estimate_key(qnotes) if method == "auto" else "C major"))
    yield 0.4
    split = s.split if s.split != "auto" or method == "auto" else 60
    placed = yield from scaled(layout_steps(qnotes, split), 0.4, 0.48)
    until = max((p.note.end for p in placed), default=Fraction(1))
    bars = make_bars(timing.meters, timing.pickup, until)
    yield 0.5
    result = ScoreResult(stream.Score(), timing, key_list, bars, {p.note.id: p for p in placed})
    yield from scaled(_fill_score(result, s), 0.5, 1.0)
    return result


def build_bars(
    notes: Sequence[NoteEvent], settings: dict | None, previous: ScoreResult, first: int,
    last: int,
) -> ScoreResult:
    """Bars previous.bars[first..last] of the score of `notes`, with `previous`'s timing,
    keys and bar lines kept: the quick local score an edit shows at once, while the whole
    score is built again. Notes starting in those bars are written (one tied in from an
    earlier bar is not); the first bar carries its clefs, key and time signature.
    """
    s = ScoreSettings.from_dict(settings)
    bars = previous.bars[first : last + 1]
    timing = previous.timing
    t0, t1 = (float(t) for t in timing.tempo_map.to_seconds([float(bars[0].start),
                                                             float(bars[-1].end)]))
    margin = 0.25 * (t1 - t0) / max(len(bars), 1)  # a note played early for the first beat
    inside = [n for n in notes if t0 - margin <= n.onset < t1]
    grid = s.grid
    qnotes = quantize(inside, timing.tempo_map, grid, timing.beat_quarters, timing.first_beat)
    qnotes = [q for q in qnotes if bars[0].start <= q.start < bars[-1].end]
    placed = place_notes(qnotes, s.split)
    result = ScoreResult(stream.Score(), timing, previous.keys, list(bars),
                         {p.note.id: p for p in placed})
    run_to_end(_fill_score(result, s, tempo_marks=False))
    return result


def _fill_score(result: ScoreResult, s: ScoreSettings, tempo_marks: bool = True) -> Steps[None]:
    """Write the placed notes into two PartStaffs of result.score (yielding progress)."""
    score = result.score
    md = metadata.Metadata(title=s.title)
    if s.composer:
        md.composer = s.composer
    score.insert(0, md)
    staves = [stream.PartStaff(id="staff1"), stream.PartStaff(id="staff2")]
    staves[0].insert(0, instrument.Piano())
    by_staff: dict[int, list[Placed]] = defaultdict(list)
    for p in result.placed.values():
        by_staff[p.staff].append(p)
    total = 2 * max(1, len(result.bars))
    for k, (st, part) in enumerate(zip((UPPER, LOWER), staves, strict=True)):
        per_bar = _by_bar(_voices(by_staff[st]), result.bars)
        shown = None
        for i, (bar, name) in enumerate(zip(result.bars, _clefs(by_staff[st], result.bars, st),
                                            strict=True)):
            m = _measure(result, bar, i, per_bar[i], st, s)
            if name != shown:
                m.insert(0, clef.TrebleClef() if name == TREBLE else clef.BassClef())
                shown = name
            part.append(m)
            if i % BARS_PER_STEP == BARS_PER_STEP - 1:
                yield (k * len(result.bars) + i + 1) / total
    if tempo_marks:
        _tempo_marks(result, staves[0])
    for part in staves:
        score.insert(0, part)
    score.insert(0, layout.StaffGroup(staves, symbol="brace", barTogether=True))
    yield 1.0


def _by_bar(voices: dict[int, list[list[QNote]]], bars: list[Bar]) -> list[dict]:
    """For each bar, voice -> the events sounding in it (each event found by bisection)."""
    starts = [b.start for b in bars]
    out: list[dict[int, list[list[QNote]]]] = [defaultdict(list) for _ in bars]
    for v, events in voices.items():
        for ev in events:
            i = max(bisect_right(starts, ev[0].start) - 1, 0)
            while i < len(bars) and bars[i].start < ev[0].end:
                if _overlaps(ev, bars[i]):
                    out[i][v].append(ev)
                i += 1
    return out


def _voices(placed: list[Placed]) -> dict[int, list[list[QNote]]]:
    """voice -> its events in time order, each event the notes sharing a start."""
    groups: dict[int, dict[Fraction, list[QNote]]] = defaultdict(lambda: defaultdict(list))
    for p in placed:
        groups[p.voice][p.note.start].append(p.note)
    return {
        v: [sorted(g[k], key=lambda q: q.pitch) for k in sorted(g)]
        for v, g in sorted(groups.items())
    }


def _measure(
    result: ScoreResult, bar: Bar, index: int, voices: dict, staff: int, s: ScoreSettings
) -> stream.Measure:
    m = stream.Measure(number=bar.number)
    prev = result.bars[index - 1] if index > 0 else None
    if prev is None or prev.meter != bar.meter:
        m.insert(0, meter.TimeSignature(str(bar.meter)))
    key_name = result.key_at(bar.number)
    if prev is None or key_name != result.key_at(prev.number):
        m.insert(0, m21key.KeySignature(keys.parse_key(key_name).sharps))
    if bar.shift:
        m.paddingLeft = float(bar.shift)
    active = sorted(voices)
    if len(active) <= 1:
        _write_voice(m, voices[active[0]] if active else [], bar, key_name, result, s)
        return m
    for v in active:
        voice = stream.Voice(id=str(v))
        _write_voice(voice, voices[v], bar, key_name, result, s, hide_rests=v != active[0])
        m.insert(0, voice)
    return m


def _overlaps(event: list[QNote], bar: Bar) -> bool:
    return event[0].start < bar.end and event[0].end > bar.start


def _write_voice(
    container, events, bar: Bar, key_name: str, result, s, hide_rests: bool = False
) -> None:
    """Notes, chords, rests and ties of one voice within one bar.

    A secondary voice's rests are kept (the bar must add up) but not printed: the
    engraving shows its notes, not a second row of rests.
    """
    inside = events
    if not inside and bar.number != 0:
        r = note.Rest(quarterLength=float(bar.length))
        r.fullMeasure = True
        container.append(r)
        return
    origin = bar.start - bar.shift  # absolute position of the full bar's start
    pos = bar.start
    for ev in inside:
        a, b = max(ev[0].start, bar.start), min(ev[0].end, bar.end)
        if a > pos:
            _append_rests(container, pos - origin, a - origin, bar, hide_rests)
        _append_event(container, ev, a - origin, b - origin, origin, bar, key_name, result, s)
        pos = b
    if pos < bar.end:
        _append_rests(container, pos - origin, bar.end - origin, bar, hide_rests)
    if bar.meter.beat_quarters == 1:
        _sextuplets(container, bar.shift)


def _sextuplets(container, shift: Fraction) -> None:
    """Beats of 16th triplets (and eighth triplets among them) under one 6:4 bracket.

    Six notes in a quarter are one sextuplet, not two triplets: the notes of a beat that
    all last a sixth or a third of it, some a sixth, get a 6:4 tuplet of 16ths.
    """
    beats: dict[int, list] = defaultdict(list)
    for el in container.notesAndRests:
        beats[int(el.offset + shift)].append(el)  # a pickup bar's notes start late
    for els in beats.values():
        lengths = [Fraction(el.quarterLength).limit_denominator(48) for el in els]
        if sum(lengths) != 1 or not set(lengths) <= {SIXTH, 2 * SIXTH} or SIXTH not in lengths:
            continue
        for el, ql in zip(els, lengths, strict=True):
            kind = "16th" if ql == SIXTH else "eighth"
            el.duration = duration.Duration(kind)
            el.duration.appendTuplet(duration.Tuplet(6, 4, "16th"))


def _append_rests(container, a: Fraction, b: Fraction, bar: Bar, hidden: bool = False) -> None:
    pts = split_span(a, b, bar.meter)
    for x, y in zip(pts, pts[1:], strict=False):
        r = note.Rest()
        r.duration = duration.Duration(y - x)
        r.style.hideObjectOnPrint = hidden
        container.append(r)


def _append_event(container, ev, a, b, origin, bar: Bar, key_name, result: ScoreResult, s) -> None:
    """One voice event (notes sharing start and end) within a bar, tied across pieces."""
    pts = split_span(a, b, bar.meter)
    for x, y in zip(pts, pts[1:], strict=False):
        pieces = []
        for q in ev:
            n = note.Note(_pitch_of(q, key_name, s))
            n.volume.velocity = q.velocity
            ids = result.element_ids.setdefault(q.id, [])
            n.id = f"n{q.id}" if not ids else f"n{q.id}-{len(ids) + 1}"
            ids.append(n.id)
            n.tie = _tie(origin + x == q.start, origin + y == q.end)
            pieces.append(n)
        el = pieces[0] if len(pieces) == 1 else chord.Chord(pieces)
        el.duration = duration.Duration(y - x)
        container.append(el)


def _tie(starts_here: bool, ends_here: bool):
    from music21 import tie

    if starts_here and ends_here:
        return None
    if starts_here:
        return tie.Tie("start")
    if ends_here:
        return tie.Tie("stop")
    return tie.Tie("continue")


def _pitch_of(q: QNote, key_name: str, s: ScoreSettings):
    from music21 import pitch

    name = s.spelling.get(q.id)
    if name:
        try:
            p = pitch.Pitch(name)
        except Exception:  # a hand-edited project file: fall back to the key's spelling
            p = None
        if p is not None and p.midi % 12 == q.pitch % 12:
            p.octave = (p.octave if p.octave is not None else 4) + (q.pitch - p.midi) // 12
            return p
    return keys.spell(q.pitch, key_name)


def written_pitch(result: ScoreResult, q: QNote, settings: dict | None):
    """The spelled pitch (music21 Pitch) the score writes for a placed note."""
    bar = result.bar_at(q.start)
    return _pitch_of(q, result.key_at(bar.number), ScoreSettings.from_dict(settings))


def _clefs(placed: list[Placed], bars: list[Bar], staff: int) -> list[str]:
    """Each bar's clef on one staff (see `clefs.choose_clefs`): no change where a note of
    the staff is tied into the bar."""
    starts = [b.start for b in bars]
    pitches: list[list[int]] = [[] for _ in bars]
    tied_in = [False] * len(bars)
    for p in placed:
        first = max(0, bisect_right(starts, p.note.start) - 1)
        pitches[first].append(p.note.pitch)
        i = first + 1
        while i < len(bars) and starts[i] < p.note.end:  # tied over the bar line into bar i
            tied_in[i] = True
            i += 1
    usual = statistics.median(float(b.meter.bar_quarters) for b in bars) if bars else 4.0
    return choose_clefs(pitches, TREBLE if staff == UPPER else BASS, tied_in,
                        min_run_bars(usual))


def _tempo_marks(result: ScoreResult, part: stream.Part) -> None:
    """A metronome mark on the first bar (the pickup, if any: its tempo is bar 1's) and
    where the tempo changes for good.

    A change counts when this bar and the next both differ from the last mark by more
    than TEMPO_MARK_CHANGE (so rubato and a final ritardando leave no marks).
    """
    tm = result.tempo_map
    beat = result.timing.beat_quarters
    full = [(i, b) for i, b in enumerate(result.bars) if b.number > 0]
    bpms = [tm.mean_bpm(float(b.start), float(b.end)) for _, b in full]
    measures = list(part.getElementsByClass(stream.Measure))
    last = None
    for k, (i, _) in enumerate(full):
        ahead = bpms[k : k + 2]
        if last is not None and not all(abs(b / last - 1) > TEMPO_MARK_CHANGE for b in ahead):
            continue
        if last is not None and len(ahead) < 2:
            continue
        per_beat = int(round(bpms[k] / float(beat)))
        mark = tempo.MetronomeMark(number=per_beat, referent=duration.Duration(float(beat)))
        measures[i if last is not None else 0].insert(0, mark)  # the first on bar 1 or its
        # pickup: a tempo mark stands at the start of the music
        last = bpms[k]
