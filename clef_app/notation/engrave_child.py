"""Verovio's screen engraving in a child process that a cancel can kill.

Verovio lays a score out in one C++ call that holds Python's lock and cannot be
interrupted: on the score view's worker thread, one large segment kept the thread (and
the window, which needs the lock) busy for as long as it took, and closing the app had
to leave the thread running. Here the MusicXML goes to a long-lived child process
(`python -m clef_app.notation.engrave_child`, which imports neither music21 nor Qt) and
the caller waits for its SVG pages in steps of POLL_SECONDS, calling
`steps.checkpoint()` between them: inside `steps.stop_when(cancelled)` a cancel kills the
child at once (the next engraving starts a new one).

The protocol on the child's stdin and stdout: a request or a reply is a 12-digit length
then that many bytes of JSON; a request is {"xml", "options"}, a reply {"pages"} or
{"error"}.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import queue
import subprocess
import sys
import threading
from typing import IO

from clef_app.notation.engrave import EngraveError, Engraving, engrave_musicxml
from clef_app.notation.steps import checkpoint

POLL_SECONDS = 0.1  # s: how often a caller waiting for the child may be cancelled
HEADER = 12  # digits of a message's length


def _send(stream: IO[bytes], message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    stream.write(b"%012d" % len(data) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> dict | None:
    """The next message, None at the end of the stream."""
    head = stream.read(HEADER)
    if len(head) < HEADER:
        return None
    data = stream.read(int(head))
    return json.loads(data) if len(data) == int(head) else None


class EngraveChild:
    """One child process engraving MusicXML for screen pages, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request at a time
        self._child: subprocess.Popen | None = None
        self._replies: queue.Queue[dict | None] = queue.Queue()

    def engrave(self, xml: str, options: dict) -> Engraving:
        """The SVG pages of `xml` laid out with `options` (as `engrave.engrave_musicxml`).

        Raises:
            steps.Cancelled: the work was cancelled (`steps.stop_when`); the child is killed.
            EngraveError: Verovio could not read or lay out the score, or the child died.
        """
        with self._lock:
            child = self._start()
            try:  # sent by a thread of its own: a large score fills the pipe, and a cancel
                # must not wait for the child to read it all
                threading.Thread(target=_send_quietly, args=(child.stdin, xml, options),
                                 daemon=True, name="engrave-child-writer").start()
                reply = self._wait()
            except BaseException:
                self.stop()  # cancelled (or failed) mid-work: nothing else stops Verovio
                raise
        if reply is None:
            self.stop()
            raise EngraveError("the engraving process ended unexpectedly")
        if "error" in reply:
            raise EngraveError(reply["error"])
        return Engraving(list(reply["pages"]))

    def _wait(self) -> dict | None:
        while True:
            try:
                return self._replies.get(timeout=POLL_SECONDS)
            except queue.Empty:
                checkpoint()

    def _start(self) -> subprocess.Popen:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._replies = queue.Queue()
        self._child = subprocess.Popen(
            [sys.executable, "-m", "clef_app.notation.engrave_child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=_pass_replies, args=(self._child.stdout, self._replies),
                         daemon=True, name="engrave-child-reader").start()
        return self._child

    def stop(self) -> None:
        """Kill the child (if any) and wait for it: a cancel, or the app's exit."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def _send_quietly(stream: IO[bytes], xml: str, options: dict) -> None:
    """Send one request; a child killed meanwhile (a cancel) is no error here."""
    with contextlib.suppress(ValueError, OSError):
        _send(stream, {"xml": xml, "options": options})


def _pass_replies(stream: IO[bytes], replies: queue.Queue) -> None:
    """Put each reply of the child on `replies`, then None when its output ends."""
    with contextlib.suppress(ValueError, OSError):  # closed when the child was killed
        while (message := _receive(stream)) is not None:
            replies.put(message)
    replies.put(None)


CHILD = EngraveChild()  # the one the score view uses (one engraving at a time)
atexit.register(CHILD.stop)


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: engrave each request until the parent closes its input."""
    while (request := _receive(requests)) is not None:
        try:
            reply = {"pages": engrave_musicxml(request["xml"], request["options"]).pages}
        except EngraveError as exc:
            reply = {"error": str(exc)}
        _send(replies, reply)


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
