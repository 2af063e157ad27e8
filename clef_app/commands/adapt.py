"""`clef adapt PROJECTS... -o personal.safetensors`: fine-tune on the user's corrections.

See `clef_app/training/adapt.py`. The personal checkpoint is used with
`CLEF_MODEL=personal.safetensors` (or chosen in the app); the bundled model is never written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from clef_app.errors import CommandError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("projects", type=Path, nargs="+", help="Clef projects (.clef) you corrected")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="the personal checkpoint to write (.safetensors, with its .json)")
    p.add_argument("--base", type=Path, default=None,
                   help="the checkpoint to adapt (default: $CLEF_MODEL or the bundled one)")
    p.add_argument("--epochs", type=float, default=6.0, help="passes over the segments (6)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")


def run(args: argparse.Namespace) -> int:
    from clef_app.atomic import check_output

    out = check_output(args.output, (".safetensors",))
    if out.exists() and not args.force:
        raise CommandError(f"{out}: exists; choose another name, or --force to replace it")
    import numpy as np
    import torch

    from clef_app.audio.io import resample
    from clef_app.commands.reread import project_audio
    from clef_app.model.checkpoint import find_checkpoint, load_checkpoint, read_config
    from clef_app.notation.corrections import of_history
    from clef_app.project import load_project
    from clef_app.training import adapt

    if args.threads:
        torch.set_num_threads(args.threads)
    base = args.base or find_checkpoint()
    if base is None:
        raise CommandError("no model to adapt (models/clef.safetensors is missing)")
    fe = read_config(base)[0].front_end
    rate = fe.sample_rate
    items = []
    for path in args.projects:
        project = load_project(path)
        samples, sr = project_audio(project, path.parent, path.name)
        fixes = of_history(project.decoded_edits(), project.edit_index, project.corrections)
        if sr != rate:
            samples = np.clip(resample(samples, sr, rate), -1.0, 1.0)
        items.append(adapt.Corrected(path.name, samples, project.notes, fixes))
    # too few corrections are refused before the model loads: the refusal is quick
    adapt.check_enough(items, fe.segment_frames, fe.sample_rate // fe.hop_length)
    model = load_checkpoint(base)
    started = time.process_time()
    data = adapt.build_segments(model, items, progress=lambda done, total: print(
        f"encoded {done}/{total} segments", file=sys.stderr, flush=True))
    before = adapt.mean_loss(model, data)
    steps = adapt.steps_for(data, args.epochs)
    for step, loss in adapt.fine_tune(model, data, steps):  # every step: the app's progress
        print(f"step {step}/{steps}: loss {loss:.3f}", file=sys.stderr, flush=True)
    after = adapt.mean_loss(model, data)
    minutes = (time.process_time() - started) / 60
    info = {"projects": [i.name for i in items], "segments": len(data.tokens), "steps": steps,
            "loss_before": round(before, 4), "loss_after": round(after, 4),
            "cpu_minutes": round(minutes, 2)}
    adapt.save_personal(model, out, base, read_config(base)[1], info)
    print(f"adapted on {len(data.tokens)} corrected segments of {len(items)} projects in "
          f"{minutes:.1f} CPU-min: loss {before:.3f} -> {after:.3f}; wrote {out}",
          file=sys.stderr)
    return 0
