"""A recording cut short (a recorder that crashed, a copy that stopped) opens as far as it
decodes, with a warning that says how much; one with nothing decodable is still refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.io import AudioError, load_audio

RATE = 16_000


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """20 s of a varying tone as FLAC (noise-like enough that FLAC cannot shrink it away)."""
    rng = np.random.default_rng(0)
    t = np.arange(20 * RATE) / RATE
    x = 0.3 * np.sin(2 * np.pi * (220 + 20 * t) * t) + 0.05 * rng.standard_normal(len(t))
    path = tmp_path_factory.mktemp("cut") / "take.flac"
    sf.write(path, x.astype(np.float32), RATE)
    return path


def cut(whole: Path, folder: Path, share: float) -> Path:
    data = whole.read_bytes()
    path = folder / f"take-{int(share * 100)}.flac"
    path.write_bytes(data[: int(len(data) * share)])
    return path


@pytest.mark.parametrize("share", [0.99, 0.6])
def test_a_cut_flac_opens_what_decodes_with_a_warning_saying_how_much(whole, tmp_path, share):
    audio = load_audio(cut(whole, tmp_path, share))
    assert audio.duration > 20 * share - 1.5  # at most one small block before the damage
    assert audio.duration < 20
    assert "damaged after" in audio.warning and "of 20.0 s" in audio.warning
    assert f"({round(100 * audio.duration / 20)} %)" in audio.warning


def test_an_intact_file_has_no_warning(whole):
    audio = load_audio(whole)
    assert audio.warning == "" and audio.duration == pytest.approx(20.0)


def test_a_file_cut_inside_its_header_is_still_refused(whole, tmp_path):
    path = tmp_path / "stub.flac"
    path.write_bytes(whole.read_bytes()[:30])
    with pytest.raises(AudioError, match="stub.flac"):
        load_audio(path)


def test_clef_transcribe_of_a_cut_recording_warns_and_writes_what_decodes(tmp_path, capsys):
    from clef_app.cli import main
    from clef_app.notation.events import read_notes_tsv

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"
    audio = load_audio(demo)
    whole = tmp_path / "take.flac"
    sf.write(whole, audio.samples[: 6 * audio.sample_rate], audio.sample_rate)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.8)])
    out = tmp_path / "cut.tsv"
    code = main(["transcribe", str(cut), "-o", str(out), "--one-pass", "--device", "cpu",
                 "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0
    assert len(err) == 1 and err[0].startswith("clef transcribe: warning: cut.flac: damaged")
    assert read_notes_tsv(out)  # the opening's notes, from what decoded


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_a_wav_copy_cut_short_opens_with_a_warning_against_its_header(tmp_path, subtype):
    rng = np.random.default_rng(3)
    whole = tmp_path / "take.wav"
    sf.write(whole, (0.1 * rng.standard_normal((4 * RATE, 2))).astype(np.float32), RATE,
             subtype=subtype)
    assert load_audio(whole).warning == ""
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.75)])
    audio = load_audio(cut)
    assert audio.duration == pytest.approx(3.0, abs=0.01)
    assert audio.warning == ("cut.wav: cut short; opened 3.0 s of the 4.0 s its header "
                             "announces (75 %)")


def encoded(folder: Path, fmt: str, subtype: str, suffix: str, rate: int = RATE) -> Path:
    """10 s of a varying tone encoded by libsndfile's own Vorbis, Opus or LAME encoder."""
    rng = np.random.default_rng(1)
    t = np.arange(10 * rate) / rate
    x = 0.3 * np.sin(2 * np.pi * (220 + 30 * t) * t) + 0.02 * rng.standard_normal(len(t))
    path = folder / f"whole{suffix}"
    sf.write(path, x.astype(np.float32), rate, format=fmt, subtype=subtype)
    return path


def cut_copy(whole: Path, share: float) -> Path:
    path = whole.with_name(f"cut-{int(share * 100)}{whole.suffix}")
    data = whole.read_bytes()
    path.write_bytes(data[: int(len(data) * share)])
    return path


@pytest.mark.parametrize("subtype,suffix", [("VORBIS", ".ogg"), ("OPUS", ".opus")])
@pytest.mark.parametrize("share", [0.95, 0.5])
def test_a_cut_ogg_opens_what_decodes_with_a_warning_saying_how_much(tmp_path, subtype, suffix,
                                                                     share):
    whole = encoded(tmp_path, "OGG", subtype, suffix)
    assert load_audio(whole).warning == ""  # the whole stream ends with its end mark
    audio = load_audio(cut_copy(whole, share))
    assert 10 * share - 1.5 < audio.duration < 10 * share + 1.5
    name = f"cut-{int(share * 100)}{suffix}"
    assert audio.warning == (f"{name}: cut short (the stream stops before its end mark); opened "
                             f"the {audio.duration:.1f} s that decode, and the file does not "
                             f"record how much is lost")


@pytest.mark.parametrize("subtype,suffix", [("VORBIS", ".ogg"), ("OPUS", ".opus")])
def test_a_crashed_oggs_zero_filled_end_is_lost_audio_said_about_how_long(tmp_path, subtype,
                                                                        suffix):
    """A recorder that crashed leaves its file's last blocks as zeros, past the reach of a
    page: the stream has no end mark, and the zeros are about as long as the decoded part's
    bitrate makes them. The 10-s stream's second half is zeroed here."""
    whole = encoded(tmp_path, "OGG", subtype, suffix)
    data = whole.read_bytes()
    half = len(data) // 2
    crashed = tmp_path / f"crashed{suffix}"
    crashed.write_bytes(data[:half] + bytes(len(data) - half))
    audio = load_audio(crashed)
    lost = float(audio.warning.split("hold no audio, about ")[1].split()[0])
    assert 3.0 < audio.duration < 6.0  # Vorbis's codebooks take the file's first pages
    assert lost == pytest.approx(10.0 - audio.duration, abs=2.0), audio.warning
    assert audio.warning.startswith(f"crashed{suffix}: cut short (the stream stops before its "
                                    f"end mark); opened the {audio.duration:.1f} s that decode, "
                                    f"its last ")
    assert audio.warning.endswith("at its bitrate; what followed the file's end is not recorded")
    plain = tmp_path / f"cut{suffix}"  # cut inside a page, nothing after: no estimate
    plain.write_bytes(data[:half])
    assert load_audio(plain).warning.endswith("the file does not record how much is lost")


@pytest.mark.parametrize("subtype,suffix", [("VORBIS", ".ogg"), ("OPUS", ".opus")])
def test_an_ogg_missing_pages_inside_warns_against_its_last_pages_position(tmp_path, subtype,
                                                                         suffix):
    """Pages that do not decode are skipped by the decoder, so the stream opens shorter than
    its last page's position says, with no error: a quarter of the file zeroed in its
    middle."""
    whole = encoded(tmp_path, "OGG", subtype, suffix)
    data = bytearray(whole.read_bytes())
    at, n = len(data) // 2, len(data) // 4
    data[at : at + n] = bytes(n)
    damaged = tmp_path / f"damaged{suffix}"
    damaged.write_bytes(bytes(data))
    audio = load_audio(damaged)
    assert 5.0 < audio.duration < 9.0
    assert audio.warning == (f"damaged{suffix}: damaged; opened {audio.duration:.1f} s of the "
                             f"10.0 s its pages announce ({10 * audio.duration:.0f} %; the pages "
                             f"that did not decode are left out, so what follows them comes "
                             f"early)")


@pytest.mark.parametrize("rate", [44_100, 16_000])  # MPEG-1 (1152 a frame), MPEG-2 (576)
@pytest.mark.parametrize("share", [0.95, 0.5])
def test_a_cut_mp3_opens_what_decodes_with_a_warning_against_its_xing_header(tmp_path, rate,
                                                                            share):
    whole = encoded(tmp_path, "MP3", "MPEG_LAYER_III", ".mp3", rate)
    assert load_audio(whole).warning == ""
    audio = load_audio(cut_copy(whole, share))
    assert audio.duration == pytest.approx(10 * share, abs=0.3)
    assert audio.warning == (f"cut-{int(share * 100)}.mp3: cut short; opened "
                             f"{audio.duration:.1f} s of the 10.0 s its header announces "
                             f"({100 * audio.duration / 10:.0f} %)")


def test_a_cut_mp3_with_a_vbri_header_warns_against_it(tmp_path):
    """Fraunhofer's encoders write VBRI (32 bytes after the first frame's header) instead
    of Xing: a constant-rate LAME file's Info header is replaced by one with its count."""
    whole = tmp_path / "lame.mp3"
    rng = np.random.default_rng(2)
    sf.write(whole, (0.1 * rng.standard_normal(10 * 44_100)).astype(np.float32), 44_100,
             format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT",
             compression_level=0.5)
    data = bytearray(whole.read_bytes())
    at = data.find(b"Info")
    frames = int.from_bytes(data[at + 8 : at + 12], "big")
    data[at : at + 12] = bytes(12)
    # VBRI: tag, version 1, delay, quality, stream bytes, then the frame count
    data[36:54] = b"VBRI" + (1).to_bytes(2, "big") + bytes(8) + frames.to_bytes(4, "big")
    vbri = tmp_path / "fhg.mp3"
    vbri.write_bytes(bytes(data))
    assert load_audio(vbri).warning == ""
    audio = load_audio(cut_copy(vbri, 0.5))
    announced = frames * 1152 / 44_100
    assert audio.warning == (f"cut-50.mp3: cut short; opened {audio.duration:.1f} s of the "
                             f"{announced:.1f} s its header announces "
                             f"({100 * audio.duration / announced:.0f} %)")


def test_decoding_in_blocks_for_the_window_gives_the_same_warning(tmp_path):
    from clef_app.audio.io import decode_blocks

    cut = cut_copy(encoded(tmp_path, "OGG", "VORBIS", ".ogg"), 0.5)
    steps = decode_blocks(cut)
    try:
        while True:
            next(steps)
    except StopIteration as done:
        assert done.value.warning == load_audio(cut).warning != ""


def length_less(whole: Path, folder: Path) -> Path:
    """`whole` with STREAMINFO's total samples set to 0 ("unknown")."""
    data = bytearray(whole.read_bytes())
    fields = int.from_bytes(data[18:26], "big")  # rate, channels, bits, 36 bits of total
    data[18:26] = (fields & ~((1 << 36) - 1)).to_bytes(8, "big")
    path = folder / "stream.flac"
    path.write_bytes(bytes(data))
    return path


def test_a_length_less_flac_is_bounded_while_it_decodes(whole, tmp_path, monkeypatch):
    """No header to check before decoding: the duration limit holds as blocks arrive, and
    the growing array never exceeds it."""
    from clef_app.audio import io
    from clef_app.audio.io import decode_blocks

    path = length_less(whole, tmp_path)
    monkeypatch.setattr(io, "MAX_SECONDS", 30)
    steps, sizes = decode_blocks(path), []
    try:
        while True:
            sizes.append(len(next(steps)[0]))
    except StopIteration:
        pass
    assert max(sizes) <= 30 * RATE
    monkeypatch.setattr(io, "MAX_SECONDS", 10)
    with pytest.raises(AudioError, match="stream.flac: longer than"):
        load_audio(path)


def test_a_flac_whose_header_records_no_length_opens_whole_or_as_far_as_it_decodes(whole,
                                                                                   tmp_path):
    """A streaming encoder, or a recorder that crashed before it went back to its header,
    leaves STREAMINFO's total at 0: libsndfile calls that 2**63 - 1 frames (it was refused
    as longer than 4 hours)."""
    from clef_app.audio.io import header

    unknown = length_less(whole, tmp_path)
    data = unknown.read_bytes()
    assert header(unknown) == (0.0, RATE)
    audio = load_audio(unknown)
    assert audio.duration == pytest.approx(20.0, abs=0.001)  # to the last few samples
    assert audio.warning.startswith("stream.flac: its header records no length, and decoding "
                                    "stopped after 20.0 s; opened the 20.0 s that decode (")
    cut = tmp_path / "stream-cut.flac"
    cut.write_bytes(bytes(data[: len(data) // 2]))
    audio = load_audio(cut)
    assert 8.5 < audio.duration < 10.5
    assert audio.warning.startswith(f"stream-cut.flac: its header records no length, and "
                                    f"decoding stopped after {audio.duration:.1f} s;")


def headerless_mp3(folder: Path, rate: int) -> Path:
    """A constant-rate LAME file with its first frame (the Info header) taken out: what
    encoders that write no header leave, so no length is announced anywhere."""
    lame = folder / f"lame-{rate}.mp3"
    rng = np.random.default_rng(3)
    sf.write(lame, (0.1 * rng.standard_normal(10 * rate)).astype(np.float32), rate,
             format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT",
             compression_level=0.5)
    data = lame.read_bytes()
    second = data.find(b"\xff", data.find(b"Info") + 4)  # the first audio frame's header
    while data[second + 1] & 0xE0 != 0xE0:
        second = data.find(b"\xff", second + 1)
    bare = folder / f"bare-{rate}.mp3"
    bare.write_bytes(data[second:])
    return bare


@pytest.mark.parametrize("rate", [44_100, 16_000])  # MPEG-1 and MPEG-2 frame lengths
def test_a_headerless_mp3_cut_inside_a_frame_warns_that_the_loss_is_unknown(tmp_path, rate):
    bare = headerless_mp3(tmp_path, rate)
    assert load_audio(bare).warning == ""  # whole: every frame ends where the next begins
    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(bare.read_bytes() + b"TAG" + bytes(125))  # an ID3v1 tag at the end
    assert load_audio(tagged).warning == ""
    audio = load_audio(cut_copy(bare, 0.37))  # not 0.5: half of a whole number of frames
    # of a constant rate lands between two frames, the one cut this cannot see
    assert 3.0 < audio.duration < 4.5
    assert audio.warning == (f"cut-37.mp3: cut short (its last MPEG frame is cut off); opened "
                             f"the {audio.duration:.1f} s that decode, and the file does not "
                             f"record how much is lost")
