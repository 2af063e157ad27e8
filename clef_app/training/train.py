"""`clef train`: the decoder (and bridge) learn from cached frozen-encoder features.

Read top to bottom: arguments, set-up (model, optimiser, resume), then the loop with
periodic validation; the best checkpoint by held-out loss is kept. Runs unchanged on CUDA
(bf16 autocast) and under torchrun (DDP; each rank samples its own batches).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save

from clef_app.atomic import LineLog, atomic_write_bytes, whole_lines
from clef_app.config import ModelConfig
from clef_app.model.checkpoint import load_state, read_config, save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.device import choose_device
from clef_app.model.encoders import trains_encoder
from clef_app.model.weights import file_sha256, resolve_weights
from clef_app.notation.codec import PAD
from clef_app.training.dataset import CachedSplit, split_folders


def lr_at(step: int, args: argparse.Namespace, minutes: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak by the last step or, with a
    time budget (--minutes), by the end of the budget, whichever comes first. `step` and
    `minutes` count from the schedule's start (0, or the resumed step with --new-schedule)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    if args.minutes:
        progress = max(progress, min(1.0, minutes / args.minutes))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def losses(model: torch.nn.Module, feats: torch.Tensor, tokens: torch.Tensor,
           rolls: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token cross-entropy (PAD ignored) and the piano-roll BCE (0 without rolls)."""
    logits, roll = model(feats, tokens[:, :-1])
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                         tokens[:, 1:].reshape(-1), ignore_index=PAD)
    if roll is None or rolls is None:
        return ce, torch.zeros((), device=ce.device)
    return ce, F.binary_cross_entropy_with_logits(roll.float(), rolls)


def build_model(args: argparse.Namespace, meta: dict) -> tuple[ClefModel, int, float]:
    """A new model, or one resumed from a checkpoint; returns it, the step and the training
    minutes reached."""
    if args.resume:
        cfg, extra = read_config(args.resume)
        cached = ModelConfig.from_dict(meta["config"]).front_end if "config" in meta else None
        if cached is not None and cached != cfg.front_end:
            print(f"front end: the checkpoint read {cfg.front_end.kind} images, the cache holds "
                  f"{cached.kind} ones: the model goes on from its weights with the cache's")
            cfg = replace(cfg, front_end=cached)
        model = ClefModel.build(cfg, with_encoder=trains_encoder(cfg))
        model.load_state_dict({k: v.float() for k, v in load_state(args.resume).items()},
                              strict=False)
        return model, int(extra.get("step", 0)), float(extra.get("train_minutes", 0.0))
    if args.encoder_kind != "vit":
        from clef_app.training.kind_cache import model_for_cache

        return model_for_cache(args.encoder_kind, meta), 0, 0.0
    weights = resolve_weights()
    sha = file_sha256(weights) if weights else meta.get("encoder_sha256", "")
    if sha != meta.get("encoder_sha256", sha):
        raise SystemExit("the feature cache was made with other encoder weights; rebuild it")
    cfg = replace(ModelConfig(), encoder_sha256=sha, encoder_kind=args.encoder_kind)
    if "config" in meta:
        cfg = replace(cfg, front_end=ModelConfig.from_dict(meta["config"]).front_end)
    return ClefModel(cfg), 0, 0.0


@torch.no_grad()
def validate(model: torch.nn.Module, split: CachedSplit, batches: int, batch: int,
             device: torch.device) -> float:
    """Mean token loss over a fixed set of held-out batches."""
    model.eval()
    rng = np.random.default_rng(1234)
    total = []
    for _ in range(batches):
        rows = rng.choice(len(split), size=min(batch, len(split)), replace=False)
        feats, tokens, rolls = split.batch(rows)
        ce, _ = losses(model, feats.to(device), tokens.to(device), _to(rolls, device))
        total.append(ce.item())
    model.train()
    return float(np.mean(total))


def _to(x: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return None if x is None else x.to(device)


def setup_distributed() -> tuple[int, int, torch.device]:
    """Rank, world size and device; under torchrun one process per GPU (or CPU, gloo)."""
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return 0, 1, None
    cuda = torch.cuda.is_available()
    torch.distributed.init_process_group("nccl" if cuda else "gloo")
    local = int(os.environ.get("LOCAL_RANK", 0))
    return rank, world, torch.device(f"cuda:{local}") if cuda else torch.device("cpu")


def make_optimizer(model: ClefModel, args: argparse.Namespace) -> torch.optim.AdamW:
    """AdamW; no weight decay on norms, biases and 1-D parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": args.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98))
    if args.resume and (args.out / "optimizer.safetensors").is_file():
        load_optimizer(opt, args.out / "optimizer.safetensors")
    return opt


def run(args: argparse.Namespace) -> int:
    rank, world, device = setup_distributed()
    device = device or choose_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed + rank)
    train = CachedSplit(split_folders(args.cache, "train"))
    vals = {s: CachedSplit(split_folders(args.cache, s)) for s in ("val", "val_seen")
            if split_folders(args.cache, s)}
    model, step, before = build_model(args, train.meta)
    model.to(device).train()
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = make_optimizer(model, args)
    args.out.mkdir(parents=True, exist_ok=True)
    # the log is rewritten whole at each line (the safe writer), never appended in place
    log = LineLog(args.out / "log.jsonl", whole_lines(args.out / "log.jsonl"))
    print(f"train: {len(train)} segments, {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M "
          f"parameters, device {device}, from step {step}", flush=True)
    batches = train.batches(args.batch, np.random.default_rng(args.seed * 1000 + rank + step))
    best, tick = float("inf"), time.time()
    started = tick - before * 60  # minutes trained before a resume count towards the budget
    first = step if args.new_schedule else 0  # where warm-up and cosine start
    schedule_start = tick if args.new_schedule else started
    if args.new_schedule:
        args.steps += step
    amp = _null()
    if device.type == "cuda" or (device.type == "cpu" and getattr(args, "bf16", False)):
        amp = torch.autocast(device.type, dtype=torch.bfloat16)
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step - first, args_from(args, first),
                            (time.time() - schedule_start) / 60)
        feats, tokens, rolls = train.batch(next(batches))
        with amp:
            ce, bce = losses(net, feats.to(device), tokens.to(device), _to(rolls, device))
        opt.zero_grad(set_to_none=True)
        (ce + args.roll_weight * bce).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if rank == 0 and step % 50 == 0:
            rate = 50 * args.batch / (time.time() - tick)
            print(f"step {step} loss {ce.item():.3f} roll {bce.item():.4f} "
                  f"lr {opt.param_groups[0]['lr']:.2e} {rate:.1f} samples/s", flush=True)
            log.append(json.dumps({"step": step, "loss": ce.item(), "roll": bce.item(),
                                   "samples_per_s": rate,
                                   "minutes": (time.time() - started) / 60}))
            tick = time.time()
        if step % 250 == 0:
            train, batches = _more_parts(train, batches, args, rank, step)
        out_of_time = (args.minutes and time.time() - schedule_start > args.minutes * 60) or (
            args.out / "STOP").exists()  # a file to stop cleanly, with a checkpoint
        if rank == 0 and (step % args.eval_every == 0 or step == args.steps or out_of_time):
            best = checkpoint_if_better(model, opt, vals, args, step, best, device, log, started)
        if out_of_time:
            break
    return 0


def _more_parts(train: CachedSplit, batches, args: argparse.Namespace, rank: int, step: int):
    """The training split again when `clef cache --part-clips` has finished more parts of it
    since it was opened (training can start while the cache is still being written)."""
    folders = split_folders(args.cache, "train")
    if len(folders) <= len(train.features):
        return train, batches
    train = CachedSplit(folders)
    print(f"train: {len(folders)} cache parts, {len(train)} segments", flush=True)
    return train, train.batches(args.batch, np.random.default_rng(args.seed * 1000 + rank + step))


def args_from(args: argparse.Namespace, first: int) -> argparse.Namespace:
    """The schedule's view of the arguments: total steps counted from `first`."""
    return argparse.Namespace(**{**vars(args), "steps": args.steps - first}) if first else args


def checkpoint_if_better(model: ClefModel, opt: torch.optim.Optimizer, vals: dict, args, step: int,
                         best: float, device: torch.device, log: LineLog, started: float
                         ) -> float:
    """Validate; save `last`, and `best` when held-out loss improved."""
    losses = {name: validate(model, split, args.val_batches, args.batch, device)
              for name, split in vals.items()}
    key = losses.get("val", losses.get("val_seen", 0.0))
    extra = {"step": step, "val_loss": losses, "train_minutes": (time.time() - started) / 60}
    save_checkpoint(model, args.out / "last.safetensors", extra)
    save_optimizer(opt, args.out / "optimizer.safetensors")
    improved = key < best
    if improved:
        save_checkpoint(model, args.out / "best.safetensors", extra)
    print(f"step {step} validation {losses} {'(best)' if improved else ''}", flush=True)
    log.append(json.dumps({"step": step, "val": losses, "best": improved}))
    return min(best, key)


def save_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    """AdamW moments as safetensors (never a pickle)."""
    tensors = {}
    for i, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            tensors[f"{i}.{name}"] = torch.as_tensor(value).contiguous()
    atomic_write_bytes(path, save(tensors))


def load_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    flat = load_file(str(path))
    sd = opt.state_dict()
    state: dict = {}
    for key, value in flat.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value
    sd["state"] = state
    opt.load_state_dict(sd)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
