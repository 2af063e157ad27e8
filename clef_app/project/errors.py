"""The one error a project reader or writer raises."""


class ProjectError(Exception):
    """A project file that cannot be read or written; the message names the file and why."""
