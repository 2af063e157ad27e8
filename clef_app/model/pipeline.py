"""The transcription pipeline: the one way from a checkpoint to notes.

The CLI, the app's Transcribe and "Why this note?", live input, `clef eval`, `clef benchmark`
and `clef why` all hold a `Pipeline`. It loads a checkpoint once per process (again only if
the file changes), fixes its options when it is made (`Pipeline.load(..., passes=1)`; a
pipeline with other options is another object on the same loaded model), resamples any
input to the checkpoint's own rate, reports `TranscriptionProgress` and stops within a
token step of being cancelled.

Whoever runs a loaded model holds its lock (a transcription batch by batch), so the app's
transcription and the attention capture of "Why this note?" never interleave on the same
modules, and a "why" asked meanwhile waits for one batch, not for the whole recording.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from clef_app.config import DecodingConfig
from clef_app.model.clef_model import ClefModel
from clef_app.model.errors import ModelError
from clef_app.model.inference import StreamTranscriber, Transcriber, options_from
from clef_app.model.progress import TranscriptionProgress
from clef_app.notation.events import NoteEvent

if TYPE_CHECKING:
    from clef_app.model.explain import Explanation
    from clef_app.model.reconcile import Reconcile
    from clef_app.model.reread import Passage, Reread
    from clef_app.model.sustain import Frames
    from clef_app.notation.corrections import Corrections

Cancel = Callable[[], bool]
_OPTION_NAMES = {f.name for f in fields(DecodingConfig)} - {"device", "batch_size"}


@dataclass
class _Loaded:
    """A checkpoint in memory: its model, its stored metadata and the lock runs hold."""

    identity: tuple  # (resolved path, mtime_ns, size): what says the file is unchanged
    model: ClefModel
    meta: dict
    lock: threading.RLock


_cache: dict[tuple[str, str], _Loaded] = {}  # (resolved path, device) -> loaded checkpoint
_cache_lock = threading.Lock()


class Pipeline:
    """A loaded checkpoint with fixed decoding options.

    Make one with `Pipeline.load` (a checkpoint file) or `Pipeline.from_model` (a model in
    memory: tests, random-init benchmarks).
    """

    def __init__(self, transcriber: Transcriber, lock: threading.RLock | None = None) -> None:
        self._t = transcriber
        self.lock = lock or threading.RLock()

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str = "auto",
             batch_size: int = DecodingConfig.batch_size, threads: int = 0, tuned: bool = True,
             **overrides) -> Pipeline:
        """The checkpoint at `path` (default: `$CLEF_MODEL` or the bundled one), loaded once
        per process and device, with its decoding options fixed now.

        Args:
            device: auto | cpu | cuda | mps.
            batch_size: windows decoded together, all readings' counted.
            threads: torch intra-op threads for this process (0: torch's default).
            tuned: use the thresholds and readings stored with the checkpoint (False: plain
                `DecodingConfig` defaults, for scoring untuned training runs).
            overrides: `DecodingConfig` fields that replace the checkpoint's, e.g.
                `passes=1` (one reading) or `min_confidence=0.0`.
        Raises:
            ModelError: no checkpoint, a bad file, or an unavailable device.
            TypeError: an override that is not a decoding option.
        """
        unknown = set(overrides) - _OPTION_NAMES
        if unknown:
            raise TypeError(f"not decoding options: {', '.join(sorted(unknown))}")
        if threads:
            import torch

            torch.set_num_threads(threads)
        loaded = _load(path, device)
        base = {"device": device, "batch_size": batch_size}
        options = options_from(loaded.meta, **base) if tuned else DecodingConfig(**base)
        return cls(Transcriber(loaded.model, replace(options, **overrides)), loaded.lock)

    @classmethod
    def from_model(cls, model: ClefModel, options: DecodingConfig = DecodingConfig()
                   ) -> Pipeline:
        """A pipeline on a model already in memory (not cached)."""
        return cls(Transcriber(model, options))

    def with_options(self, **changes) -> Pipeline:
        """Another pipeline on the same loaded model (and lock), some options changed (not
        the device: the model is loaded on one)."""
        unknown = set(changes) - _OPTION_NAMES - {"batch_size"}
        if unknown:
            raise TypeError(f"not decoding options: {', '.join(sorted(unknown))}")
        return Pipeline(self._t.with_options(**changes), self.lock)

    # -- what callers read ------------------------------------------------------------------
    @property
    def options(self) -> DecodingConfig:
        return self._t.options

    @property
    def sample_rate(self) -> int:
        """Hz: the checkpoint's own rate; inputs at other rates are resampled to it."""
        return self._t.fe.sample_rate

    @property
    def fe(self):
        """The checkpoint's front end (`FrontEndConfig`)."""
        return self._t.fe

    @property
    def model(self) -> ClefModel:
        return self._t.model

    @property
    def device(self):
        return self._t.device

    @property
    def has_roll_head(self) -> bool:
        return self._t.model.roll_head is not None

    def keep(self, notes: list[NoteEvent]) -> list[NoteEvent]:
        """The notes confident enough to show (`options.min_confidence`)."""
        return self._t.keep(notes)

    # -- running it -------------------------------------------------------------------------
    def read(self, path: str | Path) -> np.ndarray:
        """A recording as mono float32 at the checkpoint's rate. Raises AudioError."""
        from clef_app.audio.io import load_audio

        return load_audio(path, self.sample_rate).samples

    def at_model_rate(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """`samples` (mono) resampled from `sample_rate` to the checkpoint's rate, kept
        within full scale (as `load_audio` does when it resamples)."""
        samples = np.asarray(samples, dtype=np.float32)
        if sample_rate == self.sample_rate:
            return samples
        from clef_app.audio.io import resample

        return np.clip(resample(samples, sample_rate, self.sample_rate), -1.0, 1.0)

    def transcribe(self, samples: np.ndarray, sample_rate: int, cancel: Cancel | None = None,
                   *, timings: dict[str, float] | None = None, frames: Frames | None = None
                   ) -> Iterator[TranscriptionProgress]:
        """Notes batch by batch, with how far the recording is done.

        Args:
            samples: mono audio at `sample_rate` (any rate: resampled to the model's).
            cancel: checked between batches and before every token step; when it returns
                True the iterator ends (the notes so far stand).
            timings: if given, seconds per stage are added up in it (`clef benchmark`).
            frames: if given, the readings' mean frame probabilities are kept in it.
        """
        steps = self._t.transcribe(self.at_model_rate(samples, sample_rate), cancel,
                                   timings, frames)
        while True:
            with self.lock:
                step = next(steps, None)
            if step is None:
                return
            yield step

    def transcribe_all(self, samples: np.ndarray, sample_rate: int,
                       cancel: Cancel | None = None) -> list[NoteEvent]:
        """Every note of the recording, by onset then pitch."""
        notes = [n for p in self.transcribe(samples, sample_rate, cancel) for n in p.notes]
        return sorted(notes, key=lambda n: (n.onset, n.pitch))

    def reread(self, samples: np.ndarray, sample_rate: int, notes: list[NoteEvent],
               passage: Passage, corrections: Corrections | None = None,
               cancel: Cancel | None = None, rule: Reconcile | None = None) -> Reread:
        """Transcribe `passage` again holding the user's notes (`model/reread.py`): the
        notes it replaces and those the model wrote instead (reconciled by `rule`, by
        default `reconcile.RECONCILE`). Raises Cancelled."""
        from clef_app.model.reconcile import RECONCILE
        from clef_app.model.reread import reread
        from clef_app.notation.corrections import Corrections

        samples = self.at_model_rate(samples, sample_rate)
        with self.lock:
            return reread(self._t, samples, notes, passage, corrections or Corrections(),
                          cancel, rule or RECONCILE)

    def pass_notes(self, samples: np.ndarray, sample_rate: int) -> list[list[NoteEvent]]:
        """Every note of each reading, unfiltered and unmerged (for tuning the merge)."""
        with self.lock:
            return self._t.pass_notes(self.at_model_rate(samples, sample_rate))

    def stream(self, time_offset: float = 0.0, *, threads: int = 0) -> StreamTranscriber:
        """Live transcription on this pipeline's loaded model (audio at the model's rate:
        `sample_rate`). The caller runs it on one thread.

        Args:
            threads: torch intra-op threads for the thread that decodes the stream (0: as it
                has them); set for that thread alone at its first decode and given back when
                the stream finishes (`threads_here`), so the rest of the process keeps its
                count.
        """
        if not threads:
            return StreamTranscriber(self._t, time_offset)
        return _OwnThreadsStream(self._t, time_offset, threads)

    def explain(self, samples: np.ndarray, sample_rate: int, onset: float, pitch: int
                ) -> Explanation:
        """Where the decoder looked when it wrote `pitch` near `onset` (s)."""
        from clef_app.model.explain import explain_note

        samples = self.at_model_rate(samples, sample_rate)
        with self.lock:
            return explain_note(self._t, samples, onset, pitch)


class _OwnThreadsStream(StreamTranscriber):
    """A stream whose decoding thread has its own torch thread count while it runs."""

    def __init__(self, transcriber: Transcriber, time_offset: float, threads: int) -> None:
        super().__init__(transcriber, time_offset)
        self._threads = threads
        self._give_back: Callable[[], None] | None = None

    def _own(self) -> None:
        if self._give_back is None:
            self._give_back = threads_here(self._threads)

    def push(self, samples: np.ndarray) -> list[NoteEvent]:
        self._own()
        return super().push(samples)

    def peek(self, context: float | None = None) -> list[NoteEvent]:
        self._own()
        return super().peek(context)

    def finish(self) -> list[NoteEvent]:
        self._own()
        try:
            return super().finish()
        finally:
            give_back, self._give_back = self._give_back, None
            give_back()


def threads_here(n: int) -> Callable[[], None]:
    """Give the calling thread `n` torch intra-op threads, leaving every other thread's
    count as it was; returns the function that gives this thread its own count back.

    `torch.set_num_threads` sets the calling thread's OpenMP and MKL counts and also the
    process's count, which each thread started later takes at its first parallel operation
    (measured: after a live take had set one thread, the app's next Transcribe, on a new
    worker thread, ran on one). So the process's count is put back from a short-lived
    helper thread; this thread keeps `n`.
    """
    import torch

    mine = torch.get_num_threads()
    process = _on_new_thread(torch.get_num_threads)  # what a new thread starts with
    torch.set_num_threads(n)
    _on_new_thread(torch.set_num_threads, process)

    def give_back() -> None:
        torch.set_num_threads(mine)
        _on_new_thread(torch.set_num_threads, process)

    return give_back


def _on_new_thread(fn: Callable, *args):
    """fn(*args) on a thread of its own, waited for; its result."""
    out: list = []
    helper = threading.Thread(target=lambda: out.append(fn(*args)), name="clef-torch-threads")
    helper.start()
    helper.join()
    return out[0]


def _load(path: str | Path | None, device: str) -> _Loaded:
    """The cached checkpoint, loaded now if it is not in memory or its file changed."""
    from clef_app.model.checkpoint import checkpoint_file, load_checkpoint, read_config
    from clef_app.model.device import choose_device

    path = checkpoint_file(path)
    identity = _identity(path)
    key = (identity[0], str(choose_device(device)))
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is None or loaded.identity != identity:
            _cache.pop(key, None)  # let the old model go before the new one is in memory
            model = load_checkpoint(path)
            loaded = _Loaded(identity, model, read_config(path)[1], threading.RLock())
            _cache[key] = loaded
            # torch's modules and the model, made now, stay while the process holds them:
            # kept out of the collector's scans, whose first after an app job (its collector
            # paused while this loaded) went through them all on the GUI thread (134 ms)
            gc.freeze()
        return loaded


def _identity(path: Path) -> tuple:
    """What says the checkpoint is still the one loaded: training rewrites checkpoints in
    place, `clef eval --tune-confidence` their JSON config."""
    from clef_app.model.location import config_path

    try:
        st = path.stat()
        conf = config_path(path).stat() if config_path(path).is_file() else None  # the
        # loader says what is wrong with a missing config
    except OSError as exc:
        raise ModelError(f"{path.name}: cannot read the model ({exc.strerror or exc})") from exc
    return (str(path.resolve()), st.st_mtime_ns, st.st_size,
            conf and (conf.st_mtime_ns, conf.st_size))
