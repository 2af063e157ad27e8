"""`clef ablate`: the encoder comparison (issue 8), trained and scored the same way.

For each encoder kind (model/encoders/): make the cache it trains from (frozen kinds:
features, `clef cache [--kind]`; kinds that train: log-mels, `--store mels`), train the same
bridge + decoder with `clef train` on the same data, seed and budget, then transcribe the
held-out synthetic split and real piano recordings and score them (note F1 onset-only and
onset+offset, F1 by polyphony, chord accuracy, real-time factor). Writes OUT/ablation.md
and OUT/ablation.json. A kind whose OUT/runs/KIND/result.json exists is not run again; a
kind with a checkpoint but no result resumes its training (the budget counts in total).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from clef_app.atomic import atomic_write_text
from clef_app.errors import ClefError
from clef_app.model.encoders import config_for, trains_encoder
from clef_app.training import cache, kind_cache, train
from clef_app.training.ablate_eval import encoder_cost, score_files, training_summary
from clef_app.training.ablate_report import markdown_report
from clef_app.training.arguments import MAPS_DEV, cache_arguments, train_arguments
from clef_app.training.dataset import split_folders
from clef_app.training.evaluate import find_files


def run(args: argparse.Namespace) -> int:
    if not args.minutes and not args.samples:
        raise ClefError("give a budget: --samples and/or --minutes")
    if not (args.data / "manifest.jsonl").is_file():
        raise ClefError(f"{args.data}: no manifest.jsonl (make data with clef build-data)")
    torch.set_num_threads(args.threads)
    sets = {"synthetic": find_files([args.data / "clips" / "val"], args.val_files)}
    real = args.real if args.real is not None else [MAPS_DEV] if MAPS_DEV.is_dir() else []
    if real:
        sets["real"] = find_files(real, args.real_files)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for kind in args.kinds:
        results[kind] = run_kind(kind, args, sets)
    report = {"budget": budget(args), "sets": {k: [f.name for f in v] for k, v in sets.items()},
              "max_seconds": args.max_seconds, "results": results}
    atomic_write_text(args.out / "ablation.json", json.dumps(report, indent=2) + "\n")
    table = markdown_report(report)
    atomic_write_text(args.out / "ablation.md", table)
    print(table)
    return 0


def budget(args: argparse.Namespace) -> dict:
    return {"samples": args.samples, "minutes": args.minutes, "batch": args.batch,
            "warmup": args.warmup, "threads": args.threads, "device": args.device,
            "seed": args.seed,
            "data": str(args.data)}


def run_kind(kind: str, args: argparse.Namespace, sets: dict[str, list[Path]]) -> dict:
    """Cache, train and score one encoder kind (or read its finished result)."""
    run_dir = args.out / "runs" / kind
    done = run_dir / "result.json"
    if done.is_file():
        print(f"ablate: {kind} done before ({done})", flush=True)
        return json.loads(done.read_text())
    cache_dir = ensure_cache(kind, args)
    print(f"ablate: training {kind} from {cache_dir}", flush=True)
    cpu, wall = time.process_time(), time.time()
    train.run(train_args(kind, cache_dir, run_dir, args))
    cpu, wall = time.process_time() - cpu, time.time() - wall
    result = {"kind": kind, "cache": str(cache_dir), "cache_minutes": cache_minutes(cache_dir),
              "training": training_summary(run_dir, args.batch, cpu, wall)}
    checkpoint = run_dir / "best.safetensors"
    result["encoder"] = encoder_cost(checkpoint)
    result["scores"] = {name: score_files(checkpoint, files, args.max_seconds, args.device)
                        for name, files in sets.items()}
    atomic_write_text(done, json.dumps(result, indent=2) + "\n")
    return result


def cache_minutes(cache_dir: Path) -> float:
    """Time spent making the training split's cache (the frozen encoders' one-off cost)."""
    metas = [json.loads((f / "meta.json").read_text()) for f in split_folders(cache_dir, "train")]
    return sum(m.get("cache_seconds", 0.0) for m in metas) / 60


def train_args(kind: str, cache_dir: Path, run_dir: Path, args: argparse.Namespace
               ) -> argparse.Namespace:
    """`clef train` arguments: the same for every kind but the encoder and its cache."""
    steps = max(1, args.samples // args.batch) if args.samples else 10**9
    warmup = min(args.warmup, max(1, steps // 10))
    argv = ["--cache", str(cache_dir), "--out", str(run_dir), "--encoder-kind", kind,
            "--steps", str(steps), "--batch", str(args.batch), "--threads", str(args.threads),
            "--seed", str(args.seed), "--eval-every", str(args.eval_every),
            "--val-batches", str(args.val_batches), "--warmup", str(warmup),
            "--device", args.device]
    if args.minutes:
        argv += ["--minutes", str(args.minutes)]
    if (run_dir / "last.safetensors").is_file():
        argv += ["--resume", str(run_dir / "last.safetensors")]
    p = argparse.ArgumentParser(prog="clef train")
    train_arguments(p)
    return p.parse_args(argv)


def ensure_cache(kind: str, args: argparse.Namespace) -> Path:
    """The cache `kind` trains from, made if missing: ViT features, CNN features or mels."""
    caches = args.caches or args.out / "caches"
    if kind == "vit":
        for found in (args.vit_cache, args.data / "cache"):
            if found is not None and split_folders(found, "train"):
                return found
    holds = "mels" if trains_encoder(config_for(kind)) else kind
    folder = caches / holds
    if all(split_folders(folder, s) for s in ("train", "val")):
        return folder
    p = argparse.ArgumentParser(prog="clef cache")
    cache_arguments(p)
    argv = ["--data", str(args.data), "--out", str(folder), "--splits", "train", "val",
            "--threads", str(args.threads)]
    argv += ["--store", "mels"] if holds == "mels" else ["--kind", kind]
    ns = p.parse_args(argv)
    (cache.run if kind == "vit" else kind_cache.run_kind)(ns)
    return folder
