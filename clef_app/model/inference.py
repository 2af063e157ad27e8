"""Transcribing recordings: segment, encode, decode in batches, stitch across segments.

The decoding engine behind `clef_app.model.pipeline.Pipeline`, which every caller uses: it
loads the checkpoint (once) and fixes the options; a `Transcriber` never changes them.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import torch

from clef_app.config import DecodingConfig
from clef_app.model.clef_model import ClefModel
from clef_app.model.decoding import greedy_decode
from clef_app.model.device import choose_device
from clef_app.model.frontend import lookahead, mel_to_image, n_segments, window_mels
from clef_app.model.grammar import Grammar
from clef_app.model.passes import TOLERANCE, PassMerger
from clef_app.model.progress import Cancelled, TranscriptionProgress
from clef_app.model.restrike import Restrikes
from clef_app.model.rollnotes import RollNotes
from clef_app.model.sustain import Frames, Sustain
from clef_app.notation.codec import (
    OFF_OFFSET,
    ON_OFFSET,
    TIME_OFFSET,
    VEL_OFFSET,
    NoteStitcher,
)
from clef_app.notation.events import NoteEvent

MAX_PASSES = 4  # readings of a file a checkpoint may ask for
MAX_RESTRIKE_GAP = 0.5  # s: the longest `restrike_gap` a checkpoint may ask for
SAME_ONSET = 0.06  # s: a window's note this close to an open note's onset is that note
ENCODE_CHUNK = 8  # windows encoded at a time: a cancel waits for at most one chunk (~0.2 s
# on a busy 2-core CPU; a batch's 48 windows at once took seconds), at the same throughput


class Transcriber:
    """A model ready to transcribe mono audio at its own rate, with options fixed for life."""

    def __init__(self, model: ClefModel, options: DecodingConfig = DecodingConfig()) -> None:
        self.device = choose_device(options.device)
        self.model = model.to(self.device).eval()
        self._options = options
        self.fe = model.cfg.front_end

    @property
    def options(self) -> DecodingConfig:
        return self._options

    def with_options(self, **changes) -> Transcriber:
        """Another transcriber on the same loaded model, with some options changed."""
        return Transcriber(self.model, replace(self._options, **changes))

    def keep(self, notes: list[NoteEvent]) -> list[NoteEvent]:
        """The notes confident enough to show (threshold tuned on held-out synthetic data)."""
        return [n for n in notes if n.confidence >= self.options.min_confidence]

    @torch.no_grad()
    def decode_windows_with_roll(self, samples: np.ndarray, firsts: list[int],
                                 timings: dict[str, float] | None = None,
                                 cancel: Callable[[], bool] | None = None,
                                 grammar: Grammar | None = None
                                 ) -> tuple[list[list[int]], list[list[float]], np.ndarray | None]:
        """Tokens and their probabilities for segment-long windows whose frame 0 is centred
        on each of `firsts` (sample indices into `samples`; a segment's is a multiple of its
        length), and the roll head's (windows, frames, 2, 88) onset and frame probabilities
        (None for a model without that head). `timings` adds up the seconds spent per stage
        (front end, encoder, decoder). `cancel` is checked between stages and before every
        token step; Cancelled is raised when it says stop. `grammar`: the rows' grammar
        state (a `ConstrainedGrammar` for a re-read; default the plain grammar)."""
        clock = _Clock(timings)
        images = mel_to_image(window_mels(samples, firsts, self.fe), self.fe).to(self.device)
        clock.lap("front end")
        _check(cancel)
        memory = self._encode(images, cancel)
        clock.lap("encoder")
        _check(cancel)
        tokens, probs = greedy_decode(self.model, memory, self.fe.segment_frames, cancel=cancel,
                                      grammar=grammar)
        roll = self.model.roll(memory)
        clock.lap("decoder")
        if roll is None:
            return tokens, probs, None
        roll = torch.sigmoid(roll.float()).cpu().numpy()
        probs = [note_confidences(t, p, o)
                 for t, p, o in zip(tokens, probs, roll[:, :, 0], strict=True)]
        return tokens, probs, roll

    def _encode(self, images: torch.Tensor, cancel: Callable[[], bool] | None) -> torch.Tensor:
        """The encoder's memory of (B, 3, H, W) images, ENCODE_CHUNK at a time, `cancel`
        checked before each chunk (Cancelled is raised when it says stop)."""
        parts = []
        for first in range(0, len(images), ENCODE_CHUNK):
            _check(cancel)
            parts.append(self.model.encode(images[first : first + ENCODE_CHUNK]))
        return torch.cat(parts)

    def transcribe(self, samples: np.ndarray, cancel: Callable[[], bool] | None = None,
                   timings: dict[str, float] | None = None, frames: Frames | None = None
                   ) -> Iterator[TranscriptionProgress]:
        """Yield notes batch by batch; memory stays bounded by the batch, not the recording.

        With `options.passes` N > 1 the recording is read N times, on the segment grid
        shifted by k/N of a segment for each k, and the readings are merged (`model.passes`).

        Args:
            samples: mono float32 at the model's sample rate.
            cancel: checked between batches and within them (before every token step);
                when it returns True the generator stops.
            timings: if given, seconds spent per stage are added up in it (`clef benchmark`).
            frames: if given, the readings' mean frame probabilities are kept in it (with
                `options.roll_sustain` 0; for tuning that).
        """
        o = self.options
        total = len(samples) / self.fe.sample_rate
        merger = PassMerger(o.pass_single, o.pass_both, o.passes) if o.passes > 1 else None
        sustain, restrikes = self._sustain(), self._restrikes()
        frames = sustain.frames if sustain is not None else frames
        steps = self._read(samples, cancel, timings, frames)
        while True:
            try:
                per_pass, settled, done = next(steps)
            except (StopIteration, Cancelled):
                return
            clock = _Clock(timings)
            if merger is None:
                notes = self.keep(per_pass[0])
            else:
                for which, got in enumerate(per_pass):
                    merger.add(which, got)
                notes = merger.settle(settled)
            if sustain is not None:
                notes = sustain.settle(notes, settled - TOLERANCE)
            if restrikes is not None:
                notes = restrikes.settle(notes, _known(settled - TOLERANCE, sustain))
            clock.lap("stitching")
            yield TranscriptionProgress(_trim(notes, total), min(total, done), total)

    def pass_notes(self, samples: np.ndarray) -> list[list[NoteEvent]]:
        """Every note of each pass, unfiltered and unmerged (for tuning the merge)."""
        out: list[list[NoteEvent]] = []
        for per_pass, _, _ in self._read(samples):
            out = out or [[] for _ in per_pass]
            for mine, got in zip(out, per_pass, strict=True):
                mine += got
        return out

    def _read(self, samples: np.ndarray, cancel: Callable[[], bool] | None = None,
              timings: dict[str, float] | None = None, frames: Frames | None = None
              ) -> Iterator[tuple[list[list[NoteEvent]], float, float]]:
        """Per batch: each pass's completed notes, the time before which every pass has
        given all its notes (inf at the end), and the seconds of audio read; the roll
        head's frame probabilities of every window go to `frames`."""
        seg, hop = self.fe.segment_samples, self.fe.hop_length
        count = max(1, self.options.passes)
        passes = [_Pass(self, k * seg // count, len(samples)) for k in range(count)]
        n, step = max(p.count for p in passes), max(1, self.options.batch_size // count)
        for first in range(0, n, step):
            if cancel is not None and cancel():
                return
            jobs = [(w, k) for w, p in enumerate(passes)
                    for k in range(first, min(first + step, p.count))]
            firsts = [k * seg - passes[w].shift for w, k in jobs]
            tokens, probs, roll = self.decode_windows_with_roll(samples, firsts, timings, cancel)
            got: list[list[NoteEvent]] = [[] for _ in passes]
            for i, (w, k) in enumerate(jobs):
                got[w] += passes[w].feed(k, tokens[i], probs[i],
                                         None if roll is None else roll[i])
            last = first + step >= n
            if frames is not None and roll is not None:
                for i, first_sample in enumerate(firsts):
                    frames.add(round(first_sample / hop), roll[i, :, 1])
                frames.complete_to(math.inf if last else min(
                    round((min(first + step, p.count) * seg - p.shift) / hop) for p in passes))
            if last:
                for w, p in enumerate(passes):
                    got[w] += p.finish()
            settled = float("inf") if last else min(p.settled() for p in passes)
            yield got, settled, (first + step) * self.fe.segment_seconds

    def _roll_notes(self, time_offset: float = 0.0, start: int = 0,
                    floor: float | None = None) -> RollNotes | None:
        """The roll head's second opinion from frame `start`, when the checkpoint asks for it;
        its notes' confidence never below `floor` (default: the kept notes' threshold)."""
        if self.options.roll_onset <= 0 or self.model.roll_head is None:
            return None
        o = self.options
        return RollNotes(o.roll_onset, o.roll_frame, self.fe.sample_rate // self.fe.hop_length,
                         time_offset, start, o.roll_confidence,
                         o.min_confidence if floor is None else floor)

    def _sustain(self, time_offset: float = 0.0) -> Sustain | None:
        """Note ends from the roll head's frames (from `time_offset`), when the checkpoint
        asks for it."""
        if self.options.roll_sustain <= 0 or self.model.roll_head is None:
            return None
        return Sustain(self.options.roll_sustain, Frames(),
                       self.fe.sample_rate // self.fe.hop_length, time_offset)

    def _restrikes(self) -> Restrikes | None:
        """The merger of one key's echoes (model/restrike.py), when the checkpoint asks."""
        gap = self.options.restrike_gap
        return Restrikes(gap) if gap > 0 else None

    def transcribe_all(self, samples: np.ndarray) -> list[NoteEvent]:
        notes = [n for p in self.transcribe(samples) for n in p.notes]
        return sorted(notes, key=lambda n: (n.onset, n.pitch))

    def stream(self, time_offset: float = 0.0) -> StreamTranscriber:
        return StreamTranscriber(self, time_offset)


class _Pass:
    """One reading of a recording, on the segment grid moved `shift` samples later: its
    window k starts at sample k * segment - shift (zeros before the recording)."""

    def __init__(self, transcriber: Transcriber, shift: int, n_samples: int) -> None:
        fe = transcriber.fe
        self.shift, self.frames = shift, fe.segment_frames
        self.count = n_segments(n_samples + shift, fe)
        self.stitcher = NoteStitcher(time_offset=-shift / fe.sample_rate)
        merged = transcriber.options.passes > 1  # then the merge decides what is kept
        self.roll = transcriber._roll_notes(-shift / fe.sample_rate, 0, 0.0 if merged else None)

    def feed(self, k: int, tokens: list[int], probs: list[float],
             roll: np.ndarray | None) -> list[NoteEvent]:
        notes = self.stitcher.feed(k * self.frames, self.frames, tokens, probs)
        if self.roll is not None and roll is not None:
            notes += self.roll.add_segment(k * self.frames, tokens, roll)
        return _from_zero(notes)

    def finish(self) -> list[NoteEvent]:
        return _from_zero(self.stitcher.finish() + (self.roll.finish() if self.roll else []))

    def settled(self) -> float:
        return _settled(self.stitcher, self.roll)


class StreamTranscriber:
    """Live transcription: final notes segment by segment, provisional ones in between.

    Final notes come from the segment grid, each segment decoded once its audio (and STFT
    context) has arrived and stitched as a file's are, so a take's final notes are the
    file's. Provisional notes (`peek`) come from decoding a segment-long window that ends
    in the newest audio (zeros after it, as at the end of a file), either the segment being
    filled or a window reaching back a given number of seconds.

    Only the audio still needed is kept: the segment being filled and the one before it
    (STFT context, and the start of a window), so a long take costs constant memory and
    time per push.
    """

    def __init__(self, transcriber: Transcriber, time_offset: float = 0.0) -> None:
        self.t = transcriber
        self.fe = transcriber.fe
        self.stitcher = NoteStitcher(time_offset=time_offset)
        self.buffer = np.zeros(0, dtype=np.float32)
        self.origin = 0  # segment index where `buffer` starts
        self.next_segment = 0
        self._window: list[NoteEvent] = []  # the last window's notes
        self._window_start = 0.0  # s: where it began (its notes tied in start there)
        self.extra = transcriber._roll_notes(time_offset)  # roll-only notes, as for a file
        self.sustain = transcriber._sustain(time_offset)  # and note ends
        self.restrikes = transcriber._restrikes()  # and one key's echoes

    @property
    def sample_rate(self) -> int:
        """Hz: the rate `push` takes (the model's)."""
        return self.fe.sample_rate

    @property
    def segment_seconds(self) -> float:
        return self.fe.segment_seconds

    @property
    def time_offset(self) -> float:
        """s: where the stream's time 0 lies in the recording."""
        return self.stitcher.time_offset

    def push(self, samples: np.ndarray) -> list[NoteEvent]:
        """Add audio; return the notes completed by any segments that became full."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32)])
        notes: list[NoteEvent] = []
        needed = self.fe.segment_samples + lookahead(self.fe)  # a full segment + its context
        while self._buffered() >= self.next_segment * self.fe.segment_samples + needed:
            notes += self._decode_next()
        settled = _settled(self.stitcher, self.extra) - TOLERANCE
        if self.sustain is not None:
            notes = self.sustain.settle(notes, settled)
        notes = self.t.keep(notes)
        if self.restrikes is not None:
            notes = self.restrikes.settle(notes, _known(settled, self.sustain))
        return notes

    def finish(self) -> list[NoteEvent]:
        """Decode what is left (zero-padded) and close every open note."""
        notes: list[NoteEvent] = []
        while self.next_segment * self.fe.segment_samples < self._buffered():
            notes += self._decode_next()
        self._window = []
        extra = self.extra.finish() if self.extra is not None else []
        notes += self.stitcher.finish() + extra
        notes = self.t.keep(self.sustain.finish(notes) if self.sustain is not None else notes)
        return self.restrikes.settle(notes) if self.restrikes is not None else notes

    def peek(self, context: float | None = None) -> list[NoteEvent]:
        """Decode a segment-long window ending in the newest audio; `provisional()` after.

        Args:
            context: s of audio the window reads up to the newest sample (at most a
                segment: then it is all real audio); None: the segment being filled.
        Costs one segment decode.
        """
        fe = self.fe
        newest = self._buffered() - 1
        if newest < 0:
            return []
        if context is None:
            start = self.next_segment * fe.segment_frames
        else:  # frames on the file's grid; before the stream began it is silence
            frames = min(fe.segment_frames, round(context * fe.sample_rate / fe.hop_length))
            start = newest // fe.hop_length - frames + 1
        first = start * fe.hop_length - self.origin * fe.segment_samples
        tokens, probs, roll = self.t.decode_windows_with_roll(self.buffer, [first])
        window = NoteStitcher(time_offset=self.stitcher.time_offset, adopt_ties=True)
        self._window = window.feed(start, fe.segment_frames, tokens[0], probs[0]) + (
            window.finish())
        extra = self.t._roll_notes(self.stitcher.time_offset, start)
        if extra is not None and roll is not None:
            self._window += extra.add_segment(start, tokens[0], roll[0]) + extra.finish()
        heard = self.stitcher.time_offset + (newest + 1) / fe.sample_rate
        self._window = _trim(self._window, heard)  # none from the zeros after the newest sample
        self._window_start = self.stitcher.time_offset + start / window.fps
        return self.provisional()

    def provisional(self) -> list[NoteEvent]:
        """The notes not final yet: those sounding at the end of the last decoded segment
        (ended where the last window still hears them, else there), and the last window's
        notes that begin after that segment. Cheap: no decoding."""
        boundary = self.stitcher.time_offset + self.next_segment * self.fe.segment_seconds
        window, begun = self._window, self._window_start
        out = []
        open_notes = copy.deepcopy(self.stitcher).finish()
        if self.sustain is not None:  # final notes whose key still sounds
            open_notes += self.sustain.waiting()
        if self.extra is not None:  # roll-only notes of decoded segments not yet settled
            open_notes += [n for n in copy.deepcopy(self.extra).finish() if n.onset < boundary]
        for n in open_notes:
            heard = [w.offset for w in window if w.pitch == n.pitch and w.offset > boundary
                     and w.onset <= max(boundary, begun, n.onset + SAME_ONSET)]
            out.append(replace(n, offset=max(heard)) if heard else n)
        for w in window:  # a note at the window's first frame was tied in: not a new one
            if w.onset >= boundary and w.onset > begun and not any(
                    o.pitch == w.pitch and abs(o.onset - w.onset) <= SAME_ONSET
                    for o in open_notes):
                out.append(w)
        return self.t.keep(out)

    def open_notes(self) -> list[NoteEvent]:
        """Notes sounding at the end of the last decoded segment, provisionally ended there."""
        return self.t.keep(copy.deepcopy(self.stitcher).finish())

    def _buffered(self) -> int:
        """Samples received since the stream began."""
        return self.origin * self.fe.segment_samples + len(self.buffer)

    def _decode_next(self) -> list[NoteEvent]:
        k, frames, seg = self.next_segment, self.fe.segment_frames, self.fe.segment_samples
        tokens, probs, roll = self.t.decode_windows_with_roll(self.buffer,
                                                              [(k - self.origin) * seg])
        self.next_segment += 1
        keep_from = max(0, self.next_segment - 1)  # STFT context, and a window's start
        drop = (keep_from - self.origin) * seg
        if drop > 0:
            self.buffer, self.origin = self.buffer[drop:], keep_from
        notes = self.stitcher.feed(k * frames, frames, tokens[0], probs[0])
        if self.extra is not None and roll is not None:
            notes += self.extra.add_segment(k * frames, tokens[0], roll[0])
        if self.sustain is not None and roll is not None:
            self.sustain.frames.add(k * frames, roll[0, :, 1])
            self.sustain.frames.complete_to((k + 1) * frames)
        return notes


def _known(settled: float, sustain: Sustain | None) -> float:
    """s: every note beginning before this has left `sustain` (it holds notes whose end
    is not decided)."""
    return min(settled, sustain.earliest_waiting()) if sustain else settled


def options_from(meta: dict, **base) -> DecodingConfig:
    """The decoding options a checkpoint's metadata asks for (its tuned thresholds and
    readings), on top of `base` (device, batch size)."""
    return DecodingConfig(**base, min_confidence=float(meta.get("min_confidence", 0.0)),
                          roll_onset=float(meta.get("roll_onset", 0.0)),
                          roll_sustain=float(meta.get("roll_sustain", 0.0)),
                          roll_confidence=roll_scale(meta.get("roll_confidence")),
                          restrike_gap=restrike_gap_of(meta.get("restrike_gap")),
                          **passes_of(meta.get("passes")))


def restrike_gap_of(stored: object) -> float:
    """The checkpoint's `restrike_gap` in s (0 when absent or outside 0-0.5 s)."""
    try:
        gap = float(stored)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return gap if 0.0 <= gap <= MAX_RESTRIKE_GAP else 0.0


def passes_of(stored: object) -> dict:
    """`DecodingConfig` fields from the checkpoint's `passes` ({"count": N, "single": ..,
    "both": ..}; one pass when absent or malformed)."""
    try:
        count = int(stored["count"])  # type: ignore[index]
        if not 2 <= count <= MAX_PASSES:
            return {"passes": 1}
        return {"passes": count, "pass_single": float(stored["single"]),  # type: ignore[index]
                "pass_both": float(stored["both"])}  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return {"passes": 1}


def roll_scale(stored: object) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The checkpoint's `roll_confidence` ({"roll": [...], "decoder": [...]}) as
    `DecodingConfig.roll_confidence`; () when absent or malformed (then the peak is used)."""
    try:
        xs = tuple(float(x) for x in stored["roll"])  # type: ignore[index]
        ys = tuple(float(y) for y in stored["decoder"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return ()
    ok = len(xs) == len(ys) >= 2 and all(b > a for a, b in zip(xs, xs[1:], strict=False))
    return (xs, ys) if ok else ()


def note_confidences(tokens: list[int], probs: list[float], onset: np.ndarray,
                     window: int = 2) -> list[float]:
    """Per-token confidence; a note-on's is the geometric mean of the decoder's probability
    and the roll head's onset probability near that frame (two views of the same evidence).

    Args:
        onset: (frames, 88) onset probabilities of the segment.
    """
    out, time = list(probs), 0
    for i, tok in enumerate(tokens):
        if TIME_OFFSET <= tok < VEL_OFFSET:
            time = tok - TIME_OFFSET
        elif ON_OFFSET <= tok < OFF_OFFSET:
            key = tok - ON_OFFSET
            lo, hi = max(0, time - window), min(len(onset), time + window + 1)
            p_roll = float(onset[lo:hi, key].max()) if hi > lo else 0.0
            out[i] = float(np.sqrt(max(probs[i], 0.0) * p_roll))
    return out


def _check(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled


class _Clock:
    """Adds the seconds since the last lap to `timings[stage]` (nothing without timings)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now


def _settled(stitcher: NoteStitcher, roll: RollNotes | None) -> float:
    """The time before which a reading has given every note it will write."""
    return min(stitcher.settled(), roll.settled() if roll is not None else math.inf)


def _from_zero(notes: list[NoteEvent]) -> list[NoteEvent]:
    """Notes heard in the silence before a shifted pass's recording start at 0 (or go)."""
    return [n if n.onset >= 0 else replace(n, onset=0.0) for n in notes if n.offset > 0.01]


def _trim(notes: list[NoteEvent], total: float) -> list[NoteEvent]:
    """Drop notes that start in the zero padding after the recording's end."""
    return [n for n in notes if n.onset < total]
