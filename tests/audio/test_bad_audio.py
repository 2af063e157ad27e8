"""Bad and odd audio files: each either loads sensibly or fails with one clear AudioError."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.io import MAX_NATIVE_RATE, AudioError, load_audio

RATE = 16_000  # Hz: the model's rate


def tone(seconds: float, rate: int, hz: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def write(path: Path, data: np.ndarray, rate: int, **kw) -> Path:
    sf.write(str(path), data, rate, **kw)
    return path


# -- files that cannot be used: one clear error each ----------------------------------------

def _empty(p):
    p.write_bytes(b"")


def _random_bytes(p):
    p.write_bytes(np.random.default_rng(1).bytes(5000))


def _text(p):
    p.write_text("This is not audio, it is a shopping list.\n" * 20)


def _midi(p):
    p.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff/\x00")


def _header_only(p):
    write(p, np.zeros((0, 1), np.float32), 44100)


def _all_nan(p):
    write(p, np.full(1000, np.nan, np.float32), 44100, subtype="FLOAT")


def _all_inf(p):
    write(p, np.tile(np.array([np.inf, -np.inf], np.float32), 500), 44100, subtype="FLOAT")


def _cut_header(p):
    write(p, tone(1, 44100), 44100)
    p.write_bytes(p.read_bytes()[:20])


def _flac_header_cut(p):
    write(p, tone(1, 44100), 44100, format="FLAC")
    p.write_bytes(p.read_bytes()[:30])


UNUSABLE = {
    "empty.wav": (_empty, "empty"),
    "zero_length.wav": (_header_only, "no audio"),
    "corrupt.wav": (_random_bytes, "not a readable audio file"),
    "corrupt.flac": (_random_bytes, "not a readable audio file"),
    "corrupt.mp3": (_random_bytes, "not a readable audio file"),
    "corrupt.ogg": (_random_bytes, "not a readable audio file"),
    "shopping.mp3": (_text, "not a readable audio file"),
    "song.wav": (_midi, "a MIDI file"),
    "all_nan.wav": (_all_nan, "NaN or infinite"),
    "all_inf.wav": (_all_inf, "NaN or infinite"),
    "cut_header.wav": (_cut_header, "not a readable audio file"),
    "cut_header.flac": (_flac_header_cut, "not a readable|damaged|no audio"),
}


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_file_gives_one_clear_error(tmp_path, name):
    make, message = UNUSABLE[name]
    make(tmp_path / name)
    with pytest.raises(AudioError, match=message) as info:
        load_audio(tmp_path / name, RATE)
    text = str(info.value)
    assert text.startswith(f"{name}: ") and "\n" not in text and len(text) < 240


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path)


# -- odd but usable files: they load, at the right length and pitch --------------------------

@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_16"), ("FLAC", "PCM_16"),
                                         ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_truncated_file_loads_what_is_there_or_says_damaged(tmp_path, fmt, subtype):
    path = write(tmp_path / f"cut.{fmt.lower()}", tone(4, 44100), 44100, format=fmt,
                 subtype=subtype)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    try:
        audio = load_audio(path, RATE)
    except AudioError as exc:
        assert str(exc).startswith(f"cut.{fmt.lower()}: ")
        return
    assert 0.5 < audio.duration <= 4.1
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() <= 1.0


def test_silent_file(tmp_path):
    audio = load_audio(write(tmp_path / "silence.wav", np.zeros(44100, np.float32), 44100), RATE)
    assert audio.duration == pytest.approx(1.0) and not audio.samples.any()


def test_clipped_file(tmp_path):
    square = np.sign(tone(1, 44100, amp=1.0)) * 1.0
    audio = load_audio(write(tmp_path / "clipped.wav", square, 44100), RATE)
    assert np.abs(audio.samples).max() <= 1.0 and np.isfinite(audio.samples).all()
    assert peak_hz(audio.samples, RATE) == pytest.approx(440, abs=3)


def test_float_wav_beyond_full_scale_is_clipped(tmp_path):
    loud = tone(1, 22050, amp=40.0)
    audio = load_audio(write(tmp_path / "loud.wav", loud, 22050, subtype="FLOAT"))
    assert np.abs(audio.samples).max() == pytest.approx(1.0)


def test_float_wav_with_some_nan_and_inf(tmp_path):
    data = tone(1, 44100)
    data[::100] = np.nan
    data[50::100] = np.inf
    audio = load_audio(write(tmp_path / "holes.wav", data, 44100, subtype="FLOAT"), RATE)
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() <= 1.0
    assert peak_hz(audio.samples, RATE) == pytest.approx(440, abs=3)


@pytest.mark.parametrize("name,fmt", [("flac_named.wav", "FLAC"), ("wav_named.mp3", "WAV"),
                                      ("ogg_named.flac", "OGG"), ("no_extension", "WAV")])
def test_wrong_extension_is_read_by_content(tmp_path, name, fmt):
    audio = load_audio(write(tmp_path / name, tone(1, 44100), 44100, format=fmt), RATE)
    assert audio.duration == pytest.approx(1.0, abs=0.06)
    assert peak_hz(audio.samples, RATE) == pytest.approx(440, abs=3)


@pytest.mark.parametrize("rate", [8_000, 11_025, 192_000])
def test_any_sample_rate(tmp_path, rate):
    path = write(tmp_path / f"r{rate}.wav", tone(2, rate, hz=1000), rate)
    audio = load_audio(path, RATE)
    assert audio.sample_rate == RATE and audio.duration == pytest.approx(2.0, abs=1e-3)
    assert peak_hz(audio.samples, RATE) == pytest.approx(1000, abs=2)
    native = load_audio(path)
    assert native.sample_rate == min(rate, MAX_NATIVE_RATE)
    assert native.duration == pytest.approx(2.0, abs=1e-3)


def test_eight_channels_mix_to_mono(tmp_path):
    data = np.zeros((44100, 8), np.float32)
    data[:, 7] = tone(1, 44100, hz=660)  # only the last channel has sound
    audio = load_audio(write(tmp_path / "octo.wav", data, 44100), RATE)
    assert audio.samples.ndim == 1 and audio.samples.std() > 0.01
    assert peak_hz(audio.samples, RATE) == pytest.approx(660, abs=3)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_S8", "PCM_24", "PCM_32", "DOUBLE"])
def test_sample_formats(tmp_path, subtype):
    fmt = "AIFF" if subtype == "PCM_S8" else "WAV"  # WAV's 8-bit is unsigned
    path = write(tmp_path / f"{subtype}.{fmt.lower()}", tone(1, 22050), 22050, format=fmt,
                 subtype=subtype)
    audio = load_audio(path, RATE)
    assert np.abs(audio.samples).max() == pytest.approx(0.5, abs=0.02)
    assert peak_hz(audio.samples, RATE) == pytest.approx(440, abs=3)


HOUR_CHILD = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from clef_app.audio.io import load_audio
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    audio = load_audio(sys.argv[1])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(audio.duration, audio.samples.nbytes, (after - before) * 1024)
""")


def test_one_hour_file_keeps_memory_bounded(tmp_path):
    """A 1-hour stereo file: peak memory grows by about the mono result, not by the file."""
    rate = 8_000  # Hz: keeps the file (115 MB) and the test quick
    path = tmp_path / "hour.wav"
    block = (np.stack([tone(60, rate), tone(60, rate, hz=220)], axis=1) * 32767).astype(np.int16)
    with sf.SoundFile(str(path), "w", rate, 2, "PCM_16") as f:
        for _ in range(60):
            f.write(block)
    done = subprocess.run([sys.executable, "-c", HOUR_CHILD, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    duration, result_bytes, growth = (float(x) for x in done.stdout.split())
    assert duration == pytest.approx(3600.0)
    # reading it whole as float32 stereo would add 2x the result, float64 4x
    assert growth < 1.3 * result_bytes + 40e6, f"peak grew {growth / 1e6:.0f} MB"
