"""Streaming polyphase resampling: the same filter as scipy's resample_poly, block by block.

A live input arrives in blocks of any size at the device's rate; the model wants 16 kHz.
Resampling each block on its own would click at every seam, so this keeps just enough past
input to compute each output sample exactly as `resample_poly` over the whole signal would.
"""

from __future__ import annotations

from math import gcd

import numpy as np


class StreamResampler:
    """Feed (n,) float32 blocks at `from_rate`; get the resampled samples ready so far."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        g = gcd(int(from_rate), int(to_rate))
        self.up, self.down = int(to_rate) // g, int(from_rate) // g
        if self.up == self.down:
            return
        from scipy.signal import firwin  # ~1 s to import: not at start-up

        max_rate = max(self.up, self.down)
        half_len = 10 * max_rate  # resample_poly's default filter half-length
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * self.up
        pre_pad = self.down - half_len % self.down  # makes the delay whole output samples
        self.h = np.concatenate([np.zeros(pre_pad), h]).astype(np.float64)
        self.skip = (half_len + pre_pad) // self.down  # leading outputs that are filter delay
        self._buf = np.zeros(0, dtype=np.float64)
        self._buf_start = 0  # input index of _buf[0]; a multiple of `down`
        self._n_in = 0  # inputs received
        self._next = 0  # next filter output index (before skipping the delay)

    @property
    def passthrough(self) -> bool:
        return self.up == self.down

    def push(self, x: np.ndarray) -> np.ndarray:
        """Resample the next block; returns the output samples whose inputs have all arrived."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if self.passthrough:
            return x.copy()
        self._buf = np.concatenate([self._buf, x])
        self._n_in += len(x)
        return self._emit(last=(self._n_in * self.up - 1) // self.down)

    def flush(self) -> np.ndarray:
        """The remaining outputs, as if the input ended here (zero-padded like resample_poly)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        total = -(-self._n_in * self.up // self.down)  # ceil: resample_poly's output length
        out = [self._emit(last=self._n_in * self.up // self.down + len(self.h) // self.down + 1,
                          limit=total + self.skip)]
        return np.concatenate(out)

    def _emit(self, last: int, limit: int | None = None) -> np.ndarray:
        """Filter outputs _next..last (inclusive, capped at `limit`), minus the delay."""
        if limit is not None:
            last = min(last, limit - 1)
        if last < self._next:
            return np.zeros(0, dtype=np.float32)
        from scipy.signal import upfirdn

        y = upfirdn(self.h, self._buf, self.up, self.down)
        offset = self._buf_start * self.up // self.down  # filter output index of y[0]
        lo, hi = self._next - offset, last + 1 - offset
        chunk = np.zeros(hi - lo)
        avail = y[lo : min(hi, len(y))]
        chunk[: len(avail)] = avail
        first = max(self._next, self.skip)
        out = chunk[first - self._next :] if last >= first else chunk[:0]
        self._next = last + 1
        self._trim()
        return out.astype(np.float32)

    def _trim(self) -> None:
        """Drop inputs no future output needs (keeping the start a multiple of `down`)."""
        oldest = (self._next * self.down - len(self.h) + 1) // self.up
        keep_from = max(0, oldest) // self.down * self.down
        if keep_from > self._buf_start:
            self._buf = self._buf[keep_from - self._buf_start :]
            self._buf_start = keep_from
