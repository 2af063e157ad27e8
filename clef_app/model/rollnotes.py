"""The roll head's second opinion: notes it hears clearly that the decoder did not write.

The decoder is precise but misses notes in dense chords and fast runs; the piano-roll head
(onset and frame probabilities per 10 ms and key) finds many of them. `RollNotes` peak-picks
the roll's onsets, follows each note while its frame probability stays up, and keeps only
the notes the decoder has no onset for (same key, within `MATCH_FRAMES`). A roll-only note's
confidence is its onset probability or, given a calibration (`scale`), the confidence of
decoder notes that are right as often: roll-only notes are right less often than decoder
notes of the same raw confidence, and the app shades every note on one scale.

Works on a stream: feed consecutive chunks of frames; notes come out once they are closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from clef_app.config import FRAMES_PER_SECOND, MIDI_MIN, N_PITCHES
from clef_app.notation.codec import decode_segment
from clef_app.notation.events import NoteEvent

LOOKAHEAD = 2  # frames either side an onset peak must top
MIN_FRAMES = 3  # shortest roll-only note, frames
MATCH_FRAMES = 5  # a decoder onset this close (same key) means the decoder has the note
DEFAULT_VELOCITY = 64


def decoded_onsets(start: int, tokens: list[int]) -> list[tuple[int, int, int]]:
    """(frame, MIDI pitch, velocity) of each note-on in one decoded segment."""
    return [(start + t, pitch, vel) for t, is_on, pitch, vel, _ in decode_segment(tokens).events
            if is_on]


class RollNotes:
    """Roll-only notes from streamed onset/frame probabilities and the decoder's onsets."""

    def __init__(self, onset_threshold: float, frame_threshold: float = 0.3,
                 fps: int = FRAMES_PER_SECOND, time_offset: float = 0.0, start: int = 0,
                 scale: tuple[Sequence[float], Sequence[float]] = (),
                 floor: float = 0.0) -> None:
        """`scale`: (increasing onset peaks, decoder-scale confidences) to map a note's peak
        onto (linear between, clamped at the ends; none: the peak itself), never below
        `floor` (the note passed `onset_threshold`, its own bar)."""
        self.onset_threshold = onset_threshold
        self.scale = scale
        self.floor = floor
        self.frame_threshold = frame_threshold
        self.fps = fps
        self.time_offset = time_offset
        self._base = start  # absolute frame of the buffers' first row (the first chunk's)
        self._onset = np.zeros((0, N_PITCHES), dtype=np.float32)
        self._frame = np.zeros((0, N_PITCHES), dtype=np.float32)
        self._done = start  # absolute frame up to which peaks were looked for
        self._open: dict[int, tuple[int, float]] = {}  # key -> (onset frame, peak probability)
        self._closed: list[tuple[int, int, int, float]] = []  # waiting for the decoder's say
        self._decoded: dict[int, deque[int]] = {}  # key -> recent decoder onset frames
        # (frame, velocity) of decoder onsets, enough to cover a batch of segments
        self._velocities: deque[tuple[int, int]] = deque(maxlen=4096)

    def add_decoded(self, onsets: list[tuple[int, int, int]]) -> None:
        """Tell it the decoder's onsets (frame, pitch, velocity) as segments are decoded."""
        for frame, pitch, vel in onsets:
            self._decoded.setdefault(pitch - MIDI_MIN, deque(maxlen=512)).append(frame)
            self._velocities.append((frame, vel))

    def add_segment(self, start: int, tokens: list[int], roll: np.ndarray) -> list[NoteEvent]:
        """One decoded segment (or window) from absolute frame `start`: its tokens and its
        (frames, 2, 88) onset/frame probabilities; returns the roll-only notes now settled."""
        self.add_decoded(decoded_onsets(start, tokens))
        return self.feed(start, roll[:, 0], roll[:, 1], start + len(roll))

    def feed(self, start: int, onset: np.ndarray, frame: np.ndarray,
             decoded_until: int) -> list[NoteEvent]:
        """Add (frames, 88) probabilities starting at absolute frame `start` (the frame after
        the last chunk); return roll-only notes that are complete and that the decoder,
        which has decoded every frame before `decoded_until`, did not write."""
        if start != self._base + len(self._onset):
            raise ValueError("roll chunks must be consecutive")
        self._onset = np.concatenate([self._onset, np.asarray(onset, dtype=np.float32)])
        self._frame = np.concatenate([self._frame, np.asarray(frame, dtype=np.float32)])
        self._track(self._base + len(self._onset) - LOOKAHEAD)
        return self._release(decoded_until - MATCH_FRAMES)

    def settled(self) -> float:
        """s: every roll-only note starting before this has been returned (later ones are
        open, waiting for the decoder's say, or not yet looked for)."""
        pending = [on for on, _ in self._open.values()] + [note[0] for note in self._closed]
        return self.time_offset + min(pending + [self._done]) / self.fps

    def finish(self) -> list[NoteEvent]:
        """Close every note at the end of the stream and return what is left."""
        end = self._base + len(self._onset)
        self._track(end)
        for key, (on, peak) in list(self._open.items()):
            self._closed.append((on, max(end, on + MIN_FRAMES), key, peak))
        self._open.clear()
        return self._release(None)

    def _track(self, until: int) -> None:
        """Find onset peaks and note ends in frames [self._done, until)."""
        lo, hi = self._done - self._base, until - self._base
        if hi <= lo:
            return
        on = self._onset
        padded = np.pad(on, ((LOOKAHEAD, LOOKAHEAD), (0, 0)), constant_values=-1.0)
        window = np.lib.stride_tricks.sliding_window_view(padded, 2 * LOOKAHEAD + 1, axis=0)
        peak = (on >= self.onset_threshold) & (on >= window.max(axis=-1))
        low = self._frame < self.frame_threshold
        for key in range(N_PITCHES):
            self._track_key(key, np.flatnonzero(peak[lo:hi, key]) + lo,
                            np.flatnonzero(low[lo:hi, key]) + lo, hi)
        self._done = until
        drop = max(0, self._done - LOOKAHEAD - self._base)  # keep the peaks' look-back
        self._onset, self._frame = self._onset[drop:], self._frame[drop:]
        self._base += drop

    def _track_key(self, key: int, peaks: np.ndarray, lows: np.ndarray, hi: int) -> None:
        """Walk one key's onset peaks and low-frame rows (buffer rows, in the frames being
        tracked) in time order: a note ends at its first low frame or at the next peak."""
        base, cursor = self._base, 0
        while True:
            if key in self._open:
                on = self._open[key][0] - base
                ends = [int(a[np.searchsorted(a, s)]) for a, s in
                        ((lows, on + 1), (peaks, on + MIN_FRAMES + 1))
                        if np.searchsorted(a, s) < len(a)]
                if not ends:
                    return
                end = min(ends)
                _, p = self._open.pop(key)
                self._closed.append((on + base, max(end, on + MIN_FRAMES) + base, key, p))
                cursor = end
            i = int(np.searchsorted(peaks, cursor))
            if i >= len(peaks) or peaks[i] >= hi:
                return
            t = int(peaks[i])
            self._open[key] = (t + base, float(self._onset[t, key]))
            cursor = t

    def _release(self, settled: int | None) -> list[NoteEvent]:
        """Closed notes whose onset the decoder has settled, minus the ones it wrote."""
        out, wait = [], []
        for note in self._closed:
            if settled is not None and note[0] >= settled:
                wait.append(note)
            elif not any(abs(f - note[0]) <= MATCH_FRAMES
                         for f in self._decoded.get(note[2], ())):
                out.append(self._event(*note))
        self._closed = wait
        return out

    def _event(self, on: int, off: int, key: int, peak: float) -> NoteEvent:
        # the nearest decoder onset among those surely decoded (however segments are batched)
        known = [fv for fv in self._velocities if fv[0] <= on + MATCH_FRAMES]
        near = min(known, key=lambda fv: abs(fv[0] - on), default=None)
        return NoteEvent(self.time_offset + on / self.fps, self.time_offset + off / self.fps,
                         key + MIDI_MIN, near[1] if near else DEFAULT_VELOCITY,
                         confidence=self.confidence(peak))

    def confidence(self, peak: float) -> float:
        """A roll-only note's confidence for its onset peak."""
        if not self.scale:
            return peak
        return max(self.floor, float(np.interp(peak, *self.scale)))
