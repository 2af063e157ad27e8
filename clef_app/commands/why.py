"""`clef why AUDIO --time T --pitch P -o why.png`: where the model looked to write a note."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from clef_app.atomic import atomic_write_bytes, check_output
from clef_app.audio.io import AudioError, load_audio
from clef_app.audio.logfreq import model_row
from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.errors import CommandError
from clef_app.model.errors import ModelError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path)
    p.add_argument("--time", type=float, required=True, help="s: the note's onset")
    p.add_argument("--pitch", type=int, required=True, help="MIDI pitch (60 = middle C)")
    p.add_argument("-o", "--output", type=Path, default=Path("why.png"))
    p.add_argument("--model", type=Path, default=None)


def run(args: argparse.Namespace) -> int:
    check_output(args.output, (".png",))  # before the model loads, not after the work
    if not MIDI_MIN <= args.pitch <= MIDI_MAX:
        raise CommandError(f"--pitch {args.pitch}: a piano key is MIDI {MIDI_MIN}..{MIDI_MAX}")
    from clef_app.model.pipeline import Pipeline

    try:
        audio = load_audio(args.audio)  # a bad file fails before torch loads
        t = Pipeline.load(args.model)
    except (ModelError, AudioError) as exc:
        raise CommandError(str(exc)) from exc
    if not 0 <= args.time < audio.duration:
        raise CommandError(
            f"--time {args.time} is outside the recording (0-{audio.duration:.1f} s)")
    ex = t.explain(audio.samples, audio.sample_rate, args.time, args.pitch)
    plot(t.at_model_rate(audio.samples, audio.sample_rate), t.fe, ex, args)
    print(f"pitch {args.pitch} at {args.time:.2f} s: {ex.summary()} (window "
          f"{ex.start:.2f}-{ex.end:.2f} s) -> {args.output}")
    return 0


def plot(samples: np.ndarray, fe, ex, args: argparse.Namespace) -> None:
    """Spectrogram of the window explained (as the model read it) with the map and the note
    drawn on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clef_app.model.frontend import window_mels

    mel = window_mels(samples, [ex.first_sample], fe)[0].numpy()
    extent = (ex.start, ex.end, -0.5, len(mel) - 0.5)
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=120)
    ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", extent=extent)
    ax.imshow(ex.weights, origin="lower", aspect="auto", cmap="Greens", alpha=0.55, extent=extent,
              interpolation="nearest")
    row = float(model_row(args.pitch, fe))
    ax.plot([args.time], [row], marker="o", mfc="none", mec="cyan", ms=14, mew=2)
    ticks = [p for p in range(24, 109, 12)]
    ax.set_yticks([float(model_row(p, fe)) for p in ticks], [f"C{p // 12 - 1}" for p in ticks])
    ax.set_xlabel("time (s)")
    how = ("decoder attention x patch evidence" if ex.decoded else
           "roll head's onset evidence")
    ax.set_title(f"Why this note? pitch {args.pitch} at {args.time:.2f} s, {ex.summary()}: "
                 f"{how}")
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    atomic_write_bytes(args.output, png.getvalue())
