"""Live transcription (Qt-free): live audio -> a model stream -> notes, with their latency.

The model's `StreamTranscriber` decodes a 2.56-s segment once it is full, so a final note
waits on average half a segment before it can appear. To show notes sooner, every
`PEEK_EVERY` s of audio the stream also decodes a *window* that ends in the newest audio
(`peek`): the notes it finds after the last final segment are shown as provisional until
the full segment replaces them, and the notes still sounding at that segment's end are
shown ending where the window hears them. A window costs one segment decode; on a slow CPU
windows are spaced further apart so that they take at most `PEEK_LOAD` of the time between
them.

Which window: the segment being filled, zero-padded after the newest sample, agrees better
with the final decode than a sliding window of 2.56 s of real audio ending now (`clef
live-benchmark --peek-context 2.56`). Windows every 0.35 s, 60 s each of the demo and two
maps-dev pieces (CPU shared with two training jobs), p95 from a true onset to the first
appearance of its note: 0.97 / 1.37 / 0.81 s, against 1.34 / 2.25 / 1.10 s sliding, which
also withdrew more provisional notes (71 / 172 / 165 against 46 / 147 / 114) and costs
more per decode (CPU 0.13-0.20 s against 0.09-0.14 s).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from clef_app.audio.resampler import StreamResampler
from clef_app.notation.events import NoteEvent

PEEK_EVERY = 0.35  # s of new audio between window decodes (at least; see live-benchmark)
PEEK_CONTEXT: float | None = None  # s a window reads back from the newest sample; None: the
# segment being filled (see `StreamTranscriber.peek`)
PEEK_LOAD = 0.5  # a window decode may take at most this share of the time between two
PROVISIONAL_MIN = 0.25  # s: a stream shorter than this is not peeked at
PROVISIONAL_MARGIN = 0.05  # s: notes starting this close to the newest sample are unreliable
SAME_NOTE = 0.06  # s: a final note within this of a provisional onset is the same note
# torch intra-op threads of the thread decoding live, that thread's alone (`Pipeline.stream`):
# decodes run one segment at a time, and on a busy 2-core CPU they were 20-50x slower with
# two threads than with one (measured: 0.35 s vs 7-17 s for 160 tokens)
LIVE_TORCH_THREADS = 1


@dataclass
class LatencyLog:
    """When each note first appeared, against when its onset's audio arrived."""

    first: list[float] = field(default_factory=list)  # s: first appearance (any kind)
    final: list[float] = field(default_factory=list)  # s: appearance as a completed note
    segment_delays: list[float] = field(default_factory=list)  # s: full-segment decodes
    provisional_delays: list[float] = field(default_factory=list)  # s: window decodes
    segment_cpu: list[float] = field(default_factory=list)  # CPU s of each segment decode
    provisional_cpu: list[float] = field(default_factory=list)  # CPU s of each window decode
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


def transcription_unavailable() -> str:
    """Why live transcription cannot run ("" when a trained model is installed)."""
    try:
        from clef_app.model.location import find_checkpoint
    except Exception as exc:  # the model stack itself is broken or missing
        return f"the model cannot be loaded ({type(exc).__name__}: {exc})"
    if find_checkpoint() is None:
        return "no trained model installed (models/clef.safetensors is missing)"
    return ""


class ModelStream(Protocol):
    """What live input asks of the model's stream (`clef_app.model.inference.StreamTranscriber`,
    made by `Pipeline.stream()`); test stand-ins provide the same."""

    sample_rate: int  # Hz: what `push` takes
    segment_seconds: float  # s: one full segment
    time_offset: float  # s: the stream's time 0 in the recording
    next_segment: int  # segments decoded as final so far

    def push(self, samples: np.ndarray) -> list[NoteEvent]: ...

    def finish(self) -> list[NoteEvent]: ...

    def peek(self, context: float | None = None) -> list[NoteEvent]: ...

    def provisional(self) -> list[NoteEvent]: ...


def checkpoint_stream_factory(path: str | Path | None = None) -> Callable[[], ModelStream]:
    """A function returning a fresh stream on the installed model's pipeline, which is
    loaded on the first call and shared after (every take, Transcribe, "Why this note?");
    the thread decoding it has `LIVE_TORCH_THREADS` threads, the rest of the app its own."""

    def make() -> ModelStream:
        from clef_app.model.native import load_torch_libraries

        load_torch_libraries()  # a first import of torch off the GUI thread, without the GIL
        from clef_app.model.pipeline import Pipeline

        return Pipeline.load(path, device="cpu").stream(threads=LIVE_TORCH_THREADS)

    return make


class LiveTranscription:
    """Feeds a model stream with live audio; notes come back with recording-relative times.

    Args:
        stream_factory: returns a `ModelStream`; called on the worker thread, so loading a
            model there does not block the caller.
        input_rate: rate of the samples given to `process`/`feed` (resampled to the
            stream's own rate).
        clock: time source for latencies (the benchmark passes a simulated one).
        provisional: decode windows between full segments (see the module docstring).
        peek_every: s of audio between two windows (at least; `PEEK_LOAD` may space them).
        peek_context: what a window reads (`StreamTranscriber.peek`'s `context`).
    """

    def __init__(self, stream_factory: Callable[[], ModelStream], input_rate: int,
                 clock: Callable[[], float] = time.monotonic, provisional: bool = True,
                 peek_every: float = PEEK_EVERY, peek_context: float | None = PEEK_CONTEXT
                 ) -> None:
        self._factory = stream_factory
        self._stream: ModelStream | None = None
        self.input_rate = input_rate
        self.clock = clock
        self.provisional = provisional
        self._resampler: StreamResampler | None = None  # to the stream's rate, once it exists
        self._received = 0  # input samples pushed so far
        self.peek_every, self.peek_context = peek_every, peek_context
        self._peeked_at = float("-inf")  # s of audio when the last window was decoded
        self._sounding: list[NoteEvent] = []  # the worker's latest provisional notes
        self._shown: list[NoteEvent] = []  # ... as published with the completed ones
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

        Afterwards `sounding()` holds the provisional notes (see the module docstring).
        """
        stream = self._ensure_stream()
        self._received += len(samples)
        end = self._received / self.input_rate  # recording time of the newest sample
        before = stream.next_segment
        started, cpu = self.clock(), time.thread_time()
        notes = list(stream.push(self._resample(samples)))
        now = self.clock()
        if stream.next_segment != before:
            self.log.segment_delays.append(now - started)
            self.log.segment_cpu.append(time.thread_time() - cpu)
            covered = stream.next_segment * stream.segment_seconds
            self.log.decodes.append((covered, now, arrival, end))
            # the last window's notes after the new final segment stay up: nothing blinks
            self._sounding = self._visible(stream, stream.provisional(), end) if (
                self.provisional) else []
        for n in notes:
            self.log.note(n, now - (arrival - (end - n.onset)), final=True)
        if self._should_peek(stream, end):
            started, cpu = self.clock(), time.thread_time()
            self._sounding = self._visible(stream, stream.peek(self.peek_context), end)
            now = self.clock()
            self.log.provisional_delays.append(now - started)
            self.log.provisional_cpu.append(time.thread_time() - cpu)
            self.log.decodes.append((end - PROVISIONAL_MARGIN, now, arrival, end))
            self._peeked_at = end
            for n in self._sounding:
                self.log.note(n, now - (arrival - (end - n.onset)), final=False)
        return notes

    def sounding(self) -> list[NoteEvent]:
        """Provisional notes (replaced after every decode)."""
        return list(self._sounding)

    def finish_now(self) -> list[NoteEvent]:
        """Decode what is left (the last, partial segment) and close every note."""
        stream = self._ensure_stream()
        stream.push(self._resample(None))
        self._sounding = []
        return list(stream.finish())

    def _ensure_stream(self) -> ModelStream:
        if self._stream is None:
            self._stream = self._factory()
            self._resampler = StreamResampler(self.input_rate, self._stream.sample_rate)
        return self._stream

    def _resample(self, samples: np.ndarray | None) -> np.ndarray:
        """Input samples at the stream's rate; None: what the resampler still holds."""
        assert self._resampler is not None  # made with the stream
        return self._resampler.flush() if samples is None else self._resampler.push(samples)

    def _should_peek(self, stream: ModelStream, end: float) -> bool:
        """Time for a window: enough new audio since the last, and the CPU keeps up."""
        if not self.provisional or end < PROVISIONAL_MIN:
            return False
        recent = self.log.provisional_delays[-3:]
        cost = float(np.median(recent)) if recent else 0.0
        return end - self._peeked_at >= max(self.peek_every, cost / PEEK_LOAD)

    def _visible(self, stream: ModelStream, notes: list[NoteEvent], end: float
                 ) -> list[NoteEvent]:
        """The provisional notes whose onset we have heard, ended no later than now."""
        limit = stream.time_offset + end - PROVISIONAL_MARGIN
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
            return out, list(self._shown)

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
        """Completed and provisional notes together: a note never vanishes between the two."""
        with self._lock:
            self._out += notes
            self._shown = list(self._sounding)


def _clip_offset(n: NoteEvent, limit: float) -> NoteEvent:
    from dataclasses import replace

    return n if n.offset <= limit else replace(n, offset=max(limit, n.onset + 0.01))
