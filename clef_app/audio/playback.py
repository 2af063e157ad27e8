"""Playback of the original recording and the synthesised notes (Qt-free).

The PortAudio callback only copies from a prepared buffer (a `_View`) and mixes two rows of
it with the balance gains. Everything slow happens elsewhere. A recording at a rate the
output device refuses is resampled to one it takes on a background thread, into the buffer
being played (what is not yet resampled plays as silence). Time-stretching for slower
speeds runs on a background thread too, once that resampling is done: first over a window
around the playhead (so playback can go on within a fraction of a second), then over the
whole recording, and each result is swapped in as one immutable object. The callback keeps
its position in *source* samples, so a swap, a seek or a loop never loses the place, and
`position()` is always source time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from clef_app.audio.devices import (
    AudioUnavailable,
    close_stream,
    list_devices,
    negotiate_rate,
    sounddevice_module,
)
from clef_app.audio.io import resample, resample_into, resampled_length
from clef_app.audio.playback_sources import Sources, trim
from clef_app.audio.stretch import stretch
from clef_app.notation.steps import Cancelled, stop_when

MIN_SPEED, MAX_SPEED = 0.5, 1.0
JOIN_S = 0.5  # s: how long close() waits for a cancelled resampling (it stops within a block)
FIRST_WINDOW_SECONDS = 20.0  # s of source stretched first, from the playhead on
OUTPUT_LATENCY = 0.08  # s: PortAudio output latency asked for; DAC timing corrects the cursor
BLOCK_FRAMES = 512  # frames per callback
# s of silence played after the end before stopping: stopping at once would cut off what
# the sound server still buffers (PortAudio's own latency is added to this)
END_TAIL_SECONDS = 0.3


@dataclass(frozen=True)
class _View:
    """What the callback plays: data[:, i] holds source sample start + i * speed."""

    data: np.ndarray | Sources  # (2, n) float32: row 0 original, row 1 synth
    start: int  # source sample of data[:, 0]
    speed: float
    full: bool  # covers the whole source (else more is being prepared)

    def src_end(self) -> float:
        return self.start + self.data.shape[1] * self.speed


def mix_gains(balance: float, has_synth: bool) -> tuple[float, float]:
    """(original, synth) gains: 0 = original only, 0.5 = both at full level, 1 = synth only."""
    if not has_synth:
        return 1.0, 0.0
    b = float(np.clip(balance, 0.0, 1.0))
    return min(1.0, 2.0 * (1.0 - b)), min(1.0, 2.0 * b)


class Player:
    """Plays two aligned sources through a sounddevice OutputStream."""

    def __init__(self, device: int | None = None) -> None:
        self.device = device
        self.rate = 44_100
        self._src = np.zeros((2, 0), dtype=np.float32)
        self._has_synth = False
        self._view = _View(self._src, 0, 1.0, True)
        self._speed = 1.0
        self._gains = (1.0, 0.0)
        self._balance = 0.0
        self._loop: tuple[int, int] | None = None  # source samples [a, b)
        self._src_pos = 0.0  # source samples; written by the callback while playing
        self._seek_req = (0, 0.0)  # (serial, source sample); the callback applies new serials
        self._seek_seen = 0
        self._heard = (0.0, 0.0)  # (source sample at a block's start, its DAC time)
        self._original = np.zeros(0, np.float32)  # at self.rate
        self._original_ready = threading.Event()  # _original holds all of the recording
        self._original_ready.set()
        self._sources = 0  # bumps on every set_sources and close; an older resampling stops
        self._resampling: threading.Thread | None = None
        self._block_start, self._finished_source = 0.0, False  # written by render()
        self._tail = self._tail_left = 0  # frames of silence still to play after the end
        self._stream = None
        self._finished = False
        self._generation = 0  # bumps on every new stretch job; older jobs give up
        self._stretch_cache: OrderedDict[float, _View] = OrderedDict()  # speed -> full view
        self._orig_stretched: OrderedDict[float, np.ndarray] = OrderedDict()  # survives set_synth
        self._worker: threading.Thread | None = None
        devices = list_devices()
        self.error = devices.output_message
        if device is None:
            self.device = devices.default_output

    # -- state -----------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return not self.error

    @property
    def playing(self) -> bool:
        return self._stream is not None and not self._finished

    @property
    def duration(self) -> float:
        return self._src.shape[1] / self.rate

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def preparing(self) -> bool:
        """The recording is still being resampled for the device, or a slower-speed version
        is still being computed."""
        return (not self._original_ready.is_set() or self._view.speed != self._speed
                or not self._view.full)

    def position(self) -> float:
        """Source time in seconds of what is being heard now."""
        if self._stream is None:
            return self._pending_pos() / self.rate
        src, dac = self._heard
        try:
            ahead = self._stream.time - dac if dac > 0 else 0.0
        except Exception:  # a stream closing under us has no time: assume nothing queued
            ahead = 0.0
        ahead = min(max(ahead, 0.0), 4 * BLOCK_FRAMES / self.rate)
        pos = src + ahead * self.rate * self._view.speed
        if self._loop is not None and pos >= self._loop[1] > self._loop[0] <= src:
            pos = self._loop[0] + (pos - self._loop[1])
        return min(pos, self._src.shape[1]) / self.rate

    # -- sources ---------------------------------------------------------------------------
    def set_sources(self, original: np.ndarray, synth: np.ndarray | None, rate: int) -> None:
        """Mono float32 sources at `rate` Hz; a synth shorter than the original is padded.

        Returns at once: when the device refuses `rate`, the original is resampled to the
        rate it takes on a thread (`self.rate` is that rate from now on)."""
        self.pause()
        self._sources += 1
        self.rate = self._device_rate(rate)
        original = np.asarray(original, dtype=np.float32)
        self._orig_stretched.clear()
        if self.rate == rate:
            self._original, self._original_ready = original, threading.Event()
            self._original_ready.set()
        else:
            self._start_resampling(original, rate)
        self._src_pos = 0.0
        self._seek_req = (self._seek_req[0] + 1, 0.0)
        self._set_synth_samples(synth, rate)

    def _start_resampling(self, original: np.ndarray, rate: int) -> None:
        """Resample `original` to self.rate on a thread, into the (silent) buffer played."""
        out = np.zeros(resampled_length(len(original), rate, self.rate), dtype=np.float32)
        ready, serial, to_rate = threading.Event(), self._sources, self.rate
        self._original, self._original_ready = out, ready

        def job() -> None:
            with stop_when(lambda: serial != self._sources):
                try:
                    for _ in resample_into(original, rate, to_rate, out):
                        pass
                except Cancelled:  # new sources, or closed: this buffer is no longer played
                    return
            ready.set()

        self._resampling = threading.Thread(target=job, name="clef-playback-resample",
                                            daemon=True)
        self._resampling.start()

    def set_synth(self, synth: np.ndarray | None, rate: int) -> None:
        """Replace only the synthesised source (the notes changed); playback goes on."""
        self._set_synth_samples(synth, rate)

    def _set_synth_samples(self, synth: np.ndarray | None, rate: int) -> None:
        synth_r = None if synth is None else resample(np.asarray(synth, np.float32), rate,
                                                      self.rate)
        original = self._original
        src = Sources(original, synth_r)
        self._src, self._has_synth = src, synth_r is not None
        self._gains = mix_gains(self._balance, self._has_synth)
        self._stretch_cache.clear()
        self._generation += 1
        if self._speed == 1.0:
            self._install(_View(src, 0, 1.0, True))
        else:
            self._start_stretch()

    def _device_rate(self, rate: int) -> int:
        """`rate` if the output device takes it, else one it does take."""
        if not self.available:
            return rate
        try:
            sounddevice_module().check_output_settings(self.device, samplerate=rate,
                                                       channels=1, dtype="float32")
            return rate
        except Exception:  # PortAudioError/ValueError: the rate is refused, negotiate one
            try:
                return negotiate_rate(self.device, "output")
            except AudioUnavailable:
                return rate

    # -- transport -------------------------------------------------------------------------
    def play(self, start_s: float | None = None) -> None:
        """Start (or keep) playing, from `start_s` seconds of source time if given."""
        if start_s is not None:
            self.seek(start_s)
        elif self._finished or self._pending_pos() >= self._src.shape[1]:
            self.seek(0.0)
        if self._loop is not None and not self._loop[0] <= self._pending_pos() < self._loop[1]:
            self.seek(self._loop[0] / self.rate)
        if self._stream is not None and not self._finished:
            return
        self._close_stream()
        if not self.available:
            raise AudioUnavailable(self.error)
        sd = sounddevice_module()
        self._finished = False
        try:
            self._stream = sd.OutputStream(
                samplerate=self.rate, channels=self._out_channels(sd), dtype="float32",
                blocksize=BLOCK_FRAMES, latency=OUTPUT_LATENCY, device=self.device,
                callback=self._callback, finished_callback=self._on_finished)
            latency = float(self._stream.latency)
            self._tail = self._tail_left = int((latency + END_TAIL_SECONDS) * self.rate)
            self._stream.start()
        except Exception as exc:  # PortAudio failed to open or start: playback off, said why
            self._stream = None
            self.error = f"audio output failed: {exc}"
            raise AudioUnavailable(self.error) from exc

    def pause(self) -> None:
        """Stop at the current place; play() goes on from there."""
        if self._stream is None:
            return
        pos = self.position()
        self._close_stream()
        self.seek(pos)

    def seek(self, seconds: float) -> None:
        pos = float(np.clip(seconds * self.rate, 0, self._src.shape[1]))
        self._seek_req = (self._seek_req[0] + 1, pos)
        self._heard = (pos, 0.0)
        if self._stream is None:
            self._src_pos = pos

    def close(self) -> None:
        """Stop playing and every background job (a resampling stops within one block)."""
        self._generation += 1
        self._sources += 1
        self._close_stream()
        if self._resampling is not None:
            self._resampling.join(JOIN_S)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)

    def _on_finished(self) -> None:
        self._finished = True

    def _out_channels(self, sd) -> int:
        try:
            info = sd.query_devices(self.device, "output")
            return max(1, min(2, int(info["max_output_channels"])))
        except Exception:  # PortAudio cannot describe the device: mono is always possible
            return 1

    def _pending_pos(self) -> float:
        serial, pos = self._seek_req
        return pos if serial != self._seek_seen else self._src_pos

    # -- mix, loop, speed ------------------------------------------------------------------
    def set_mix(self, balance: float) -> None:
        """0 = original only, 0.5 = both, 1 = synthesised notes only."""
        self._balance = float(np.clip(balance, 0.0, 1.0))
        self._gains = mix_gains(self._balance, self._has_synth)

    def set_loop(self, a: float, b: float) -> None:
        """Loop source seconds [a, b) while playing; play() starts at a when outside it."""
        a_s, b_s = sorted((a, b))
        lo = int(np.clip(a_s * self.rate, 0, self._src.shape[1]))
        hi = int(np.clip(b_s * self.rate, 0, self._src.shape[1]))
        self._loop = (lo, hi) if hi - lo >= BLOCK_FRAMES else None

    def clear_loop(self) -> None:
        self._loop = None

    @property
    def loop(self) -> tuple[float, float] | None:
        if self._loop is None:
            return None
        return self._loop[0] / self.rate, self._loop[1] / self.rate

    def set_speed(self, speed: float) -> None:
        """Speed 0.5-1.0 at unchanged pitch; slower versions are prepared in the background."""
        speed = round(float(np.clip(speed, MIN_SPEED, MAX_SPEED)), 3)
        if speed == self._speed:
            return
        self._speed = speed
        self._generation += 1
        if speed == 1.0:
            self._install(_View(self._src, 0, 1.0, True))
        elif speed in self._stretch_cache:
            self._install(self._stretch_cache[speed])
        else:
            self._start_stretch()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block until the recording and the current speed are fully prepared (for tests
        and the CLI)."""
        self._original_ready.wait(timeout)
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return not self.preparing

    def _install(self, view: _View) -> None:
        self._view = view

    def _start_stretch(self) -> None:
        generation, speed, src = self._generation, self._speed, self._src
        pos = int(self._pending_pos())
        if self._loop is not None:
            pos = min(pos, self._loop[0])
        self._worker = threading.Thread(target=self._stretch_job, name="clef-stretch",
                                        args=(generation, speed, src, pos,
                                              self._original_ready), daemon=True)
        self._worker.start()

    def _stretch_job(self, generation: int, speed: float, src: np.ndarray, pos: int,
                     original_ready: threading.Event) -> None:
        def stale() -> bool:
            return generation != self._generation

        while not original_ready.wait(0.05):  # stretch the recording, not its silent buffer
            if stale():
                return

        lo = max(0, pos - self.rate // 2)
        hi = min(src.shape[1], pos + int(FIRST_WINDOW_SECONDS * self.rate))
        if (lo > 0 or hi < src.shape[1]) and speed not in self._orig_stretched:
            part = stretch(src[:, lo:hi], speed, self.rate, cancel=stale)
            if part is None or stale():
                return
            self._install(_View(part, lo, speed, False))
        original = self._orig_stretched.get(speed)
        if original is None or original.shape[0] != int(np.ceil(src.shape[1] / speed)):
            original = stretch(src[0], speed, self.rate, cancel=stale)
        synth = stretch(src[1], speed, self.rate, cancel=stale) if self._has_synth else None
        if original is None or stale() or (self._has_synth and synth is None):
            return
        self._orig_stretched[speed] = original
        trim(self._orig_stretched)
        data = np.stack([original, synth if synth is not None else np.zeros_like(original)])
        view = _View(data, 0, speed, True)
        self._stretch_cache[speed] = view
        trim(self._stretch_cache)
        self._install(view)

    # -- the audio callback: copies and mixes, nothing else -----------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        block = self.render(frames)
        outdata[:] = block[:, None]
        try:
            dac = float(time_info.outputBufferDacTime)
        except Exception:  # in the audio callback nothing may raise; no DAC time is 0
            dac = 0.0
        self._heard = (self._block_start, dac)
        self._tail_left = self._tail_left - frames if self._finished_source else self._tail
        if self._tail_left <= 0:  # the end has had time to leave every buffer downstream
            raise sounddevice_module().CallbackStop

    def render(self, frames: int) -> np.ndarray:
        """The next `frames` output samples (mono), advancing the source position.

        This is the callback's whole job; it is public so tests can drive it with real
        buffers and no device.
        """
        serial, req = self._seek_req
        if serial != self._seek_seen:
            self._seek_seen, self._src_pos = serial, req
        view, (g0, g1), loop = self._view, self._gains, self._loop
        out = np.zeros(frames, dtype=np.float32)
        self._block_start = self._src_pos
        self._finished_source = False
        written, wrapped = 0, False
        while written < frames:
            i = int((self._src_pos - view.start) / view.speed + 1e-6)
            end = view.data.shape[1]
            if loop is not None and self._src_pos < loop[1]:
                end = min(end, int(np.ceil((loop[1] - view.start) / view.speed - 1e-6)))
            if loop is not None and self._src_pos >= loop[1] - 1e-6 and not wrapped:
                self._src_pos, wrapped = float(loop[0]), True  # one wrap per block at most
                continue
            if i < 0 or i >= end:
                # outside what is prepared: silence until the next view lands
                self._finished_source = view.full and loop is None and i >= 0
                break
            k = min(frames - written, end - i)
            out[written : written + k] = g0 * view.data[0, i : i + k] + g1 * view.data[1, i : i + k]
            written += k
            wrapped = False
            self._src_pos = view.start + (i + k) * view.speed
        np.clip(out, -1.0, 1.0, out=out)
        return out
