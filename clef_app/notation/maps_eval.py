"""`clef score-eval --maps DIR`: the readability of scores built from real performance timing.

maps-dev (its README) holds real Disklavier recordings with their ground-truth notes. The
notes are evaluation data only: Clef builds a score from them (or from its own
transcription of the recording) exactly as from a user's notes, and the score is counted
with `notation.readability`. No score of these pieces is in music21's corpus, so there is
no note-by-note agreement here; what the printed scores have (time signature, whether
notes shorter than a 16th or tuplets occur) is given per piece in MAPS_PIECES, None where
not known, and the issue's targets are checked only where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.notation.readability import Readability, readability, same_meter
from clef_app.notation.score import build_score

NOTES_SUFFIX = ".notes.tsv"
FAST = ("chpn-e01", "chpn_op25_e3", "liz_et_trans5", "mz_331_3", "deb_menu", "grieg_kobold",
        "pathetique_3", "schub_d760_3")  # maps-dev's README: the fast, dense group
TARGET_SHORT = 0.03  # share of notes shorter than a 16th, where the piece has none
TARGET_CLEFS = 1.0  # clef changes per staff per 10 bars at most
TARGET_METER = 0.8  # share of pieces (of known meter) whose meter is right


@dataclass(frozen=True)
class PieceFacts:
    """What the printed score of a piece has (None: not known here)."""

    meter: str | None
    short: bool | None  # notes written shorter than a 16th
    tuplets: bool | None


# The time signatures and note values of the printed scores (standard editions). Trills
# and turns the performances play out are not written notes: a piece with them is
# marked None for short notes. Checked (issue 17) against: ASAP's score annotations
# (github.com/fosfrancesco/asap-dataset, midi_score_annotations.txt: "db,4/4" and the
# like) for chpn-e01 (Chopin/Etudes_op_10/1), liz_et_trans5 (Liszt/Transcendental_
# Etudes/5), mz_331_3 (Mozart/Piano_Sonatas/11-3), pathetique_3 (Beethoven/Piano_
# Sonatas/8-3) and schub_d760_3 (Schubert/Wanderer_fantasie: three beats a bar up to
# the fourth part's 4/4); PTNA's piano encyclopedia and teachers' notes for Troika
# ("the rhythm of 4/4") and Kinderszenen 11 and 12 (2/4); the ground truth's own bar
# structure for chpn_op25_e3 (its chord pattern repeats every three beats, X Y X),
# scn15_6 (downbeat cues three beats apart) and scn15_9 (each bar one beat divided in
# three); deb_menu is a minuet. No entry was wrong. Left unknown: grieg_kobold (its bass
# figure repeats every two quarters: 2/4 or 4/4), ty_maerz (duple: a chord every two
# beats, long melody notes every four) and ty_mai (chords every three beats of about
# 0.36 s: 3/4 or 3/8), whose exact time signature no source here confirms.
MAPS_PIECES = {
    "chpn-e01": PieceFacts("4/4", False, False),  # Chopin op. 10/1: 16ths throughout
    "chpn_op25_e3": PieceFacts("3/4", None, None),  # Chopin op. 25/3
    "deb_menu": PieceFacts("3/4", None, None),  # Debussy, Suite bergamasque: Menuet
    "grieg_kobold": PieceFacts(None, None, None),  # Grieg op. 71/3
    "liz_et_trans5": PieceFacts("2/4", None, None),  # Liszt, Feux follets
    "mz_331_3": PieceFacts("2/4", None, False),  # Mozart K. 331 iii (trills played out)
    "pathetique_3": PieceFacts("2/2", None, True),  # Beethoven op. 13 iii (triplets)
    "schub_d760_3": PieceFacts("3/4", None, None),  # Schubert D. 760 iii (Presto)
    "scn15_11": PieceFacts("2/4", False, False),  # Schumann op. 15/11 Fürchtenmachen
    "scn15_12": PieceFacts("2/4", False, False),  # op. 15/12 Kind im Einschlummern
    "scn15_6": PieceFacts("3/4", False, False),  # op. 15/6 Wichtige Begebenheit
    "scn15_9": PieceFacts("3/4", False, False),  # op. 15/9 Ritter vom Steckenpferd
    "ty_maerz": PieceFacts(None, None, None),  # Tchaikovsky op. 37a/3
    "ty_mai": PieceFacts(None, None, None),  # op. 37a/5
    "ty_november": PieceFacts("4/4", None, True),  # op. 37a/11 Troika (triplets)
}


@dataclass
class MapsRow:
    file: str  # the recording's name without suffix
    piece: str
    group: str  # "slow" or "fast"
    notes: int  # notes the score was built from
    meter: str  # Clef's first time signature
    read: Readability

    @property
    def facts(self) -> PieceFacts:
        return MAPS_PIECES.get(self.piece, PieceFacts(None, None, None))

    @property
    def meter_ok(self) -> bool | None:
        true = self.facts.meter
        return None if true is None else same_meter(self.meter, true)


def piece_of(file_name: str) -> str:
    """"MAPS_MUS-scn15_11_ENSTDkAm" -> "scn15_11"."""
    stem = file_name.split("MUS-", 1)[-1]
    return stem.rsplit("_", 1)[0]


def maps_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob(f"*{NOTES_SUFFIX}"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *{NOTES_SUFFIX} files (is it maps-dev?)")
    return files


def evaluate_file(
    notes_file: Path, seconds: float | None = None,
    transcribe: Callable[[Path, float | None], list[NoteEvent]] | None = None,
) -> MapsRow:
    """Build the score of one recording's notes (ground truth, or `transcribe`'s notes of
    its audio) and count its readability.

    Args:
        notes_file: NAME.notes.tsv in maps-dev; NAME.flac lies beside it.
        seconds: only the notes starting in the first this many seconds.
        transcribe: (audio path, seconds) -> notes; None to use the ground truth.
    """
    name = notes_file.name[: -len(NOTES_SUFFIX)]
    if transcribe is None:
        notes = read_notes_tsv(notes_file)
    else:
        notes = transcribe(notes_file.with_name(name + ".flac"), seconds)
    if seconds is not None:
        notes = [n for n in notes if n.onset < seconds]
    piece = piece_of(name)
    facts = MAPS_PIECES.get(piece, PieceFacts(None, None, None))
    result = build_score(notes)
    return MapsRow(name, piece, "fast" if piece in FAST else "slow", len(notes),
                   str(result.timing.meters[0][1]), readability(result.score, facts.meter))


def format_maps_table(rows: Sequence[MapsRow], source: str) -> str:
    """Per recording, per group (slow, fast) and overall, then the issue's targets."""
    from clef_app.notation.quality import READ_HEAD, READ_LEGEND, read_cells

    head = f"{'recording (' + source + ')':<34} {'notes':>6} {'meter est/true':<16}{READ_HEAD}"
    lines = [head, "-" * len(head)]
    for r in rows:
        true = r.facts.meter or "?"
        mark = {True: "ok ", False: "NO ", None: "   "}[r.meter_ok]
        lines.append(f"{r.file[9:]:<34} {r.notes:>6} {mark + r.meter + '/' + true:<16}"
                     f"{read_cells(r.read)}")
    lines.append("-" * len(head))
    for group in ("slow", "fast", "all"):
        rs = [r for r in rows if group in ("all", r.group)]
        if not rs:
            continue
        pooled = sum((r.read for r in rs), Readability())
        known = [r for r in rs if r.meter_ok is not None]
        right = sum(bool(r.meter_ok) for r in known)
        lines.append(f"{'all ' + group + f' ({len(rs)})':<34} {sum(r.notes for r in rs):>6} "
                     f"{f'{right}/{len(known)} ok':<16}{read_cells(pooled)}")
    lines.append(READ_LEGEND)
    lines += targets(rows)
    return "\n".join(lines)


def targets(rows: Sequence[MapsRow]) -> list[str]:
    """The issue's targets on these rows, each 'met' or 'NOT met' with its numbers."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    plain = [r for r in rows if r.facts.short is False]
    worst_short = max((r.read.short_share for r in plain), default=0.0)
    untupled = [r for r in rows if r.facts.tuplets is False]
    tuplets = sum(r.read.tuplets for r in untupled)
    worst_clefs = max((r.read.clef_changes_per_10 for r in rows), default=0.0)
    known = [r for r in rows if r.meter_ok is not None]
    right = sum(bool(r.meter_ok) for r in known)
    share = right / max(len(known), 1)
    return [
        "targets:",
        f"  < {TARGET_SHORT:.0%} of notes shorter than a 16th where the piece has none "
        f"({len(plain)} recordings): worst {worst_short:.1%} -> "
        f"{verdict(worst_short < TARGET_SHORT)}",
        f"  no tuplets where the piece has none ({len(untupled)} recordings): {tuplets} "
        f"brackets -> {verdict(tuplets == 0)}",
        f"  <= {TARGET_CLEFS:g} clef change per staff per 10 bars: worst "
        f"{worst_clefs:.2f} -> {verdict(worst_clefs <= TARGET_CLEFS)}",
        f"  meter right on >= {TARGET_METER:.0%} of the recordings of known meter: "
        f"{right}/{len(known)} = {share:.0%} -> {verdict(share >= TARGET_METER)}",
    ]
