"""How readable a built score is, whatever it was built from (issue 17's measures).

What a pianist objects to in a machine's score, counted on the music21 score Clef writes:

- short notes: written notes (each pitch of a chord, each tied piece) whose drawn value is
  shorter than a 16th (32nds and shorter; a sextuplet 16th is a 16th, counted as a tuplet);
- tuplets: brackets (a run of tuplet notes and rests within one beat of one voice) per bar,
  and the share of notes inside them;
- rests: printed rests per bar (a second voice's hidden rests are not printed);
- clef changes: per staff per 10 bars;
- meter: the share of bars whose time signature is the piece's (2/2 counts as 4/4, whose
  bar it is, since Clef writes no cut time).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from music21 import clef, meter, note, stream

SHORT_TYPES = {"32nd", "64th", "128th", "256th", "512th", "1024th", "2048th"}
SAME_BAR = {"2/2": "4/4", "4/4": "4/4"}  # time signatures written the same bar apart


@dataclass
class Readability:
    """Counts over one score (add them up to pool pieces)."""

    notes: int = 0  # written notes (chord members and tied pieces each count)
    short: int = 0  # ... drawn shorter than a 16th
    tuplet_notes: int = 0  # ... inside a tuplet
    tuplets: int = 0  # tuplet brackets
    rests: int = 0  # printed rests
    bars: int = 0
    staff_bars: int = 0  # bars times staves
    clef_changes: int = 0  # on all staves
    meter_bars: int = 0  # bars in the piece's meter (when it is known)
    known_bars: int = 0  # bars of scores whose piece's meter is known

    def __add__(self, other: Readability) -> Readability:
        return Readability(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.notes, self.short, self.tuplet_notes, self.tuplets, self.rests, self.bars,
                self.staff_bars, self.clef_changes, self.meter_bars, self.known_bars)

    @property
    def short_share(self) -> float:
        return self.short / max(self.notes, 1)

    @property
    def tuplet_share(self) -> float:
        return self.tuplet_notes / max(self.notes, 1)

    @property
    def tuplets_per_bar(self) -> float:
        return self.tuplets / max(self.bars, 1)

    @property
    def rests_per_bar(self) -> float:
        return self.rests / max(self.bars, 1)

    @property
    def clef_changes_per_10(self) -> float:
        """Clef changes per staff per 10 bars."""
        return 10 * self.clef_changes / max(self.staff_bars, 1)

    @property
    def meter_known(self) -> bool:
        return self.known_bars > 0

    @property
    def meter_share(self) -> float:
        """Of the bars of pieces whose meter is known, the share written in it."""
        return self.meter_bars / max(self.known_bars, 1)


def same_meter(a: str, b: str) -> bool:
    return SAME_BAR.get(a, a) == SAME_BAR.get(b, b)


def readability(score: stream.Score, true_meter: str | None = None) -> Readability:
    """The readability counts of a score (notation.score's two PartStaffs, or any parts).

    Args:
        score: the built score.
        true_meter: the piece's time signature ("3/4"), if known; else meter_bars stays 0.
    """
    out = Readability()
    for k, part in enumerate(score.parts):
        measures = list(part.getElementsByClass(stream.Measure))
        if k == 0:
            out.bars = len(measures)
            out.known_bars = len(measures) if true_meter else 0
        out.staff_bars += len(measures)
        shown = None
        current = None
        for m in measures:
            for c in m.getElementsByClass(clef.Clef):
                if shown is not None and type(c) is not type(shown):
                    out.clef_changes += 1
                shown = c
            ts = m.getElementsByClass(meter.TimeSignature)
            current = ts[0].ratioString if ts else current
            if k == 0 and true_meter and current and same_meter(current, true_meter):
                out.meter_bars += 1
            voices = list(m.voices) or [m]
            for v in voices:
                _count_voice(v, _beat_of(current), out)
    return out


def _beat_of(ratio: str | None) -> Fraction:
    if not ratio:
        return Fraction(1)
    num, den = (int(x) for x in ratio.split("/"))
    return Fraction(3, 2) if den == 8 and num % 3 == 0 else Fraction(4, den)


def _count_voice(container, beat: Fraction, out: Readability) -> None:
    last_group = None
    for el in container.notesAndRests:
        if isinstance(el, note.Rest):
            if not el.style.hideObjectOnPrint:
                out.rests += 1
        else:
            heads = len(el.pitches)
            out.notes += heads
            if el.duration.type in SHORT_TYPES:
                out.short += heads
            if el.duration.tuplets:
                out.tuplet_notes += heads
        tuplets = el.duration.tuplets
        if tuplets:
            t = tuplets[0]
            group = (int(Fraction(el.offset).limit_denominator(96) // beat),
                     t.numberNotesActual, t.numberNotesNormal)
            if group != last_group:
                out.tuplets += 1
            last_group = group
        else:
            last_group = None
