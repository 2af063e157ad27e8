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
