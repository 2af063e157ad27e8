"""A data build of seconds, in `clef build-data`'s layout, for the training-pipeline tests."""

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from clef_app.audio.synth import render_notes
from clef_app.notation.events import NoteEvent, write_notes_tsv


def render_clip(folder: Path, name: str, seed: int) -> dict:
    """One 2.5-s FluidSynth clip with its notes; returns its manifest entry."""
    rng = np.random.default_rng(seed)
    notes = [NoteEvent(t, t + 0.4, int(rng.integers(48, 80)), 90)
             for t in np.arange(0.1, 2.4, 0.5)]
    sf.write(folder / f"{name}.flac", render_notes(notes), 16000, subtype="PCM_16")
    write_notes_tsv(notes, folder / f"{name}.notes.tsv")
    return {"id": name, "split": folder.name, "source": "procedural", "piece": name,
            "soundfont": "test", "program": 0, "seconds": 2.5, "augment": {}}


def write_tiny_build(data: Path) -> Path:
    """Two training clips and one validation clip under `data`, with the manifest."""
    clips = []
    for split, n in (("train", 2), ("val", 1)):
        (data / "clips" / split).mkdir(parents=True)
        clips += [render_clip(data / "clips" / split, f"{split}{i}", i) for i in range(n)]
    (data / "manifest.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clips))
    return data
