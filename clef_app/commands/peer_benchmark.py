"""`clef peer-benchmark FILES`: wall time of `clef transcribe` against Basic Pitch's own
`basic-pitch` command, one process per file, alternating (`clef_app.training.peer_benchmark`,
which imports the model only when it runs)."""

from __future__ import annotations

from clef_app.training.peer_benchmark import add_arguments, run

__all__ = ["add_arguments", "run"]
