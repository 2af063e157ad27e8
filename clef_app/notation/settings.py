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
     "title": "Take 3",
     "composer": "R. Schumann",
     "page_size": "a4"}                 # a4 | letter | "" (the locale's)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from clef_app.notation.events import MAX_NOTE_SECONDS, MAX_NOTES
from clef_app.notation.measures import Meter

GRIDS = ("auto", "1/8", "1/12", "1/16", "1/24", "1/32")
MIN_BPM, MAX_BPM = 10.0, 400.0  # quarter notes per minute a tempo override may set
# bars in the longest piece Clef opens: 4 h at MAX_BPM in the shortest bar (1/16, a quarter
# of a quarter note); an override beyond it is never in the piece
MAX_BAR = int(MAX_NOTE_SECONDS / 60 * MAX_BPM * 4)
MAX_PICKUP = 16  # quarter notes before the first bar line at most (a full 16/4 bar)
MAX_SPELLINGS = MAX_NOTES  # one enharmonic choice per note
MAX_TITLE = 200  # characters (title and composer)
PAGE_SIZES = ("a4", "letter")


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
    composer: str = ""
    page_size: str = ""  # "a4", "letter", or "" for the user's locale (see page_size_of)

    @classmethod
    def from_dict(cls, d: dict | None) -> ScoreSettings:
        """Settings from their dict, every value range-checked (a file may hold anything).

        Raises:
            ValueError: a bar outside 1..MAX_BAR, a tempo outside MIN_BPM..MAX_BPM, a meter
                Clef cannot write, an unknown grid, a pickup or split out of range.
        """
        d = dict(d or {})
        tempo = [(int(b), check_tempo(v)) for b, v in d.get("tempo") or ()]
        if d.get("tempo_bpm") is not None and not any(b == 1 for b, _ in tempo):
            tempo = [(1, check_tempo(d["tempo_bpm"]))] + tempo  # shorthand; the list wins
        grid = str(d.get("grid") or "auto")
        if grid not in GRIDS:
            raise ValueError(f"grid {grid!r}: expected one of {', '.join(GRIDS)}")
        pickup = d.get("pickup")
        pickup = None if pickup is None else Fraction(pickup).limit_denominator(48)
        if pickup is not None and not 0 <= pickup <= MAX_PICKUP:
            raise ValueError(f"pickup {pickup}: must lie in 0..{MAX_PICKUP} quarter notes")
        split = d.get("split", "auto")
        if split != "auto" and not 0 <= int(split) <= 127:
            raise ValueError(f"split {split}: must be auto or a MIDI pitch 0..127")
        spelling = d.get("spelling") or {}
        if len(spelling) > MAX_SPELLINGS:
            raise ValueError(f"{len(spelling)} spellings; at most {MAX_SPELLINGS}")
        return cls(
            tempo=_by_bar(tempo),
            meter=_by_bar((int(b), str(Meter.parse(str(v)))) for b, v in d.get("meter") or ()),
            key=_by_bar((int(b), str(v)) for b, v in d.get("key") or ()),
            grid=grid,
            pickup=pickup,
            split=split if split == "auto" else int(split),
            spelling={int(k): str(v)[:16] for k, v in spelling.items()},
            title=_one_line(d.get("title"))[:MAX_TITLE],
            composer=_one_line(d.get("composer"))[:MAX_TITLE],
            page_size=check_page_size(d.get("page_size") or ""),
        )


def check_tempo(value: object) -> float:
    """A tempo in quarter notes per minute, within MIN_BPM..MAX_BPM (ValueError otherwise)."""
    bpm = float(value)  # type: ignore[arg-type]
    if not MIN_BPM <= bpm <= MAX_BPM:  # NaN fails too
        raise ValueError(f"tempo {value}: must lie in {MIN_BPM:g}..{MAX_BPM:g} quarter notes "
                         "per minute")
    return bpm


def _one_line(value: object) -> str:
    """Text for a title block: whitespace runs (newlines too) as single spaces."""
    return " ".join(str(value or "").split())


def check_page_size(value: object) -> str:
    """"a4", "letter" or "" (the locale's), case-insensitive (ValueError otherwise)."""
    size = str(value or "").strip().lower().replace("us letter", "letter").replace("us-letter",
                                                                                  "letter")
    if size not in PAGE_SIZES + ("",):
        raise ValueError(f"page size {value!r}: expected A4 or Letter")
    return size


def locale_page_size() -> str:
    """US Letter where the user's locale uses it (the US, Canada, Mexico, Chile, Colombia,
    Venezuela, the Philippines, ...), else A4. Read from LC_PAPER / LC_ALL / LANG."""
    import os

    for var in ("LC_ALL", "LC_PAPER", "LANG"):
        value = os.environ.get(var, "")
        if value:
            region = value.split(".")[0].split("@")[0]
            country = region.split("_")[1].upper() if "_" in region else ""
            return "letter" if country in LETTER_COUNTRIES else "a4"
    return "a4"


LETTER_COUNTRIES = {"US", "CA", "MX", "CL", "CO", "VE", "PH", "GT", "CR", "PA", "DO", "PR", "SV",
                    "NI", "HN", "BO"}


def page_size_of(s: ScoreSettings) -> str:
    """The page size to print on: the user's choice, else the locale's."""
    return s.page_size or locale_page_size()


def _by_bar(items) -> tuple:
    """Sorted by bar, one entry per bar (the last given wins), bars in 1..MAX_BAR."""
    out: dict[int, object] = {}
    for bar, value in items:
        if not 1 <= bar <= MAX_BAR:
            raise ValueError(f"bar {bar}: bars are numbered 1..{MAX_BAR:,}")
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
