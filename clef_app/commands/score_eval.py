"""`clef score-eval`: score building (meter, quantisation, hands, key) measured on held-out
corpus pieces, played with timing noise (`--oracle`) or rendered and transcribed.

The measuring is `clef_app.notation.quality`'s.
"""

from __future__ import annotations

import argparse

from clef_app.cli import CommandError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--oracle", action="store_true",
                   help="score the played notes with timing noise instead of transcribing audio")
    p.add_argument("--method", choices=("auto", "simple", "both"), default="both",
                   help="auto = Clef's score building; simple = the walking skeleton's baseline")
    from clef_app.notation.quality import PIECES

    p.add_argument("--pieces", type=int, default=len(PIECES),
                   help="how many pieces to use (the first 8 are the original set)")
    p.add_argument("--pedal", action="store_true",
                   help="(oracle) notes sound on under a sustain pedal changed at every bar line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled one)")


def run(args: argparse.Namespace) -> int:
    from clef_app.notation.quality import PIECES, evaluate_piece, format_table

    transcriber = None
    if not args.oracle:
        try:
            from clef_app.model.errors import ModelError
            from clef_app.model.pipeline import Pipeline

            transcriber = Pipeline.load(args.model)
        except (ImportError, ModelError) as exc:
            raise CommandError(f"{exc} (use --oracle to measure the score building alone)") from exc
    methods = ("simple", "auto") if args.method == "both" else (args.method,)
    rows = []
    for piece in PIECES[: args.pieces]:
        for method in methods:
            rows.append(evaluate_piece(piece, method, args.oracle, args.seed, transcriber,
                                       pedal=args.pedal))
    print(format_table(rows))
    return 0
