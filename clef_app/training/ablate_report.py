"""The Markdown tables of `clef ablate` (the JSON beside them holds every number)."""

from __future__ import annotations

import math

NOTE = ("Cache min: the one-off caching of the training split (a frozen encoder runs there, "
        "once; an encoder that trains needs only log-mels). CPU min: CPU time of training, "
        "validation included. "
        "F1: mir_eval notes, onset 50 ms; onset+offset also within 20 % of the duration (at "
        "least 50 ms). Polyphony = reference notes sounding at a note's onset. Chord acc = "
        "share of simultaneities of 2+ reference notes whose estimated pitches in that 50-ms "
        "window are exactly right. Notes out/in = notes transcribed per reference note. RTF = "
        "transcription seconds per audio second.")
SET_TITLES = {"synthetic": "held-out synthetic split", "real": "real piano"}
SCORE_COLUMNS = (("onset F1", "onset_f1"), ("onset+offset F1", "onset_offset_f1"),
                 ("F1 poly 1", "f1_poly_1"), ("F1 poly 2-3", "f1_poly_2-3"),
                 ("F1 poly 4+", "f1_poly_4+"), ("chord acc", "chord_acc"),
                 ("notes out/in", "est_per_ref"), ("RTF", "rtf"))


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def budget_line(budget: dict) -> str:
    parts = []
    if budget["samples"]:
        parts.append(f"{budget['samples']:,} samples")
    if budget["minutes"]:
        parts.append(f"{budget['minutes']:g} min wall time")
    device = budget.get("device", "cpu")
    return (f"Budget per encoder: {' or '.join(parts)} (whichever ends first), batch "
            f"{budget['batch']}, {budget['threads']} torch thread(s) on {device}, "
            f"seed {budget['seed']}; data `{budget['data']}`.")


def training_table(results: dict) -> list[str]:
    lines = ["| encoder | encoder params | trained | encoder GMAC/segment | tokens x dim "
             "| stored params | cache min | samples | CPU min | train samples/s | val loss |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind, r in results.items():
        e, t = r["encoder"], r["training"]
        loss = t["val_loss"].get("val", next(iter(t["val_loss"].values()), float("nan")))
        trained = "yes" if e["encoder_trained"] else "frozen"
        lines.append(
            f"| {kind} | {e['encoder_params'] / 1e6:.2f} M | {trained} "
            f"| {_num(e['encoder_gmac'], 2)} | {e['grid'][0]}x{e['grid'][1]} x {e['token_dim']} "
            f"| {e['trained_params'] / 1e6:.2f} M | {_num(r.get('cache_minutes'), 1)} "
            f"| {t['samples']:,} | {_num(t['cpu_minutes'], 1)} "
            f"| {_num(t['samples_per_s'], 1)} | {_num(loss)} |")
    return lines


def score_table(results: dict, name: str) -> list[str]:
    lines = ["| encoder | " + " | ".join(c for c, _ in SCORE_COLUMNS) + " |",
             "|---|" + "---|" * len(SCORE_COLUMNS)]
    for kind, r in results.items():
        s = r["scores"].get(name)
        if s is not None:
            lines.append(f"| {kind} | " + " | ".join(_num(s[k]) for _, k in SCORE_COLUMNS) + " |")
    return lines


def markdown_report(report: dict) -> str:
    """Budget, a training/cost table and one score table per evaluation set."""
    results = report["results"]
    out = ["# Encoder comparison (clef ablate)", "", budget_line(report["budget"]), "",
           *training_table(results)]
    crop = f", first {report['max_seconds']:g} s of each" if report.get("max_seconds") else ""
    for name, files in report["sets"].items():
        out += ["", f"**{SET_TITLES.get(name, name)}** ({len(files)} files{crop})", "",
                *score_table(results, name)]
    out += ["", NOTE]
    return "\n".join(out) + "\n"
