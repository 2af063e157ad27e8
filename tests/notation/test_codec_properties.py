"""Property-based tests of the token codec: round trips on the frame grid, total decoding."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.notation.codec import (
    MAX_TIME,
    VOCAB_SIZE,
    NoteStitcher,
    bin_velocity,
    decode_piece,
    decode_segment,
    encode_piece,
    to_frames,
    velocity_bin,
)
from clef_app.notation.events import NoteEvent

FPS = 100  # frames per second of the codec grid
SEGMENT = 256  # frames


@st.composite
def grid_notes(draw, max_frames: int = 1000):
    """Notes on the 10-ms grid, piano range, any overlaps and doublings."""
    notes = []
    for _ in range(draw(st.integers(0, 25))):
        on = draw(st.integers(0, max_frames - 1))
        off = draw(st.integers(on + 1, max_frames))
        pitch = draw(st.integers(MIDI_MIN, MIDI_MAX))
        notes.append(NoteEvent(on / FPS, off / FPS, pitch, draw(st.integers(1, 127))))
    return notes


def _key(on, off, pitch, vel):
    return (on, off, pitch, vel)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_notes())
def test_encode_then_decode_gives_the_frame_notes_back(notes):
    frames = to_frames(notes)
    total = max((n.off for n in frames), default=1)
    decoded, stats = decode_piece(encode_piece(notes, total, SEGMENT), SEGMENT)
    assert stats.total == 0
    want = sorted(_key(n.on, n.off, n.pitch, bin_velocity(velocity_bin(n.velocity)))
                  for n in frames)
    got = sorted(_key(round(n.onset * FPS), round(n.offset * FPS), n.pitch, n.velocity)
                 for n in decoded)
    assert got == want


@settings(max_examples=100, deadline=None)
@given(grid_notes(max_frames=600), st.sampled_from([64, 100, 128, 256]))
def test_round_trip_holds_for_any_segment_length(notes, n_frames):
    frames = to_frames(notes)
    total = max((n.off for n in frames), default=1)
    decoded, stats = decode_piece(encode_piece(notes, total, n_frames), n_frames)
    assert stats.total == 0
    assert sorted((round(n.onset * FPS), round(n.offset * FPS), n.pitch) for n in decoded) == \
        sorted((n.on, n.off, n.pitch) for n in frames)


@settings(max_examples=100, deadline=None)
@given(grid_notes())
def test_to_frames_never_overlaps_one_key(notes):
    by_pitch: dict[int, list[tuple[int, int]]] = {}
    for n in to_frames(notes):
        assert n.off > n.on
        by_pitch.setdefault(n.pitch, []).append((n.on, n.off))
    for spans in by_pitch.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


any_tokens = st.lists(st.integers(-5, VOCAB_SIZE + 5), max_size=300)


@settings(max_examples=300, deadline=None)
@given(any_tokens)
def test_decoding_any_tokens_is_total(tokens):
    segment = decode_segment(tokens)
    assert all(MIDI_MIN <= p <= MIDI_MAX for p in segment.ties)
    for time, _is_on, pitch, _vel, index in segment.events:
        assert 0 <= time <= MAX_TIME and MIDI_MIN <= pitch <= MIDI_MAX
        assert 0 <= index < len(tokens)


@settings(max_examples=200, deadline=None)
@given(st.lists(any_tokens, max_size=5), st.sampled_from([32, 256]))
def test_stitching_any_segments_yields_valid_notes(segments, n_frames):
    stitcher = NoteStitcher()
    notes = []
    for k, tokens in enumerate(segments):
        notes += stitcher.feed(k * n_frames, n_frames, tokens)
    notes += stitcher.finish()
    end = max(len(segments), 1) * n_frames / FPS
    for n in notes:
        assert 0 <= n.onset < n.offset <= end + 1e-9
        assert MIDI_MIN <= n.pitch <= MIDI_MAX and 1 <= n.velocity <= 127
