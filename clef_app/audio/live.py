"""Live input (Qt-free): device stream -> ring buffer -> recorder, spectrogram, transcription.

The PortAudio callback only copies into a `RingBuffer`. One consumer (the GUI's timer, or
the benchmark's loop) calls `LiveSession.pump()`, which takes what arrived and hands it to
the FLAC `Recorder`, the display `LiveSpectrogram` and the `LiveTranscription`, whose model
work runs on its own thread so a decode never stalls the display.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from clef_app.audio.devices import (
    AudioUnavailable,
    close_stream,
    list_devices,
    negotiate_rate,
    sounddevice_module,
)
from clef_app.audio.features import log_mel_frames
from clef_app.audio.live_transcription import LiveTranscription
from clef_app.audio.resampler import StreamResampler
from clef_app.audio.ringbuffer import RingBuffer
from clef_app.config import SAMPLE_RATE, FrontEndConfig
from clef_app.notation.events import NoteEvent

RING_SECONDS = 20.0  # s of input the ring holds before it drops (the consumer pulls at 30 Hz)
INPUT_BLOCK = 0  # frames per callback: 0 lets PortAudio choose
INPUT_LATENCY = 0.1  # s of device buffering: no overruns on a busy CPU; small next to a segment
SILENCE_DBFS = -120.0


class LiveInput:
    """An input device streaming into a ring buffer; `read()` returns mono float32 at `rate`."""

    def __init__(self, device: int | None = None, ring_seconds: float = RING_SECONDS) -> None:
        self.device = device
        self.ring_seconds = ring_seconds
        self.rate = 0
        self.channels = 1
        self.ring: RingBuffer | None = None
        self.device_overflows = 0  # PortAudio reported lost input
        self._stream = None

    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def dropped_frames(self) -> int:
        return 0 if self.ring is None else self.ring.dropped_frames

    def start(self) -> None:
        """Open the device at the best rate it takes. Raises AudioUnavailable."""
        if self._stream is not None:
            return
        sd = sounddevice_module()
        if self.device is None:
            devices = list_devices()
            if devices.input_message:
                raise AudioUnavailable(devices.input_message)
            self.device = devices.default_input
        errors = []
        for channels in (1, 2):  # some hardware only opens in stereo
            try:
                rate = negotiate_rate(self.device, "input", channels)
                self.ring = RingBuffer(int(rate * self.ring_seconds), channels)
                self._stream = sd.InputStream(
                    samplerate=rate, channels=channels, dtype="float32", device=self.device,
                    blocksize=INPUT_BLOCK, latency=INPUT_LATENCY, callback=self._callback)
                self._stream.start()
                self.rate, self.channels = rate, channels
                return
            except Exception as exc:  # PortAudioError and the like: try the next settings
                errors.append(str(exc))
                self._stream = None
        raise AudioUnavailable(f"cannot record from input device {self.device}: {errors[-1]}")

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)

    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        if status.input_overflow:
            self.device_overflows += 1
        self.ring.write(indata)

    def read(self) -> np.ndarray:
        """Everything that arrived since the last read, mono float32 (n,)."""
        if self.ring is None:
            return np.zeros(0, dtype=np.float32)
        return downmix(self.ring.read())

    def last_arrival(self) -> float:
        """time.monotonic() at which the newest frame arrived."""
        return self.ring.last_write[1] if self.ring is not None else time.monotonic()


def downmix(frames: np.ndarray) -> np.ndarray:
    """(n, channels) -> (n,) float32 mean."""
    if frames.ndim == 1:
        return frames.astype(np.float32, copy=False)
    return frames.mean(axis=1, dtype=np.float32) if frames.shape[1] > 1 else frames[:, 0].copy()


def peak_dbfs(samples: np.ndarray) -> float:
    """Peak level in dB relative to full scale (SILENCE_DBFS for silence)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return max(SILENCE_DBFS, 20.0 * np.log10(peak)) if peak > 0 else SILENCE_DBFS


class Recorder:
    """Writes mono float32 blocks to a new FLAC file as they arrive (24-bit).

    The file is written in place, not renamed into place at the end, so a crash keeps
    what was recorded; it is created new (O_EXCL, O_NOFOLLOW), so an existing file or a
    symlink planted at `path` is never written over or through (FileExistsError).
    """

    def __init__(self, path: str | Path, rate: int) -> None:
        self.path = Path(path)
        self.rate = rate
        self.frames = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        self._raw = os.fdopen(os.open(self.path, flags, 0o666), "w+b")
        try:  # libsndfile writes through the open file (it seeks back for FLAC's header)
            self._file = sf.SoundFile(self._raw, "w", samplerate=rate, channels=1,
                                      format="FLAC", subtype="PCM_24")
        except Exception:
            self._raw.close()
            self.path.unlink(missing_ok=True)
            raise

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    def write(self, samples: np.ndarray) -> None:
        if samples.size and self._file is not None:
            self._file.write(np.clip(samples, -1.0, 1.0))
            self.frames += len(samples)

    def close(self) -> Path:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._raw.close()
        return self.path


class LiveSpectrogram:
    """Log-mel frames (dB) of a 16-kHz stream, framed like `display_spectrogram`.

    The per-frame work is numpy (a few frames per 25-ms tick): torch's thread pool costs
    more than the arithmetic at this size on a busy CPU, and the GUI never loads torch.
    """

    def __init__(self, fe: FrontEndConfig | None = None) -> None:
        self.fe = fe = fe or FrontEndConfig()
        self._buf = np.zeros(fe.n_fft // 2, dtype=np.float32)  # frame 0 centred on sample 0

    def push(self, samples_16k: np.ndarray) -> np.ndarray:
        """Returns (n_new_frames, n_mels) float32 dB."""
        self._buf = np.concatenate([self._buf, samples_16k.astype(np.float32, copy=False)])
        frames = log_mel_frames(self._buf, self.fe)
        self._buf = self._buf[len(frames) * self.fe.hop_length :]
        return frames


@dataclass(frozen=True)
class Pump:
    """What one `LiveSession.pump()` produced."""

    frames: np.ndarray  # (n, n_mels) new spectrogram frames, dB
    level_dbfs: float
    notes: list[NoteEvent]  # completed since the last pump
    sounding: list[NoteEvent]  # provisional, still sounding


class LiveSession:
    """The single consumer of a ring buffer: pulls and fans out to everything live.

    Args:
        source: a started `LiveInput`, or anything with `rate`, `read()` and `last_arrival()`.
    """

    def __init__(self, source) -> None:
        self.source = source
        self.rate = source.rate
        self._to_16k = StreamResampler(self.rate, SAMPLE_RATE)
        self.spectrogram = LiveSpectrogram()
        self.recorder: Recorder | None = None
        self.transcription: LiveTranscription | None = None

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def start_recording(self, path: str | Path, transcription: LiveTranscription | None,
                        background: bool = True) -> None:
        """Record from now on; `background` decodes on the transcription's own thread."""
        self.recorder = Recorder(path, self.rate)
        self.transcription = transcription
        if transcription is not None and background:
            transcription.start()

    def stop_recording(self) -> Path | None:
        """Close the file; the transcription decodes its last segment in the background."""
        recorder, self.recorder = self.recorder, None
        if self.transcription is not None:
            self.transcription.finish()
        return recorder.close() if recorder is not None else None

    def pump(self) -> Pump:
        samples = self.source.read()
        arrival = self.source.last_arrival()
        if self.recorder is not None:
            self.recorder.write(samples)
            if self.transcription is not None and samples.size:
                self.transcription.feed(samples, arrival)
        frames = self.spectrogram.push(self._to_16k.push(samples))
        notes, sounding = self.transcription.take() if self.transcription else ([], [])
        return Pump(frames, peak_dbfs(samples), notes, sounding)
