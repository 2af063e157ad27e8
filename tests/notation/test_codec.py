from clef_app.notation.codec import (
    BOS,
    EOS,
    TIE_END,
    NoteStitcher,
    decode_piece,
    decode_segment,
    encode_piece,
    encode_segment,
    off_token,
    on_token,
    time_token,
    to_frames,
    token_name,
    vel_token,
    velocity_bin,
)
from clef_app.notation.events import NoteEvent


def test_literal_segment_round_trip():
    notes = to_frames([NoteEvent(0.10, 0.50, 60, 100), NoteEvent(0.10, 0.30, 64, 100),
                       NoteEvent(0.30, 0.40, 67, 30)])
    tokens = encode_segment(notes, 0, 256)
    v_hi, v_lo = velocity_bin(100), velocity_bin(30)
    assert tokens == [
        BOS, TIE_END,
        time_token(10), vel_token(v_hi), on_token(60), on_token(64),
        time_token(30), off_token(64), vel_token(v_lo), on_token(67),
        time_token(40), off_token(67),
        time_token(50), off_token(60),
        EOS,
    ]
    assert [token_name(t) for t in tokens[:4]] == ["BOS", "TIE_END", "TIME 10", f"VEL {v_hi}"]


def test_tie_section_lists_notes_sounding_into_segment():
    notes = to_frames([NoteEvent(2.0, 3.0, 48)])
    assert encode_segment(notes, 256, 256) == [BOS, on_token(48), TIE_END, time_token(44),
                                              off_token(48), EOS]


def test_note_across_boundary_is_stitched_once():
    notes = [NoteEvent(2.0, 3.0, 48, 64), NoteEvent(0.5, 6.0, 72, 64),
             NoteEvent(2.55, 2.60, 50, 64)]
    segments = encode_piece(notes, 700, 256)
    decoded, stats = decode_piece(segments, 256)
    assert stats.total == 0
    got = sorted((round(n.onset, 2), round(n.offset, 2), n.pitch) for n in decoded)
    assert got == [(0.5, 6.0, 72), (2.0, 3.0, 48), (2.55, 2.6, 50)]


def test_note_ending_exactly_on_boundary():
    notes = [NoteEvent(1.0, 2.56, 60)]
    decoded, stats = decode_piece(encode_piece(notes, 512, 256), 256)
    assert [(n.onset, n.offset) for n in decoded] == [(1.0, 2.56)] and stats.total == 0


def test_decoding_is_total():
    junk = [BOS, 9999, on_token(60), time_token(5), -3, off_token(61), time_token(2), on_token(62),
            TIE_END, EOS, on_token(70)]
    seg = decode_segment(junk)
    assert seg.ties == [60]
    assert [(t, on, p) for t, on, p, _, _ in seg.events] == [(5, False, 61), (5, True, 62)]
    stitcher = NoteStitcher()
    notes = stitcher.feed(0, 256, junk) + stitcher.finish()
    assert [(n.pitch, n.onset, n.offset) for n in notes] == [(62, 0.05, 2.56)]
    assert stitcher.stats.total >= 4


def test_restrike_same_key_cuts_previous_note():
    frames = to_frames([NoteEvent(0.0, 1.0, 60), NoteEvent(0.5, 0.8, 60), NoteEvent(0.0, 0.9, 60)])
    assert [(n.on, n.off) for n in frames] == [(0, 50), (50, 80)]
