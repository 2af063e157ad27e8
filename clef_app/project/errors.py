"""The one error a project reader or writer raises."""

from clef_app.errors import ClefError


class ProjectError(ClefError):
    """A project file that cannot be read or written; the message names the file and why."""
