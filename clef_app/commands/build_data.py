"""`clef build-data`: render synthetic training data (`clef_app.training.build`, which also
declares its options: the data-building code itself imports no torch)."""

from __future__ import annotations

from clef_app.training.build import add_arguments, run

__all__ = ["add_arguments", "run"]
