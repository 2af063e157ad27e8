"""The one error type the model layer raises for bad files and missing weights."""


class ModelError(Exception):
    """A model or weights file that cannot be used; the message says which and why."""
