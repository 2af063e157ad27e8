"""Note-event token codec in the MT3 manner: time, velocity, note on/off, a tie section.

A segment of N frames is written as

    BOS  <pitches sounding from before the segment>  TIE_END
    TIME t  <note-offs at t>  [VEL v]  <note-ons at t>  TIME t' ...  EOS

TIME is the absolute frame within the segment (0..N; N = the segment's end). A VEL token is
written only when the velocity bin changes. Decoding is total: a token that breaks the grammar
is counted in `DecodeStats` and dropped, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from clef_app.config import FRAMES_PER_SECOND, MIDI_MAX, MIDI_MIN, N_PITCHES
from clef_app.notation.events import NoteEvent

VOCAB_VERSION = 1
MAX_TIME = 256  # frames: the longest segment the vocabulary can address
N_VELOCITY_BINS = 8

PAD, BOS, EOS, TIE_END = 0, 1, 2, 3
TIME_OFFSET = 4
VEL_OFFSET = TIME_OFFSET + MAX_TIME + 1
ON_OFFSET = VEL_OFFSET + N_VELOCITY_BINS
OFF_OFFSET = ON_OFFSET + N_PITCHES
VOCAB_SIZE = OFF_OFFSET + N_PITCHES


def time_token(frame: int) -> int:
    return TIME_OFFSET + frame


def vel_token(bin_: int) -> int:
    return VEL_OFFSET + bin_


def on_token(pitch: int) -> int:
    return ON_OFFSET + pitch - MIDI_MIN


def off_token(pitch: int) -> int:
    return OFF_OFFSET + pitch - MIDI_MIN


def velocity_bin(velocity: int) -> int:
    return min(N_VELOCITY_BINS - 1, max(0, (velocity - 1) * N_VELOCITY_BINS // 127))


def bin_velocity(bin_: int) -> int:
    """The MIDI velocity at the centre of a bin."""
    return int(round((bin_ + 0.5) * 127 / N_VELOCITY_BINS)) + 1


def token_name(tok: int) -> str:
    """Human-readable token, for debugging and tests."""
    if tok in (PAD, BOS, EOS, TIE_END):
        return ("PAD", "BOS", "EOS", "TIE_END")[tok]
    if TIME_OFFSET <= tok < VEL_OFFSET:
        return f"TIME {tok - TIME_OFFSET}"
    if VEL_OFFSET <= tok < ON_OFFSET:
        return f"VEL {tok - VEL_OFFSET}"
    if ON_OFFSET <= tok < OFF_OFFSET:
        return f"ON {tok - ON_OFFSET + MIDI_MIN}"
    if OFF_OFFSET <= tok < VOCAB_SIZE:
        return f"OFF {tok - OFF_OFFSET + MIDI_MIN}"
    return f"INVALID {tok}"


@dataclass(frozen=True)
class FrameNote:
    """A note in whole frames (10 ms), the codec's own grid."""

    on: int
    off: int
    pitch: int
    velocity: int = 80


def to_frames(notes: Iterable[NoteEvent], fps: int = FRAMES_PER_SECOND) -> list[FrameNote]:
    """Round notes to the frame grid, keep piano pitches, and cut overlaps of one key."""
    out: list[FrameNote] = []
    by_pitch: dict[int, list[tuple[int, int, int]]] = {}
    for n in notes:
        if MIDI_MIN <= n.pitch <= MIDI_MAX:
            on = int(round(n.onset * fps))
            off = max(on + 1, int(round(n.offset * fps)))
            by_pitch.setdefault(n.pitch, []).append((on, off, n.velocity))
    for pitch, spans in by_pitch.items():
        spans.sort()
        for i, (on, off, vel) in enumerate(spans):
            if i + 1 < len(spans) and spans[i + 1][0] == on:
                continue  # a unison doubling: keep one strike
            nxt = next((s[0] for s in spans[i + 1 :] if s[0] > on), None)
            if nxt is not None:
                off = min(off, nxt)  # a key struck again ends the previous note
            out.append(FrameNote(on, off, pitch, vel))
    out.sort(key=lambda n: (n.on, n.pitch))
    return out


def encode_segment(notes: Sequence[FrameNote], start: int, n_frames: int) -> list[int]:
    """Tokens for frames [start, start + n_frames) of a piece (notes from `to_frames`)."""
    if not 0 < n_frames <= MAX_TIME:
        raise ValueError(f"segment of {n_frames} frames; the vocabulary addresses 1..{MAX_TIME}")
    end = start + n_frames
    ties = sorted({n.pitch for n in notes if n.on < start < n.off})
    events: dict[int, tuple[list[int], list[tuple[int, int]]]] = {}
    for n in notes:
        if start <= n.on < end:
            events.setdefault(n.on - start, ([], []))[1].append((velocity_bin(n.velocity), n.pitch))
        if start < n.off <= end and n.on < n.off:
            events.setdefault(n.off - start, ([], []))[0].append(n.pitch)
    tokens = [BOS, *(on_token(p) for p in ties), TIE_END]
    current_vel = -1
    for t in sorted(events):
        offs, ons = events[t]
        tokens.append(time_token(t))
        tokens.extend(off_token(p) for p in sorted(set(offs)))
        for vbin, pitch in sorted(set(ons)):
            if vbin != current_vel:
                tokens.append(vel_token(vbin))
                current_vel = vbin
            tokens.append(on_token(pitch))
    tokens.append(EOS)
    return tokens


@dataclass
class DecodeStats:
    """Tokens that broke the grammar, by reason; decoding drops them and goes on."""

    invalid: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str) -> None:
        self.invalid[reason] = self.invalid.get(reason, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.invalid.values())


@dataclass
class SegmentEvents:
    """A decoded segment: pitches tied in, and (frame, is_on, pitch, velocity, token index)."""

    ties: list[int]
    events: list[tuple[int, bool, int, int, int]]


def decode_segment(tokens: Sequence[int], stats: DecodeStats | None = None) -> SegmentEvents:
    """Parse one segment's tokens; total, whatever the tokens are."""
    stats = stats if stats is not None else DecodeStats()
    ties: list[int] = []
    events: list[tuple[int, bool, int, int, int]] = []
    in_ties, time, vel = True, None, bin_velocity(N_VELOCITY_BINS // 2)
    for i, tok in enumerate(tokens):
        if tok == EOS:
            break
        if tok in (PAD, BOS):
            if i > 0 or tok == PAD:
                stats.count("misplaced BOS/PAD")
            continue
        if tok == TIE_END:
            if not in_ties:
                stats.count("misplaced TIE_END")
            in_ties = False
        elif TIME_OFFSET <= tok < VEL_OFFSET:
            t = tok - TIME_OFFSET
            in_ties = False
            if time is not None and t < time:
                stats.count("time goes back")
            else:
                time = t
        elif VEL_OFFSET <= tok < ON_OFFSET:
            vel = bin_velocity(tok - VEL_OFFSET)
        elif ON_OFFSET <= tok < OFF_OFFSET:
            pitch = tok - ON_OFFSET + MIDI_MIN
            if in_ties:
                ties.append(pitch)
            elif time is None:
                stats.count("note before any time")
            else:
                events.append((time, True, pitch, vel, i))
        elif OFF_OFFSET <= tok < VOCAB_SIZE:
            if time is None:
                stats.count("note before any time")
            else:
                events.append((time, False, tok - OFF_OFFSET + MIDI_MIN, 0, i))
        else:
            stats.count("out of vocabulary")
    return SegmentEvents(sorted(set(ties)), events)


class NoteStitcher:
    """Joins decoded segments into notes with none doubled, dropped or cut at the seams.

    Feed segments in order; each call returns the notes completed so far, so callers can
    show results segment by segment.
    """

    def __init__(self, fps: int = FRAMES_PER_SECOND, time_offset: float = 0.0,
                 adopt_ties: bool = False) -> None:
        self.fps = fps
        self.time_offset = time_offset  # s: added to every note (e.g. where a stream began)
        # a tie of a key not open opens it at the segment's start (confidence 0): for a
        # window decoded on its own, whose tied notes began before it
        self.adopt_ties = adopt_ties
        self.stats = DecodeStats()
        self._open: dict[int, tuple[int, int, float]] = {}  # pitch -> (on frame, vel, conf)
        self._end = 0

    def feed(
        self,
        start: int,
        n_frames: int,
        tokens: Sequence[int],
        confidences: Sequence[float] | None = None,
    ) -> list[NoteEvent]:
        """Add the segment covering frames [start, start + n_frames); return completed notes."""
        seg = decode_segment(tokens, self.stats)
        done: list[NoteEvent] = []
        for pitch in list(self._open):
            if pitch not in seg.ties:
                done.append(self._close(pitch, start))
        for pitch in seg.ties:
            if pitch in self._open:
                continue
            if self.adopt_ties:
                self._open[pitch] = (start, bin_velocity(N_VELOCITY_BINS // 2), 0.0)
            else:
                self.stats.count("tie without an open note")
        for t, is_on, pitch, vel, idx in seg.events:
            frame = start + min(t, n_frames)
            if is_on and t >= n_frames:
                self.stats.count("note-on past the segment")
                continue
            if pitch in self._open:
                done.append(self._close(pitch, frame))
            elif not is_on:
                self.stats.count("note-off without note-on")
            if is_on:
                conf = float(confidences[idx]) if confidences is not None else 1.0
                self._open[pitch] = (frame, vel, conf)
        self._end = start + n_frames
        return [n for n in done if n is not None]

    def settled(self) -> float:
        """s: every note starting before this has been returned (the rest are still open)."""
        first_open = min((on for on, _, _ in self._open.values()), default=self._end)
        return self.time_offset + min(first_open, self._end) / self.fps

    def finish(self) -> list[NoteEvent]:
        """Close the notes still sounding at the end of the last segment."""
        done = [self._close(p, self._end) for p in list(self._open)]
        return [n for n in done if n is not None]

    def _close(self, pitch: int, frame: int) -> NoteEvent | None:
        on, vel, conf = self._open.pop(pitch)
        if frame <= on:
            self.stats.count("zero-length note")
            return None
        return NoteEvent(
            self.time_offset + on / self.fps,
            self.time_offset + frame / self.fps,
            pitch,
            vel,
            confidence=conf,
        )


def encode_piece(notes: Iterable[NoteEvent], total_frames: int, n_frames: int) -> list[list[int]]:
    """Tokens of every consecutive segment of a piece."""
    frames = to_frames(notes)
    return [encode_segment(frames, s, n_frames) for s in range(0, max(total_frames, 1), n_frames)]


def decode_piece(segments: Sequence[Sequence[int]], n_frames: int
                 ) -> tuple[list[NoteEvent], DecodeStats]:
    """Notes from the tokens of consecutive segments (inverse of `encode_piece`)."""
    stitcher = NoteStitcher()
    notes: list[NoteEvent] = []
    for k, tokens in enumerate(segments):
        notes += stitcher.feed(k * n_frames, n_frames, tokens)
    notes += stitcher.finish()
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return notes, stitcher.stats
