"""`clef cache`: frozen encoder features (or log-mels) of rendered data (training/cache.py).

Its options are parsed without torch (`clef_app.training.arguments`); the training code is
imported only when it runs.
"""

from __future__ import annotations

import argparse

from clef_app.atomic import output_folder
from clef_app.training.arguments import cache_arguments as add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    if args.out is not None:  # refused in one line before torch loads
        output_folder(args.out)
    from clef_app.training.cache import run as run_cache

    return run_cache(args)
