"""Atomic file writes for projects: the one safe writer lives in `clef_app.atomic`."""

from clef_app.atomic import (  # noqa: F401 - re-exported for the project layer's callers
    WriteError,
    atomic_write_bytes,
    atomic_write_text,
    atomic_writer,
    check_output,
    fsync_directory,
)
