"""The live path on real buffers: recorder, live spectrogram, session, transcription, benchmark."""

import argparse
from functools import partial

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.features import display_spectrogram
from clef_app.audio.live import LiveSession, LiveSpectrogram, Recorder, peak_dbfs
from clef_app.audio.live_benchmark import (
    FileSource,
    benchmark_simulated,
    format_result,
    onset_latency_stats,
)
from clef_app.audio.live_transcription import LIVE_TORCH_THREADS, LiveTranscription
from clef_app.notation.events import NoteEvent


def test_recorder_writes_flac_block_by_block(tmp_path):
    x = (0.5 * np.sin(np.arange(48_000) / 10)).astype(np.float32)
    rec = Recorder(tmp_path / "take.flac", 48_000)
    for block in np.array_split(x, 7):
        rec.write(block)
    assert rec.seconds == pytest.approx(1.0)
    path = rec.close()
    back, rate = sf.read(path, dtype="float32")
    assert rate == 48_000 and sf.info(path).format == "FLAC"
    np.testing.assert_allclose(back, x, atol=1e-6)  # 24-bit


def test_recorder_never_writes_over_a_file_or_through_a_symlink(tmp_path):
    """Issue 16: a take's name already used (two takes in one second) or a symlink planted
    there is refused, and the file it names stays as it was."""
    kept = tmp_path / "kept.txt"
    kept.write_text("the user's file")
    (tmp_path / "link.flac").symlink_to(kept)
    (tmp_path / "taken.flac").write_bytes(b"an earlier take")
    for name in ("link.flac", "taken.flac"):
        with pytest.raises(FileExistsError):
            Recorder(tmp_path / name, 48_000)
    assert kept.read_text() == "the user's file"
    assert (tmp_path / "taken.flac").read_bytes() == b"an earlier take"


def test_live_spectrogram_matches_the_whole_file_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16_000 * 2).astype(np.float32) * 0.1
    spec, frames, i = LiveSpectrogram(), [], 0
    while i < len(x):
        k = int(rng.integers(50, 3000))
        frames.append(spec.push(x[i : i + k]))
        i += k
    live = np.concatenate(frames)
    whole = display_spectrogram(x)
    assert 190 <= len(live) <= len(whole)  # frames wait for their right-hand context only
    edge = 1024 // 160 + 1  # the file view reflects at the start, a live stream pads zeros
    np.testing.assert_allclose(live[edge:], whole[edge : len(live)], atol=1e-3)


def test_session_records_and_draws_what_the_callback_copied(tmp_path):
    rate = 44_100
    t = np.arange(rate * 2) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # -6 dBFS
    source = FileSource(x, rate, block=441, start=0.0)
    session = LiveSession(source)
    session.start_recording(tmp_path / "take.flac", None)
    frames, levels = [], []
    for tick in np.arange(1, 61) / 30:  # the panel's 30-Hz timer over 2 s
        source.produce_until(tick)
        pump = session.pump()
        frames.append(pump.frames)
        levels.append(pump.level_dbfs)
    path = session.stop_recording()
    assert np.median(levels) == pytest.approx(-6.02, abs=0.1)
    assert peak_dbfs(np.zeros(10)) == -120.0
    assert 190 <= sum(len(f) for f in frames) <= 200  # 100 frames/s
    back, _ = sf.read(path, dtype="float32")
    np.testing.assert_allclose(back, x, atol=1e-6)
    assert source.ring.overflows == 0


class ScriptedStream:
    """A model stream stand-in (`ModelStream`): one note at 0.5 s, completed once 2 s have
    arrived; no provisional notes."""

    sample_rate, segment_seconds, time_offset, next_segment = 16_000, 2.56, 0.0, 0

    def __init__(self):
        self.samples = 0

    def peek(self, context=None):
        return []

    def provisional(self):
        return []

    def push(self, samples):
        before, self.samples = self.samples, self.samples + len(samples)
        if before < 32_000 <= self.samples:
            return [NoteEvent(0.5, 1.0, 60, 80)]
        return []

    def finish(self):
        return [NoteEvent(1.9, 2.0, 62, 80)]


def test_latency_is_appearance_minus_arrival_of_the_onset():
    clock = iter([10.0, 10.3])  # the push starts at 10.0 and returns at 10.3
    live = LiveTranscription(ScriptedStream, 48_000, clock=lambda: next(clock), provisional=False)
    live.process(np.zeros(48_000, np.float32), arrival=5.0)  # 0-1 s arrived by t=5
    live.clock = iter([12.0, 12.4]).__next__
    notes = live.process(np.zeros(48_100, np.float32), arrival=7.0)  # up to ~2.002 s by t=7
    assert [(n.onset, n.pitch) for n in notes] == [(0.5, 60)]
    # the onset at 0.5 s arrived at 7 - (2.0021 - 0.5) = 5.498; seen at 12.4
    assert live.log.final == pytest.approx([12.4 - (7.0 - (96_100 / 48_000 - 0.5))])
    assert [n.pitch for n in live.finish_now()] == [62]


@pytest.fixture(scope="module")
def tiny_transcriber():
    """A random-init tiny model, seeded so that it writes some notes on the test noise."""
    torch = pytest.importorskip("torch")
    from clef_app.config import ModelConfig
    from clef_app.model.clef_model import ClefModel
    from clef_app.model.encoder import ViTEncoder
    from clef_app.model.inference import Transcriber

    cfg = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2,
                      decoder_layers=1, max_tokens=64, dropout=0.0)
    for seed in range(20):
        torch.manual_seed(seed)
        t = Transcriber(ClefModel(cfg, ViTEncoder(cfg)).eval())
        if t.transcribe_all(noise()):
            return t
    pytest.fail("no seed gave a tiny model that writes notes")


def noise(seconds: float = 6.0) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(16_000 * seconds)) * 0.1).astype(
        np.float32)


def stream_in_blocks(live: LiveTranscription, x: np.ndarray, block: int = 1600) -> list:
    notes = []
    for i in range(0, len(x), block):
        notes += live.process(x[i : i + block], arrival=i / 16_000)
    return notes + live.finish_now()


@pytest.mark.parametrize("provisional", [False, True])
def test_live_notes_equal_offline_notes(tiny_transcriber, provisional):
    x = noise()
    offline = sorted((n.onset, n.offset, n.pitch) for n in tiny_transcriber.transcribe_all(x))
    import torch

    threads = torch.get_num_threads()
    live = LiveTranscription(tiny_transcriber.stream, 16_000, provisional=provisional)
    got = stream_in_blocks(live, x)
    assert torch.get_num_threads() == threads  # one thread while live, restored after
    assert sorted((n.onset, n.offset, n.pitch) for n in got if n.onset < 6.0) == offline
    assert len(live.log.segment_delays) == 2  # two full segments while streaming
    assert bool(live.log.provisional_delays) == provisional


def test_threaded_transcription_publishes_notes(tiny_transcriber):
    x = noise()
    live = LiveTranscription(tiny_transcriber.stream, 16_000)
    live.start()
    for i in range(0, len(x), 4000):
        live.feed(x[i : i + 4000])
    live.finish()
    assert live.wait(60) and not live.error
    notes, sounding = live.take()
    offline = tiny_transcriber.transcribe_all(x)
    assert sorted((n.onset, n.pitch) for n in notes if n.onset < 6.0) == sorted(
        (n.onset, n.pitch) for n in offline)
    assert sounding == []


def test_benchmark_measures_latency_through_the_same_path(tiny_transcriber):
    from clef_app.model.pipeline import Pipeline

    # as `clef live-benchmark` and a take in the app: the decoding thread has one torch thread
    stream = partial(Pipeline(tiny_transcriber).stream, threads=LIVE_TORCH_THREADS)
    result = benchmark_simulated(noise(), 16_000, stream, 512)
    result["onsets"] = onset_latency_stats(result.pop("log"), None, 6.0)
    assert result.pop("shown_log").start > 0
    o = result["onsets"]
    # an onset waits at least the 64-ms right-hand context, never longer than a segment+decode
    assert 0.0 < o["median"] < o["max"] < 2.56 + 2.0
    assert result["dropped_blocks"] == 0 and result["blocks"] == -(-96_000 // 512)
    text = format_result(result)
    assert "onset -> decoded latency at every 10 ms" in text and "dropped: 0 of 188" in text


def test_benchmark_command_fails_cleanly_on_a_missing_file(tmp_path):
    from clef_app.commands import live_benchmark
    from clef_app.errors import CommandError

    args = argparse.Namespace(audio=str(tmp_path / "nope.wav"), realtime=False, seconds=None,
                              block=512, notes=None, model=None, no_provisional=False)
    with pytest.raises(CommandError, match="no such file"):
        live_benchmark.run(args)
