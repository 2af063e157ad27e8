"""Spotify's Basic Pitch on the same files, so every table shows the tool users would pick.

Optional: `pip install --no-deps basic-pitch==0.4.0` plus onnxruntime, librosa, resampy,
scikit-learn, pretty_midi (the `peer` extra). It runs the ONNX model inside its wheel.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

from clef_app.errors import ClefError
from clef_app.notation.events import NoteEvent


class PeerUnavailable(ClefError):
    pass


def basic_pitch_notes(path: Path) -> list[NoteEvent]:
    """Notes Basic Pitch (default settings) finds in an audio file."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()), \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            from basic_pitch import ICASSP_2022_MODEL_PATH
            from basic_pitch.inference import predict
    except Exception as exc:  # any import failure means the optional peer is missing
        raise PeerUnavailable(f"Basic Pitch is not installed ({exc})") from exc
    finally:
        logging.disable(logging.NOTSET)
    with contextlib.redirect_stdout(io.StringIO()):
        _, _, events = predict(str(path), ICASSP_2022_MODEL_PATH)
    notes = [NoteEvent(float(s), float(e), int(p), max(1, min(127, int(round(a * 127)))))
             for s, e, p, a, *_ in events if e > s]
    return sorted(notes, key=lambda n: (n.onset, n.pitch))
