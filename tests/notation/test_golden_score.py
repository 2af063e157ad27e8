"""Golden output of score building: `clef export` of a fixed note list (the golden notes of
the committed 6-s clip, tests/data/opening.notes.tsv) must give the MusicXML it gave when
it was written down (tests/data/opening.score.tsv: every written note of the MusicXML as
staff, bar, beat offset, pitch, length and tie), within a small tolerance.

A changed rule of meter, quantisation, hands or spelling shows up here first; when the
change is meant, regenerate the file with
`.venv/bin/python -m tests.notation.test_golden_score`.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from music21 import converter

from clef_app.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
NOTES = DATA / "opening.notes.tsv"
GOLDEN = DATA / "opening.score.tsv"
AGREE = 0.9  # share of golden written notes the MusicXML must hold exactly


def written(musicxml: Path) -> tuple[list[str], list[str]]:
    """(the meters and keys, every written note) of a MusicXML file, one line each, read
    back by music21's MusicXML reader."""
    score = converter.parse(str(musicxml))
    header, rows = [], []
    for staff, part in enumerate(score.parts, 1):
        for bar in part.getElementsByClass("Measure"):
            for sign in bar.getElementsByClass(("TimeSignature", "KeySignature")):
                name = sign.ratioString if hasattr(sign, "ratioString") else sign.sharps
                header.append(f"# staff {staff} bar {bar.number} {type(sign).__name__} {name}")
            for n in bar.recurse().notes:
                pitches = "+".join(str(p.midi) for p in n.pitches)
                tie = n.tie.type if n.tie is not None else "-"
                rows.append(f"{staff}\t{bar.number}\t{n.offset}\t{pitches}\t"
                            f"{n.duration.quarterLength}\t{tie}")
    return header, rows


def export_musicxml(out: Path) -> Path:
    assert main(["export", str(NOTES), "-o", str(out)]) == 0
    return out


def test_score_building_gives_the_golden_musicxml(tmp_path):
    header, rows = written(export_musicxml(tmp_path / "opening.musicxml"))
    lines = GOLDEN.read_text().splitlines()
    golden_header = [x for x in lines if x.startswith("#")]
    golden_rows = [x for x in lines if x and not x.startswith("#")]
    assert len(golden_rows) >= 20  # the opening's notes, not an empty file
    assert header == golden_header  # the same meters and key, from the same bars
    same = sum((Counter(rows) & Counter(golden_rows)).values())
    assert same >= AGREE * len(golden_rows), (
        f"{same} of {len(golden_rows)} golden notes written the same; new: "
        f"{sorted((Counter(rows) - Counter(golden_rows)).elements())[:5]}")
    assert abs(len(rows) - len(golden_rows)) <= (1 - AGREE) * len(golden_rows)


if __name__ == "__main__":  # regenerate the golden file (only when a change is meant)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        header, rows = written(export_musicxml(Path(folder) / "opening.musicxml"))
    GOLDEN.write_text("\n".join(header + rows) + "\n")
    print(f"{len(rows)} written notes -> {GOLDEN}", file=sys.stderr)
