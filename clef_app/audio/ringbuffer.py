"""A single-producer/single-consumer float32 ring buffer for audio callbacks.

The producer (a PortAudio callback) only copies into preallocated memory and advances its
own counter; the consumer (a GUI timer or a worker) only advances its own. Each counter is a
Python int written by one thread and read by the other; an int assignment is atomic under
the GIL, so no lock is needed. When the consumer falls behind, the newest samples that do
not fit are dropped and counted: the producer never waits and never touches the read side.
"""

from __future__ import annotations

import time

import numpy as np


class RingBuffer:
    """Frames of `channels` float32 samples; `capacity` frames fit before overflow."""

    def __init__(self, capacity: int, channels: int = 1) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError("capacity and channels must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._data = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self._written = 0  # frames ever written (producer's counter)
        self._read = 0  # frames ever read (consumer's counter)
        self.overflows = 0  # producer calls that had to drop frames
        self.dropped_frames = 0
        # (frames written, time.monotonic()) after the latest write: when a frame arrived
        self.last_write: tuple[int, float] = (0, time.monotonic())

    # -- producer side ---------------------------------------------------------------------
    def write(self, frames: np.ndarray, timestamp: float | None = None) -> int:
        """Copy (n,) or (n, channels) frames in; returns how many fit (the rest are dropped)."""
        frames = np.asarray(frames, dtype=np.float32)
        if frames.ndim == 1:
            frames = frames[:, None]
        n = frames.shape[0]
        free = self.capacity - (self._written - self._read)
        if n > free:
            self.overflows += 1
            self.dropped_frames += n - free
            n = free
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = frames[:first]
        self._data[: n - first] = frames[first:n]
        self._written += n
        self.last_write = (self._written, time.monotonic() if timestamp is None else timestamp)
        return n

    # -- consumer side ---------------------------------------------------------------------
    @property
    def available(self) -> int:
        """Frames waiting to be read."""
        return self._written - self._read

    @property
    def frames_read(self) -> int:
        return self._read

    def read(self, max_frames: int | None = None) -> np.ndarray:
        """Take up to `max_frames` (default: all waiting) as a (n, channels) copy."""
        n = self.available if max_frames is None else min(max_frames, self.available)
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out = np.concatenate([self._data[start : start + first], self._data[: n - first]])
        self._read += n
        return out

    def arrival_time(self, frame: int, rate: float) -> float:
        """Estimated monotonic time at which frame number `frame` arrived.

        Capture runs in real time, so a frame `k` frames before the newest one arrived
        `k / rate` seconds before the newest write.
        """
        written, stamp = self.last_write
        return stamp - (written - frame) / rate
