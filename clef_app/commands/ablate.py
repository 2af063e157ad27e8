"""`clef ablate`: train and score each encoder kind the same way (`clef_app.training.ablate`).

Its options are parsed without torch (`clef_app.training.arguments`); the training code is
imported only when it runs.
"""

from __future__ import annotations

import argparse

from clef_app.atomic import output_folder
from clef_app.training.arguments import ablate_arguments as add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    output_folder(args.out)  # refused in one line before torch loads
    from clef_app.training.ablate import run as run_ablate

    return run_ablate(args)
