"""The Player's callback work on real buffers: mix, loop, speed at unchanged pitch, seeking.

`Player.render(frames)` is exactly what the PortAudio callback runs; the real-device path is
tested in test_audio_device.py.
"""

import numpy as np
import pytest

from clef_app.audio.playback import Player, mix_gains
from clef_app.audio.playback_sources import render_for_playback
from clef_app.notation.events import NoteEvent
from tests.audio.test_stretch import dominant_hz

RATE = 44_100


def sine(hz: float, seconds: float, amp: float = 0.4) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def play(player: Player, seconds: float, block: int = 512) -> np.ndarray:
    n = int(seconds * RATE)
    return np.concatenate([player.render(min(block, n - i)) for i in range(0, n, block)])


@pytest.fixture
def player():
    p = Player()
    p.set_sources(sine(440, 3.0), sine(660, 3.0), RATE)
    yield p
    p.close()


def band_energy(x: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[np.abs(freqs - hz) < 5].sum())


def test_balance_selects_original_synth_or_both(player):
    assert mix_gains(0.5, True) == (1.0, 1.0)
    assert mix_gains(1.0, False) == (1.0, 0.0)  # nothing to balance against
    for balance, heard in ((0.0, {440}), (1.0, {660}), (0.5, {440, 660})):
        player.set_mix(balance)
        player.seek(0.5)
        out = play(player, 0.5)
        e440, e660 = band_energy(out, 440), band_energy(out, 660)
        if heard == {440}:
            assert e440 > 100 * e660
        elif heard == {660}:
            assert e660 > 100 * e440
        else:  # both at full level, not halved
            assert e440 == pytest.approx(e660, rel=0.1)
            assert np.sqrt(np.mean(out**2)) == pytest.approx(0.4, rel=0.05)


def test_loop_wraps_inside_the_region():
    p = Player()
    ramp = np.linspace(0, 1, 3 * RATE, dtype=np.float32)  # value = source time / 3 s
    p.set_sources(ramp, None, RATE)
    p.set_loop(1.0, 1.5)
    p.seek(1.2)
    out = play(p, 2.0)
    times = out * 3.0
    assert times.min() >= 1.0 - 1e-3 and times.max() < 1.5
    assert np.sum(np.diff(times) < -0.4) == 4  # 0.3 s to the end, then 0.5-s laps
    assert 1.0 <= p.position() < 1.5
    p.clear_loop()
    assert p.loop is None


def test_slower_speed_keeps_pitch_and_position_maps_to_source_time(player):
    player.set_mix(0.0)
    player.set_speed(0.5)
    assert player.wait_ready(60)
    player.seek(1.0)
    out = play(player, 1.0)  # one second of output = half a second of source
    assert player.position() == pytest.approx(1.5, abs=0.01)
    assert dominant_hz(out[RATE // 4 :]) == pytest.approx(440.0, abs=1.5)
    player.set_speed(1.0)  # back to the original buffer at the same place
    assert not player.preparing
    play(player, 0.25)
    assert player.position() == pytest.approx(1.75, abs=0.01)


def test_a_click_comes_out_at_the_stretched_time():
    x = np.zeros(3 * RATE, dtype=np.float32)
    x[int(1.0 * RATE)] = 1.0
    p = Player()
    p.set_sources(x, None, RATE)
    p.set_speed(0.8)
    assert p.wait_ready(60)
    out = play(p, 3.0)
    assert np.argmax(np.abs(out)) / RATE == pytest.approx(1.0 / 0.8, abs=0.015)


def test_playing_to_the_end_finishes_and_new_synth_keeps_the_place(player):
    player.seek(2.9)
    play(player, 0.2)
    assert player.render(512).max() == 0.0 and player._finished_source
    player.seek(1.0)
    player.set_synth(sine(880, 3.0), RATE)
    player.set_mix(1.0)
    out = play(player, 0.5)
    assert player.position() == pytest.approx(1.5, abs=0.01)
    assert band_energy(out, 880) > 100 * band_energy(out, 660)


def test_synth_rendering_is_cached_by_note_set():
    notes = [NoteEvent(0.0, 0.5, 69, 90), NoteEvent(0.5, 1.0, 76, 90)]
    a = render_for_playback(notes, 22_050)
    assert render_for_playback(list(reversed(notes)), 22_050) is a  # same set, any order
    assert render_for_playback(notes[:1], 22_050) is not a
    first = a[: int(0.4 * 22_050)]
    spectrum = np.abs(np.fft.rfft(first))
    peak = np.fft.rfftfreq(len(first), 1 / 22_050)[np.argmax(spectrum)]
    assert peak == pytest.approx(440.0, abs=10.0)  # A4 is the loudest partial


def test_the_original_is_played_from_the_recordings_own_array_not_a_copy():
    """An hour at 44.1 kHz is 635 MB: playback references it (and hears a recording that is
    still decoding into it); a synth shorter than the original reads as silence."""
    original = np.zeros(RATE, dtype=np.float32)
    p = Player()
    try:
        p.set_sources(original, sine(660, 0.5), RATE)
        if p.rate != RATE:
            pytest.skip("the output device needs another rate: the original is resampled")
        p.set_mix(0.5)  # both sources at full level
        original[:] = sine(440, 1.0)  # arrives after the sources were set
        out = play(p, 1.0)
        synth_part, after = out[: RATE // 2], out[RATE // 2 :]
        assert band_energy(synth_part, 660) == pytest.approx(band_energy(synth_part, 440),
                                                             rel=0.1)
        np.testing.assert_allclose(after, original[RATE // 2 :], atol=1e-6)  # synth: silence
    finally:
        p.close()
