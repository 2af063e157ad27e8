"""Bars and note values: where bar lines fall, and how a span is written as tied notes.

A span is split where notation convention wants a tie: at bar lines, at the middle of a
4/4 (or 12/8) bar unless the span starts the bar, at the next beat when it starts off
the beat, and wherever its length has no single (dotted) note value. Triplet,
quintuplet and septuplet values stay inside one beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

F = Fraction
PLAIN = {F(1, 8), F(1, 4), F(1, 2), F(1), F(2), F(4)}  # 32nd .. whole
DOTTED = {v * F(3, 2) for v in PLAIN if v < 4}
TRIPLET = {F(1, 6), F(1, 3), F(2, 3), F(1, 12)}  # in a quarter-note beat
WRITABLE = PLAIN | DOTTED | TRIPLET
TUPLET_NUMBERS = (5, 7)  # quintuplets, septuplets: n notes in the time of 4 (16ths in a quarter)
TUPLET_UNITS = {1, 2, 3, 4, 6}  # tuplet steps one note value covers (16th, 8th, dotted 8th, ...)
MAX_BAR_SPLITS = 64  # recursion guard
MAX_NUMERATOR = 32  # beats in a bar at most (a 32/16 bar is written; 100000/1 is not)


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    @classmethod
    def parse(cls, text: str) -> Meter:
        try:
            num, den = (int(x) for x in text.strip().split("/"))
        except ValueError:
            raise ValueError(f"time signature {text!r}: expected e.g. 3/4") from None
        if not 1 <= num <= MAX_NUMERATOR or den not in (1, 2, 4, 8, 16):
            raise ValueError(f"time signature {text!r} is not supported (numerator 1.."
                             f"{MAX_NUMERATOR}, denominator 1, 2, 4, 8 or 16)")
        return cls(num, den)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def compound(self) -> bool:
        """Dotted-quarter beats (3/8 is one beat a bar, 6/8 two, ...)."""
        return self.denominator == 8 and self.numerator % 3 == 0

    @property
    def bar_quarters(self) -> Fraction:
        return F(4 * self.numerator, self.denominator)

    @property
    def beat_quarters(self) -> Fraction:
        return F(3, 2) if self.compound else F(4, self.denominator)

    @property
    def half_bar(self) -> Fraction | None:
        """The secondary accent that ties must show (4/4, 4/2, 12/8), or None."""
        beats = self.bar_quarters / self.beat_quarters
        return self.bar_quarters / 2 if beats == 4 else None


@dataclass(frozen=True)
class Bar:
    number: int  # 0 for a pickup bar
    start: Fraction  # quarter notes from bar 1's bar line
    meter: Meter
    length: Fraction  # quarter notes; a pickup bar is shorter than its meter

    @property
    def end(self) -> Fraction:
        return self.start + self.length

    @property
    def shift(self) -> Fraction:
        """Where this bar starts within a full bar of its meter (a pickup is right-aligned)."""
        return self.meter.bar_quarters - self.length


def make_bars(
    meters: list[tuple[int, Meter]], pickup: Fraction, until: Fraction
) -> list[Bar]:
    """Bars covering [-pickup, until); `meters` is (first bar, meter), sorted, starting at 1.

    A pickup bar (number 0) has the first meter and is shorter than it.
    """
    meter_at = dict(meters)
    meter = meters[0][1]
    bars: list[Bar] = []
    if pickup > 0:
        bars.append(Bar(0, -pickup, meter, pickup))
    pos, number = F(0), 1
    while pos < until or number == 1:
        meter = meter_at.get(number, meter)
        bars.append(Bar(number, pos, meter, meter.bar_quarters))
        pos += meter.bar_quarters
        number += 1
    return bars


def split_span(
    a: Fraction, b: Fraction, meter: Meter, bar_len: Fraction | None = None
) -> list[Fraction]:
    """Cut points splitting [a, b) (positions within a bar) into writable tied pieces.

    Returns:
        the piece boundaries including a and b.
    """
    bar_len = meter.bar_quarters if bar_len is None else bar_len
    if a == 0 and b == bar_len and bar_len in WRITABLE | {F(3), F(6)}:
        return [a, b]
    stack = [(a, b)]
    pieces: list[tuple[Fraction, Fraction]] = []
    for _ in range(MAX_BAR_SPLITS):
        if not stack:
            break
        x, y = stack.pop()
        cut = _cut(x, y, meter)
        if cut is None:
            pieces.append((x, y))
        else:
            stack.extend([(cut, y), (x, cut)])
    pieces.extend(stack)
    return sorted({p for ab in pieces for p in ab})


def _cut(a: Fraction, b: Fraction, meter: Meter) -> Fraction | None:
    """Where to split [a, b), or None if it is one writable note."""
    beat = meter.beat_quarters
    half = meter.half_bar
    if half is not None and a < half < b and a != 0:
        return half
    n = _tuplet(a, b, beat)
    if n:  # quintuplet or septuplet values stay within their beat
        beat_end = (a // beat + 1) * beat
        if b > beat_end:
            return beat_end
        units = (b - a) * n / beat
        if units in TUPLET_UNITS:
            return None
        return a + max(u for u in TUPLET_UNITS if u < units) * beat / n
    next_beat = (a // beat + 1) * beat
    on_beat = a % beat == 0
    if not on_beat and b > next_beat:
        return next_beat
    length = b - a
    if length in WRITABLE and (on_beat or length < beat) and _tuplet_ok(a, length, beat):
        return None
    for level in _levels(beat):  # the coarsest grid point inside: after a long first piece
        # when the span starts on its grid, else where the span first meets it
        late, early = (b // level) * level, -((-a) // level) * level
        for cut in ((late, early) if a % level == 0 else (early, late)):
            if a < cut < b:
                return cut
    return None


def _tuplet(a: Fraction, b: Fraction, beat: Fraction) -> int | None:
    """5 or 7 if [a, b) lies on a quintuplet (septuplet) grid of the beat, not a plain one."""
    for n in TUPLET_NUMBERS:
        on_grid = [((x / beat) * n).denominator == 1 for x in (a, b)]
        plain = [((x / beat) * 48).denominator == 1 for x in (a, b)]
        if all(on_grid) and not all(plain):
            return n
    return None


def _tuplet_ok(a: Fraction, length: Fraction, beat: Fraction) -> bool:
    """A triplet value must stay within its beat (brackets per beat)."""
    if length not in TRIPLET or beat != 1:
        return length not in TRIPLET or beat == 1
    return (a % beat) + length <= beat


def _levels(beat: Fraction) -> list[Fraction]:
    """Grid levels from coarse to fine used to find a tie point."""
    return [beat, beat / 2, beat / 3, beat / 4, beat / 6, beat / 8, beat / 12, beat / 16]
