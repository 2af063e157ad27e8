"""`clef train`: train the Clef model on cached encoder features (`clef_app.training.train`).

Its options are parsed without torch (`clef_app.training.arguments`); the training code is
imported only when it runs.
"""

from __future__ import annotations

import argparse

from clef_app.atomic import output_folder
from clef_app.training.arguments import train_arguments as add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    output_folder(args.out)  # refused in one line before torch loads
    from clef_app.training.train import run as run_train

    return run_train(args)
