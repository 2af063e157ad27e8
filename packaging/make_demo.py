"""Rebuild the bundled demo: resources/demo/demo.flac + demo.notes.tsv.

Mozart, Piano Sonata in C major K. 545, first movement, bars 1-12 (music21 corpus,
public domain), played at quarter = 112 with a ritardando into the last bar, rendered
with FluidSynth (acoustic grand piano) at 16 kHz mono. The TSV holds the notes exactly
as they were played, so it is the recording's ground truth.

    .venv/bin/python packaging/make_demo.py [--soundfont PATH] [--out resources/demo]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf
from music21 import corpus

from clef_app.audio.synth import render_notes
from clef_app.config import SAMPLE_RATE
from clef_app.notation.corpus import performance, ritardando, written_notes
from clef_app.notation.events import write_notes_tsv

PIECE = "mozart/k545/movement1_exposition"
BPM = 112.0  # quarter notes per minute
RIT_FROM, RIT_TO = 44.0, 48.0  # quarter notes: the last bar slows down
PEAK = 0.7  # normalised peak amplitude of the recording
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "demo"


def make_demo(out_dir: Path, soundfont: Path | None = None) -> tuple[Path, Path]:
    score = corpus.parse(PIECE)
    notes = performance(written_notes(score), ritardando(BPM, RIT_FROM, RIT_TO, 0.8))
    audio = render_notes(notes, sample_rate=SAMPLE_RATE, soundfont=soundfont, program=0)
    audio = PEAK * audio / max(float(np.max(np.abs(audio))), 1e-9)
    out_dir.mkdir(parents=True, exist_ok=True)
    flac, tsv = out_dir / "demo.flac", out_dir / "demo.notes.tsv"
    sf.write(flac, audio.astype(np.float32), SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    write_notes_tsv(notes, tsv)
    return flac, tsv


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--soundfont", type=Path, default=None)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args()
    flac, tsv = make_demo(args.out, args.soundfont)
    info = sf.info(flac)
    print(f"{flac} ({info.duration:.1f} s, {flac.stat().st_size // 1024} KiB), {tsv}")


if __name__ == "__main__":
    main()
