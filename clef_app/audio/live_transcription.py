"""Live transcription (Qt-free): live audio -> a model stream -> notes, with their latency.

The model's `StreamTranscriber` decodes a 2.56-s segment once it is full, so a note waits
on average half a segment before it can appear at all. To show notes sooner, between
segment decodes the partial segment is also decoded *provisionally* (zero-padded, as the
last segment of a file is): the notes found there are shown as sounding until the full
segment replaces them. A provisional decode is skipped when the segment will be complete
before it could finish, so a slow CPU falls back to segment-by-segment decoding.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clef_app.audio.resampler import StreamResampler
from clef_app.config import SAMPLE_RATE
from clef_app.notation.events import NoteEvent

PROVISIONAL_EVERY = 0.5  # s of new audio between provisional decodes
PROVISIONAL_MIN = 0.25  # s: a partial segment shorter than this is not decoded
PROVISIONAL_MARGIN = 0.05  # s: notes starting this close to the newest sample are unreliable
SAME_NOTE = 0.06  # s: a final note within this of a provisional onset is the same note
LIVE_TORCH_THREADS = 1  # intra-op threads while decoding live (see set_torch_threads)


@dataclass
class LatencyLog:
    """When each note first appeared, against when its onset's audio arrived."""

    first: list[float] = field(default_factory=list)  # s: first appearance (any kind)
    final: list[float] = field(default_factory=list)  # s: appearance as a completed note
    segment_delays: list[float] = field(default_factory=list)  # s: full-segment decodes
    provisional_delays: list[float] = field(default_factory=list)  # s: partial decodes
    # per decode: (audio decoded up to, s; clock when done; arrival of newest sample; its time)
    decodes: list[tuple[float, float, float, float]] = field(default_factory=list)
    _seen: dict[int, list[float]] = field(default_factory=dict)  # pitch -> onsets seen

    def note(self, n: NoteEvent, latency: float, final: bool) -> None:
        onsets = self._seen.setdefault(n.pitch, [])
        if not any(abs(o - n.onset) <= SAME_NOTE for o in onsets):
            onsets.append(n.onset)
            self.first.append(latency)
        if final:
            self.final.append(latency)

    def onset_latency(self, onsets: np.ndarray) -> np.ndarray:
        """Latency a note with each onset (s) would have had: the model-independent part.

        A note can appear once a decode has covered its onset; this is that decode's
        completion time minus the arrival of the onset's audio (NaN: never covered).
        """
        out = np.full(len(onsets), np.nan)
        for i, t in enumerate(np.asarray(onsets, dtype=float)):
            for covered, done, arrival, newest in self.decodes:
                if covered > t:
                    out[i] = done - (arrival - (newest - t))
                    break
        return out

    def summary(self) -> dict[str, float]:
        return {**_stats("first", self.first), **_stats("final", self.final)}


def _stats(name: str, values: list[float]) -> dict[str, float]:
    v = np.asarray(values)
    if v.size == 0:
        return {f"{name}_notes": 0}
    return {f"{name}_notes": int(v.size), f"{name}_median": float(np.median(v)),
            f"{name}_p95": float(np.percentile(v, 95)), f"{name}_max": float(v.max())}


def set_torch_threads(n: int) -> int:
    """Set torch's intra-op threads (process-wide); returns the previous count.

    Live decodes run one segment at a time: on a busy 2-core CPU they were 20-50x slower
    with two threads than with one (measured: 0.35 s vs 7-17 s for 160 tokens).
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous


def transcription_unavailable() -> str:
    """Why live transcription cannot run ("" when a trained model is installed)."""
    try:
        from clef_app.model.checkpoint import find_checkpoint
    except Exception as exc:  # the model stack itself is broken or missing
        return f"the model cannot be loaded ({type(exc).__name__}: {exc})"
    if find_checkpoint() is None:
        return "no trained model installed (models/clef.safetensors is missing)"
    return ""


def checkpoint_stream_factory(path: str | Path | None = None) -> Callable[[], object]:
    """A function that loads the installed model and returns a fresh StreamTranscriber."""

    def make():
        from clef_app.model.inference import Transcriber

        return Transcriber.load(path, device="cpu").stream()

    return make


class LiveTranscription:
    """Feeds a model stream with live audio; notes come back with recording-relative times.

    Args:
        stream_factory: returns a `StreamTranscriber` (`push(samples_16k)`, `finish()`);
            called on the worker thread, so loading a model there does not block the caller.
        input_rate: rate of the samples given to `process`/`feed` (resampled to 16 kHz).
        clock: time source for latencies (the benchmark passes a simulated one).
        provisional: decode partial segments between full ones (see the module docstring).
    """

    def __init__(self, stream_factory: Callable[[], object], input_rate: int,
                 clock: Callable[[], float] = time.monotonic, provisional: bool = True) -> None:
        self._factory = stream_factory
        self._stream = None
        self._threads_before = 0  # torch's thread count before this take (0: untouched)
        self.input_rate = input_rate
        self.clock = clock
        self.provisional = provisional
        self._resampler = StreamResampler(input_rate, SAMPLE_RATE)
        self._received = 0  # input samples pushed so far
        self._peeked_at = 0.0  # s of audio when the last (provisional or full) decode ran
        self._sounding: list[NoteEvent] = []
        self.log = LatencyLog()
        self.error = ""
        self.done = False
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._out: list[NoteEvent] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- synchronous core ----------------------------------------------------------------
    def process(self, samples: np.ndarray, arrival: float) -> list[NoteEvent]:
        """Push samples whose newest one arrived at time `arrival`; return completed notes.

        Afterwards `sounding()` holds the provisional notes of the partial segment.
        """
        stream = self._ensure_stream()
        self._received += len(samples)
        end = self._received / self.input_rate  # recording time of the newest sample
        started = self.clock()
        before = getattr(stream, "next_segment", None)
        notes = list(stream.push(self._resampler.push(samples)))
        now = self.clock()
        if getattr(stream, "next_segment", None) != before:
            self.log.segment_delays.append(now - started)
            covered = stream.next_segment * stream.fe.segment_seconds
            self.log.decodes.append((covered, now, arrival, end))
            self._peeked_at, self._sounding = end, []
        for n in notes:
            self.log.note(n, now - (arrival - (end - n.onset)), final=True)
        if self._should_peek(stream, end):
            started = self.clock()
            self._sounding = self._peek(stream, end)
            now = self.clock()
            self.log.provisional_delays.append(now - started)
            self.log.decodes.append((end - PROVISIONAL_MARGIN, now, arrival, end))
            self._peeked_at = end
            for n in self._sounding:
                self.log.note(n, now - (arrival - (end - n.onset)), final=False)
        return notes

    def sounding(self) -> list[NoteEvent]:
        """Provisional notes of the segment being filled (replaced after every decode)."""
        return list(self._sounding)

    def finish_now(self) -> list[NoteEvent]:
        """Decode what is left (the last, partial segment) and close every note."""
        stream = self._ensure_stream()
        stream.push(self._resampler.flush())
        self._sounding = []
        notes = list(stream.finish())
        if self._threads_before:  # the take is over: give batch transcription its threads back
            set_torch_threads(self._threads_before)
            self._threads_before = 0
        return notes

    def _ensure_stream(self):
        if self._stream is None:
            self._threads_before = set_torch_threads(LIVE_TORCH_THREADS)
            self._stream = self._factory()
        return self._stream

    def _should_peek(self, stream, end: float) -> bool:
        """A partial decode is worth it: enough new audio, and done before the segment fills."""
        if not self.provisional or not hasattr(stream, "t"):
            return False
        fe = stream.fe
        filled = end - stream.next_segment * fe.segment_seconds
        until_full = fe.segment_seconds - filled
        cost = max(self.log.provisional_delays[-3:] + self.log.segment_delays[-3:], default=0.0)
        return (filled >= PROVISIONAL_MIN and end - self._peeked_at >= PROVISIONAL_EVERY
                and until_full > cost)

    def _peek(self, stream, end: float) -> list[NoteEvent]:
        """Decode the partial segment on its own; notes whose onset we have heard."""
        notes = stream.peek()
        limit = stream.stitcher.time_offset + end - PROVISIONAL_MARGIN
        return [_clip_offset(n, limit + PROVISIONAL_MARGIN) for n in notes if n.onset < limit]

    # -- threaded use (GUI) ----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clef-live-transcription",
                                        daemon=True)
        self._thread.start()

    def feed(self, samples: np.ndarray, arrival: float | None = None) -> None:
        """Queue samples for the worker (cheap); without start(), decode them right here."""
        arrival = self.clock() if arrival is None else arrival
        if self._thread is None:
            self._publish(self.process(samples, arrival))
        else:
            self._queue.put((samples, arrival))

    def finish(self) -> None:
        """Decode the rest (on the worker if started); `done` turns True when it has."""
        if self._thread is None:
            self._publish(self.finish_now())
            self.done = True
        else:
            self._queue.put(None)

    def take(self) -> tuple[list[NoteEvent], list[NoteEvent]]:
        """(completed notes since the last call, provisional notes sounding now)."""
        with self._lock:
            out, self._out = self._out, []
            return out, list(self._sounding)

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    def _run(self) -> None:
        try:
            self._ensure_stream()
            while True:
                item = self._queue.get()
                if item is None:
                    self._publish(self.finish_now())
                    break
                samples, arrival = item
                while not self._queue.empty():  # catch up in one push after a slow decode
                    nxt = self._queue.get()
                    if nxt is None:
                        self._queue.put(None)
                        break
                    samples, arrival = np.concatenate([samples, nxt[0]]), nxt[1]
                self._publish(self.process(samples, arrival))
        except Exception as exc:  # ModelError or a decoding failure: reported, never raised
            self.error = f"live transcription stopped: {exc}"
        finally:
            self.done = True

    def _publish(self, notes: list[NoteEvent]) -> None:
        with self._lock:
            self._out += notes


def _clip_offset(n: NoteEvent, limit: float) -> NoteEvent:
    from dataclasses import replace

    return n if n.offset <= limit else replace(n, offset=max(limit, n.onset + 0.01))
