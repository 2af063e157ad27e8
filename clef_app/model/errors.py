"""The one error type the model layer raises for bad files and missing weights."""

from clef_app.errors import ClefError


class ModelError(ClefError):
    """A model or weights file that cannot be used; the message says which and why."""
