"""Clef projects: the file format, atomic writes, autosave and crash recovery (no Qt)."""

from clef_app.project.errors import ProjectError
from clef_app.project.format import (
    FORMAT_VERSION,
    PROJECT_SUFFIX,
    EmbeddedAudio,
    Project,
    ReferencedAudio,
    load_project,
    save_project,
)

__all__ = [
    "FORMAT_VERSION", "PROJECT_SUFFIX", "EmbeddedAudio", "Project", "ProjectError",
    "ReferencedAudio", "load_project", "save_project",
]
