"""One loaded Transcriber per checkpoint, shared by the app's Transcribe and "Why this note?".

Loading costs seconds and the model's memory, so the GUI's actions take the model from here
instead of each loading its own. They run on worker threads: whoever runs the model holds
`model_lock` (a transcription batch by batch), so decoding and the attention capture of
`explain` never interleave on the same modules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from clef_app.model.errors import ModelError
from clef_app.model.inference import Transcriber, TranscriptionProgress

model_lock = threading.RLock()  # guards _loaded and every run of the shared model
_loaded: tuple[tuple, Transcriber] | None = None  # ((path, mtime_ns, size), model)


def _identity(path: Path) -> tuple:
    """What says the file is still the one loaded (training rewrites checkpoints in place)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"{path.name}: cannot read the model ({exc.strerror or exc})") from exc
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def shared_transcriber(path: str | Path) -> Transcriber:
    """The Transcriber for the checkpoint at `path`, loaded once (again if the file changed).

    Raises:
        ModelError: the checkpoint is missing or cannot be loaded.
    """
    global _loaded
    path = Path(path)
    with model_lock:
        key = _identity(path)
        if _loaded is None or _loaded[0] != key:
            _loaded = None  # let the old model go before the new one is in memory
            _loaded = (key, Transcriber.load(path))
        return _loaded[1]


@contextmanager
def using_model(path: str | Path) -> Iterator[Transcriber]:
    """The shared Transcriber, held for the `with` block's run."""
    with model_lock:
        yield shared_transcriber(path)


def transcribe_steps(path: str | Path, samples: np.ndarray,
                     cancel: Callable[[], bool] | None = None) -> Iterator[TranscriptionProgress]:
    """`Transcriber.transcribe` on the shared model, holding the lock batch by batch (so a
    "Why this note?" asked meanwhile waits for one batch, not for the whole recording)."""
    steps = shared_transcriber(path).transcribe(samples, cancel)
    while True:
        with model_lock:
            step = next(steps, None)
        if step is None:
            return
        yield step
