"""`clef eval DIR`: score the model on recordings with ground-truth notes
(`clef_app.training.evaluate`, which also declares its options and imports the model only
when it runs)."""

from __future__ import annotations

from clef_app.training.evaluate import add_arguments, run

__all__ = ["add_arguments", "run"]
