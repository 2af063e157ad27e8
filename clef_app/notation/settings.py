"""Score settings: the user's overrides of what Clef estimates, as plain data.

The GUI keeps a settings dict in the document and the project file; `ScoreSettings.from_dict`
reads it (unknown keys are ignored, missing keys mean "estimate it"). Bars are numbered
from 1 like in the engraved score; an override holds from its bar onwards.

    {"tempo": [(1, 96.0), (9, 80.0)],   # quarter notes per minute from a bar on
     "meter": [(1, "3/4")],             # time signature from a bar on
     "key": [(1, "D major")],           # key (spelling and key signature) from a bar on
     "grid": "auto",                    # auto | 1/8 | 1/16 | 1/32 | 1/12 | 1/24 (of a whole)
     "pickup": 0.0,                     # quarter notes before the first bar line
     "split": "auto",                   # auto (voice continuity) or a MIDI pitch
     "spelling": {"17": "E-"},          # note id -> music21 pitch name (enharmonic choice)
     "title": "Take 3"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

GRIDS = ("auto", "1/8", "1/12", "1/16", "1/24", "1/32")


@dataclass(frozen=True)
class ScoreSettings:
    """Overrides for score building; None or empty means Clef estimates it."""

    tempo: tuple[tuple[int, float], ...] = ()
    meter: tuple[tuple[int, str], ...] = ()
    key: tuple[tuple[int, str], ...] = ()
    grid: str = "auto"
    pickup: Fraction | None = None
    split: str | int = "auto"
    spelling: dict[int, str] = field(default_factory=dict)
    title: str = ""

    @classmethod
    def from_dict(cls, d: dict | None) -> ScoreSettings:
        d = dict(d or {})
        tempo = [(int(b), float(v)) for b, v in d.get("tempo") or ()]
        if d.get("tempo_bpm") and not any(b == 1 for b, _ in tempo):
            tempo = [(1, float(d["tempo_bpm"]))] + tempo  # shorthand; the list wins
        grid = str(d.get("grid") or "auto")
        if grid not in GRIDS:
            raise ValueError(f"grid {grid!r}: expected one of {', '.join(GRIDS)}")
        pickup = d.get("pickup")
        split = d.get("split", "auto")
        return cls(
            tempo=_by_bar(tempo),
            meter=_by_bar((int(b), str(v)) for b, v in d.get("meter") or ()),
            key=_by_bar((int(b), str(v)) for b, v in d.get("key") or ()),
            grid=grid,
            pickup=None if pickup is None else Fraction(pickup).limit_denominator(48),
            split=split if split == "auto" else int(split),
            spelling={int(k): str(v) for k, v in (d.get("spelling") or {}).items()},
            title=str(d.get("title") or ""),
        )


def _by_bar(items) -> tuple:
    """Sorted by bar, one entry per bar (the last given wins), bars >= 1."""
    out: dict[int, object] = {}
    for bar, value in items:
        if bar < 1:
            raise ValueError(f"bar {bar}: bars are numbered from 1")
        out[bar] = value
    return tuple(sorted(out.items()))


def with_override(settings: dict | None, kind: str, bar: int, value) -> dict:
    """A copy of a settings dict with `kind` ("tempo", "meter", "key") set from `bar` on."""
    d = dict(settings or {})
    entries = [(int(b), v) for b, v in d.get(kind) or () if int(b) != bar]
    if value is not None:
        entries.append((bar, value))
    d[kind] = [list(e) for e in sorted(entries)]
    if kind == "tempo" and bar == 1:
        d.pop("tempo_bpm", None)
    return d
