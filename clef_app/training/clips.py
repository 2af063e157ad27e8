"""One training clip from its spec: a piece, performed, windowed, rendered, augmented, written.

Everything a clip contains follows from its `ClipSpec` (the content seed drives every random
choice), so a clip is the same whichever worker renders it and whatever it rendered before.
`val` and `val_seen` clips share a content seed and differ only in soundfont.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from clef_app.atomic import atomic_write_bytes
from clef_app.audio.io import resample
from clef_app.audio.synth import get_renderer
from clef_app.config import SAMPLE_RATE
from clef_app.notation.events import NoteEvent, write_notes_tsv
from clef_app.training import figuration, procedural
from clef_app.training.augment import augment
from clef_app.training.perform import Performance, Piece, perform

MIN_NOTES = 6  # a window with fewer notes is drawn again
LEAD_SECONDS = (0.02, 0.4)  # s of silence before the first onset


@dataclass(frozen=True)
class ClipSpec:
    """What to render: ids and choices made when planning; content follows `content_seed`."""

    id: str
    split: str  # train | val | val_seen
    source: str  # corpus | procedural | figuration
    piece: str  # corpus work name, or "" for procedural
    content_seed: tuple[int, ...]
    soundfont: str
    program: int
    seconds: float  # clip length, s
    strength: float = 1.0  # augmentation strength (0 = clean)


def corpus_bpm(piece: Piece, rng: np.random.Generator) -> float:
    """A tempo giving a plausible median time between onsets (0.15-0.6 s)."""
    onsets = np.unique(piece.notes[:, 0])
    gaps = np.diff(onsets)
    median_q = float(np.median(gaps)) if len(gaps) else 1.0
    target = float(np.exp(rng.uniform(np.log(0.15), np.log(0.6))))
    return float(np.clip(60.0 * median_q / target, 30.0, 240.0))


def crop(piece: Piece, b0: float, n_beats: float) -> Piece:
    """Notes starting in [b0, b0 + n_beats), shifted to start at beat 0."""
    start = piece.notes[:, 0]
    rows = piece.notes[(start >= b0) & (start < b0 + n_beats)].copy()
    rows[:, :2] -= b0
    ch = piece.changes[(piece.changes >= b0) & (piece.changes < b0 + n_beats)] - b0
    return Piece(piece.name, rows, ch, piece.beats_per_bar)


def trim(perf: Performance, seconds: float, lead: float) -> Performance:
    """Shift by `lead` s and keep onsets before the clip's end; offsets end with the clip."""
    keep = [i for i, n in enumerate(perf.labels) if n.onset + lead < seconds - 0.1]

    def cut(n: NoteEvent) -> NoteEvent:
        return NoteEvent(n.onset + lead, min(n.offset + lead, seconds), n.pitch, n.velocity)

    pedal = [(d + lead, min(u + lead, seconds)) for d, u in perf.pedal if d + lead < seconds]
    return Performance(
        [cut(perf.keys[i]) for i in keep], pedal, [cut(perf.labels[i]) for i in keep], perf.params
    )


def performed(spec: ClipSpec, rng: np.random.Generator, piece: Piece | None) -> Performance:
    """A humanised performance long enough for the clip, with at least MIN_NOTES notes."""
    perf = None
    for _ in range(5):
        if spec.source == "figuration":
            bpm = float(np.exp(rng.uniform(np.log(70), np.log(180))))
            played, shift = figuration.generate(rng, spec.seconds + 3, bpm), 0
        elif piece is None:
            bpm = float(np.exp(rng.uniform(np.log(60), np.log(150))))
            played, shift = procedural.generate(rng, spec.seconds + 3, bpm), 0
        else:
            bpm = corpus_bpm(piece, rng)
            starts = np.unique(piece.notes[:, 0])
            b0 = float(rng.choice(starts[: max(1, int(len(starts) * 0.9))]))
            played = crop(piece, b0, (spec.seconds + 3) * bpm * 1.4 / 60)
            shift = int(rng.integers(-6, 7))
        if len(played.notes) < MIN_NOTES:
            continue
        perf = trim(perform(played, rng, bpm, shift), spec.seconds, rng.uniform(*LEAD_SECONDS))
        perf.params["piece"] = played.name
        if len(perf.labels) >= MIN_NOTES:
            break
    if perf is None:
        raise ValueError(f"{spec.id}: no window of {spec.piece or 'procedural'} has notes")
    return perf


def render_clip(spec: ClipSpec, out: Path, piece: Piece | None) -> dict:
    """Render and write OUT/clips/<split>/<id>.flac and .notes.tsv; returns the manifest row."""
    rng = np.random.default_rng(list(spec.content_seed))
    perf = performed(spec, rng, piece)
    cents = float(rng.uniform(-25, 25)) if rng.random() < 0.5 else 0.0
    renderer = get_renderer(spec.soundfont)
    raw = renderer.render(perf.keys, spec.program, perf.pedal, spec.seconds, cents=cents)
    audio = resample(raw, renderer.synth_rate, SAMPLE_RATE)[: int(spec.seconds * SAMPLE_RATE)]
    audio, info = augment(audio, rng, spec.strength)
    piece_name = perf.params.pop("piece")
    info.update({"detune_cents": round(cents, 1), "performance": perf.params})
    folder = out / "clips" / spec.split
    folder.mkdir(parents=True, exist_ok=True)
    flac = io.BytesIO()
    sf.write(flac, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    atomic_write_bytes(folder / f"{spec.id}.flac", flac.getvalue())
    write_notes_tsv(perf.labels, folder / f"{spec.id}.notes.tsv")
    return {
        "id": spec.id,
        "split": spec.split,
        "source": spec.source,
        "piece": spec.piece or piece_name,
        "soundfont": Path(spec.soundfont).name,
        "program": spec.program,
        "seconds": round(len(audio) / SAMPLE_RATE, 3),
        "augment": info,
    }
