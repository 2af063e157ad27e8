"""The app's Transcribe in a child process, so the window's process never opens torch for it.

Opening torch's native libraries (about 1 GB, `model.native`) holds the dynamic loader's
locks for as long as they take to map and initialise, 0.3 s of CPU and seconds on a busy
machine, whichever thread opens them. Any thread that needs a loader lock meanwhile waits
(measured with gdb on glibc 2.36): `pthread_create` (starting a QThread or any thread) waits
on `dl_load_tls_lock` while the libraries are mapped, and a thread's first use of a C++
`thread_local` with a destructor (Qt's first regular-expression match on a thread, inside
the first QSvgRenderer's parse of a score page) waits on `dl_load_lock` while their static
initialisers run. On the GUI thread that was the first Transcribe's stall: 280-990 ms for
the first score page built beside the load, 8-13 ms without it. No choice of thread or of
Python's lock avoids it; a process of its own does. The child (`python -m
clef_app.model.transcribe_child`, no Qt) holds one `Pipeline` per checkpoint for every
Transcribe of the session, as `clef transcribe` does; it is started on first use and
kept, so only the first Transcribe pays the load.

The protocol on the child's stdin and stdout: a message is a 12-digit length then that many
bytes of JSON. A request {"job", "model", "rate", "samples", "batch_size"} is followed by
`samples` float32 values (raw, native byte order); {"cancel": job} stops that job before
its next token step. Replies: {"job", "step": [notes, done s, total s]} after every batch
(each note [onset, offset, pitch, velocity, confidence]), then {"job", "end"} (ran to its
end or was cancelled) or {"job", "error": one line}. A child whose stdin closes (the app
ended, however) ends at once.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from clef_app.errors import ClefError, one_line
from clef_app.model.errors import ModelError
from clef_app.model.progress import TranscriptionProgress
from clef_app.notation.events import NoteEvent
from clef_app.notation.steps import Cancelled, checkpoint

POLL_SECONDS = 0.05  # s: how often a caller waiting for the child looks for its cancel
HEADER = 12  # digits of a message's length
CHUNK = 1 << 20  # bytes of samples written to the pipe at a time
COMMAND = [sys.executable, "-m", "clef_app.model.transcribe_child"]


def _send(stream: IO[bytes], message: dict, payload: memoryview | None = None) -> None:
    data = json.dumps(message).encode("utf-8")
    stream.write(b"%012d" % len(data) + data)
    if payload is not None:
        for start in range(0, len(payload), CHUNK):
            stream.write(payload[start:start + CHUNK])
    stream.flush()


def _read(stream: IO[bytes], size: int) -> bytearray | None:
    """Exactly `size` bytes, None if the stream ends first."""
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = stream.readinto(view[got:])
        if not n:
            return None
        got += n
    return data


def _receive(stream: IO[bytes]) -> dict | None:
    """The next message, None at the end of the stream."""
    head = _read(stream, HEADER)
    data = _read(stream, int(head)) if head is not None else None
    return json.loads(data) if data is not None else None


class TranscribeChild:
    """One child process transcribing for the app, started on first use and kept."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or COMMAND
        self._lock = threading.Lock()  # one transcription at a time
        self._writing = threading.Lock()  # one message at a time on the child's stdin
        self._child: subprocess.Popen | None = None
        self._replies: queue.Queue[dict | None] = queue.Queue()
        self._jobs = itertools.count(1)

    @property
    def pid(self) -> int | None:
        """The running child's process id (None when there is none)."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def transcribe(self, model: Path | None, samples: np.ndarray, rate: int,
                   cancelled: Callable[[], bool], batch_size: int | None = None
                   ) -> Iterator[TranscriptionProgress]:
        """`Pipeline.load(model).transcribe(samples, rate)`'s steps, run in the child.

        Waits in POLL_SECONDS steps that call `steps.checkpoint()` and `cancelled()`; a
        cancel (or closing the generator) tells the child to stop before its next token
        step and returns at once (the child's late replies are dropped).

        Raises:
            ModelError: the model could not be loaded or run, or the child died.
        """
        with self._lock:
            child, job = self._start(), next(self._jobs)
            data = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
            request = {"job": job, "model": None if model is None else str(model),
                       "rate": int(rate), "samples": len(data), "batch_size": batch_size}
            self._send_later(child, request, memoryview(data).cast("B"))
            ended = False
            try:
                while (reply := self._next(job, cancelled)) is not None and "step" in reply:
                    notes, done, total = reply["step"]
                    yield TranscriptionProgress([_note(n) for n in notes], done, total)
                ended = True
            finally:
                if not ended:  # cancelled, or the caller stopped asking
                    self._cancel(job)
        if reply is None:
            if cancelled():  # the app's close ended the child
                raise Cancelled
            self.stop()
            raise ModelError("the transcription process ended unexpectedly")
        if "error" in reply:
            raise ModelError(reply["error"])

    def _next(self, job: int, cancelled: Callable[[], bool]) -> dict | None:
        """The job's next reply (a late one of an earlier job is dropped)."""
        while True:
            try:
                reply = self._replies.get(timeout=POLL_SECONDS)
            except queue.Empty:
                checkpoint()
                if cancelled():
                    raise Cancelled from None
                continue
            if reply is None or reply.get("job") == job:
                return reply

    def _cancel(self, job: int) -> None:
        child = self._child
        if child is not None:
            self._send_later(child, {"cancel": job})

    def _send_later(self, child: subprocess.Popen, message: dict,
                    payload: memoryview | None = None) -> None:
        """Send on a thread of its own, after what is being sent: a recording's samples
        fill the pipe while the child loads the model, and a cancel must not wait for them.
        A child killed meanwhile is no error here."""

        def send() -> None:
            with self._writing, contextlib.suppress(ValueError, OSError):
                _send(child.stdin, message, payload)

        threading.Thread(target=send, daemon=True, name="transcribe-writer").start()

    def _start(self) -> subprocess.Popen:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._replies = queue.Queue()
        self._child = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE)
        threading.Thread(target=_pass_replies, args=(self._child.stdout, self._replies),
                         daemon=True, name="transcribe-reader").start()
        return self._child

    def stop(self) -> None:
        """Kill the child (if any) and wait for it: the app's exit."""
        child, self._child = self._child, None
        if child is not None:
            with contextlib.suppress(OSError), child:  # closes its pipes, waits for it
                child.kill()  # nothing once it has ended


def _note(values: list) -> NoteEvent:
    """A note from the child, with an id of this process's (the child's would collide)."""
    onset, offset, pitch, velocity, confidence = values
    return NoteEvent(onset, offset, pitch, velocity, confidence=confidence)


def _pass_replies(stream: IO[bytes], replies: queue.Queue) -> None:
    """Put each reply of the child on `replies`, then None when its output ends."""
    with contextlib.suppress(ValueError, OSError):  # closed when the child was killed
        while (message := _receive(stream)) is not None:
            replies.put(message)
    replies.put(None)


CHILD = TranscribeChild()  # the one the app's Transcribe uses (one run at a time)
atexit.register(CHILD.stop)


# -- the child's side --------------------------------------------------------------------------
def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: transcribe each request in turn; end when the parent is gone."""
    jobs: queue.Queue[tuple[dict, np.ndarray]] = queue.Queue()
    cancelled: set[int] = set()

    def read() -> None:
        while (message := _receive(requests)) is not None:
            if "cancel" in message:
                cancelled.add(message["cancel"])
                continue
            data = _read(requests, 4 * message["samples"])
            if data is None:
                break
            jobs.put((message, np.frombuffer(data, dtype=np.float32)))
        os._exit(0)  # the parent closed its end (it ended): stop, even mid-transcription

    threading.Thread(target=read, daemon=True, name="requests").start()
    while True:
        request, samples = jobs.get()
        job = request["job"]

        def report(step: list, job: int = job) -> None:
            _send(replies, {"job": job, "step": step})

        last = _run(request, samples, lambda job=job: job in cancelled, report)
        _send(replies, {"job": job, **last})


def _run(request: dict, samples: np.ndarray, cancelled: Callable[[], bool],
         report: Callable[[list], None]) -> dict:
    """One transcription, each step passed to `report`; its last reply."""
    try:
        from clef_app.model.pipeline import Pipeline

        batch = {} if request["batch_size"] is None else {"batch_size": request["batch_size"]}
        pipeline = Pipeline.load(request["model"], **batch)
        for step in pipeline.transcribe(samples, request["rate"], cancel=cancelled):
            report([[[n.onset, n.offset, n.pitch, n.velocity, n.confidence]
                     for n in step.notes], step.done_seconds, step.total_seconds])
        return {"end": True}
    except ClefError as exc:  # a file or the machine: its message says it
        return {"error": one_line(exc, 300)}
    except Exception as exc:  # reported to the app, which says it in one line
        traceback.print_exc()
        return {"error": one_line(f"{type(exc).__name__}: {exc}", 300)}


def main() -> None:
    """`python -m clef_app.model.transcribe_child`: replies on the stdout it was given;
    anything a library prints goes to stderr instead of into the replies."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
