"""Clef: turn recordings into editable sheet music."""

__version__ = "0.1.0"
