"""The real audio path through a real PortAudio device (issue 5's acceptance test).

A private PulseAudio server with a null sink stands in for a sound card: a file played into
the sink is recorded from its monitor by Clef's LiveInput, and Clef's Player plays into the
sink while `parec` records the monitor. See pulse_server.py for the packages this needs.
"""

import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, chirp, correlate, sosfilt

from clef_app.audio.io import resample
from clef_app.audio.live import LiveInput, LiveSession
from clef_app.audio.playback import Player
from tests.audio.pulse_server import null_sink_server
from tests.audio.test_stretch import dominant_hz

RATE = 48_000


@pytest.fixture(scope="module")
def server():
    with null_sink_server() as s:
        yield s


def test_signal(seconds: float = 1.5) -> np.ndarray:
    """A chirp then noise: correlates sharply at exactly one lag.

    The noise is band-limited to 3 kHz: the sound server resamples with a fractional delay
    that differs from take to take, which would decorrelate content near Nyquist.
    """
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.3 * chirp(t, 200, seconds, 3000) * (t < 0.8)
    noise = sosfilt(butter(8, 3000, fs=RATE, output="sos"),
                    np.random.default_rng(0).standard_normal(len(t)))
    x += 0.5 * noise * (t > 1.0)
    return x.astype(np.float32)


test_signal.__test__ = False  # a helper, not a test


def best_correlation(recorded: np.ndarray, played: np.ndarray) -> tuple[float, int]:
    """Peak normalised cross-correlation and its lag in samples."""
    c = correlate(recorded, played, mode="full", method="fft")
    i = int(np.argmax(np.abs(c)))
    lag = i - (len(played) - 1)
    seg = recorded[max(lag, 0) : max(lag, 0) + len(played)]
    norm = np.sqrt(np.sum(played[: len(seg)] ** 2) * np.sum(seg**2)) or 1.0
    return float(abs(c[i]) / norm), lag


def test_live_input_records_what_is_played_into_the_sink(server, tmp_path):
    played = test_signal()
    wav = tmp_path / "played.wav"
    sf.write(wav, played, RATE)
    live = LiveInput(server.input_device)
    live.start()
    try:
        session = LiveSession(live)
        session.start_recording(tmp_path / "take.flac", None)
        frames, levels = 0, []
        player = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 8.0:
            pump = session.pump()
            frames += len(pump.frames)
            levels.append(pump.level_dbfs)
            if player is None and time.monotonic() - t0 > 0.3:
                player = subprocess.Popen(["paplay", f"--device={server.sink}", str(wav)],
                                          env=server.env)
            if player is not None and player.poll() is not None and \
                    time.monotonic() - t0 > 1.0 + len(played) / RATE + 0.5:
                break
            time.sleep(1 / 30)
        path = session.stop_recording()
        seconds = time.monotonic() - t0
    finally:
        live.stop()
    assert player is not None and player.wait(10) == 0
    recorded, rate = sf.read(path, dtype="float32")
    assert rate == live.rate and sf.info(path).format == "FLAC"
    # nothing lost (the null sink's monitor may hand over some stale silence first)
    assert len(recorded) / rate > seconds - 0.5
    corr, lag = best_correlation(recorded, resample(played, RATE, rate))
    assert corr > 0.9, f"recording does not match what was played (r={corr:.2f})"
    assert lag >= 0
    assert max(levels) > -20.0  # the meter saw the signal
    assert frames == pytest.approx(100 * len(recorded) / rate, rel=0.05)  # 100 frames/s
    assert live.dropped_frames == 0


def record_monitor(server, path):
    return subprocess.Popen(["parec", f"--device={server.monitor}", f"--rate={RATE}",
                             "--channels=1", "--format=float32le", "--raw"],
                            env=server.env, stdout=open(path, "wb"))


def play_to_end(server, player: Player, tmp_path, timeout: float = 10.0
                ) -> tuple[np.ndarray, list[float]]:
    """Play everything while parec records the monitor: (what it heard, cursor positions)."""
    raw = tmp_path / "monitor.raw"
    rec = record_monitor(server, raw)
    positions = []
    try:
        time.sleep(0.3)
        player.play(0.0)
        t0 = time.monotonic()
        while player.playing and time.monotonic() - t0 < timeout:
            positions.append(player.position())
            time.sleep(0.02)
        player.pause()
        time.sleep(0.3)
    finally:
        rec.terminate()
        rec.wait(10)
        player.close()
    return np.fromfile(raw, dtype=np.float32), positions


def test_player_plays_through_the_device_with_a_following_cursor(server, tmp_path):
    played = test_signal()
    player = Player(server.output_device)
    assert player.available, player.error
    player.set_sources(played, None, RATE)
    recorded, positions = play_to_end(server, player, tmp_path)
    corr, _ = best_correlation(recorded, played)
    assert corr > 0.9, f"the monitor did not hear the player (r={corr:.2f})"
    assert np.all(np.diff(positions) >= -1e-6)  # the cursor only moves forward
    assert positions[-1] == pytest.approx(1.5, abs=0.1)


def test_player_at_three_quarter_speed_keeps_pitch_on_the_device(server, tmp_path):
    t = np.arange(RATE) / RATE
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    player = Player(server.output_device)
    player.set_sources(tone, None, RATE)
    player.set_speed(0.75)
    assert player.wait_ready(60)
    recorded, _ = play_to_end(server, player, tmp_path)
    loud = np.flatnonzero(np.abs(recorded) > 0.1)
    assert (loud[-1] - loud[0]) / RATE == pytest.approx(1 / 0.75, abs=0.05)
    assert dominant_hz(recorded[loud[0] : loud[-1]], RATE) == pytest.approx(440, abs=2)


def test_a_rate_the_device_refuses_is_resampled_on_a_thread_that_close_stops(server):
    """PulseAudio refuses 400 kHz: set_sources returns at once and resamples on a thread
    into the buffer played (silent until filled); close() stops it within a block."""
    rate = 400_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(60 * rate) / rate)).astype(np.float32)
    player = Player(server.output_device)
    started = time.monotonic()
    player.set_sources(tone, None, rate)
    assert time.monotonic() - started < 0.1  # the old code resampled here: seconds
    assert player.rate != rate and player.preparing
    assert player.duration == pytest.approx(60.0, abs=1e-3)
    thread = player._resampling
    started = time.monotonic()
    player.close()
    assert time.monotonic() - started < 0.6 and not thread.is_alive()
    assert player.preparing  # stopped, never finished


def test_a_slower_speed_stretches_the_recording_once_it_is_resampled(server):
    rate = 400_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate)).astype(np.float32)
    player = Player(server.output_device)
    player.set_sources(tone, None, rate)
    player.set_speed(0.75)  # asked while the resampling runs
    assert player.wait_ready(60)
    out = player.render(player.rate)  # the first second of source, stretched
    assert dominant_hz(out, player.rate) == pytest.approx(440, abs=2)
    player.close()
