"""Reading audio files: any rate, any channel count, clear errors for what cannot be read.

Files are read in blocks and mixed to mono as they arrive, so memory holds the mono result
and one block, whatever the channel count; a one-hour recording costs its mono samples only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from clef_app import preload
from clef_app.audio.resampler import StreamResampler
from clef_app.audio.truncation import announced_end, cut_short_warning, known_frames
from clef_app.errors import ClefError
from clef_app.notation.steps import checkpoint

MAX_SECONDS = 4 * 3600  # s: longer files are refused rather than filling memory
MAX_NATIVE_RATE = 48_000  # Hz: higher rates are resampled to this when no rate is asked for
# frames held at once at most (2.8 GB of float32): 4 h at 48 kHz, 1 h at 192 kHz, read
# before resampling; also the bound on a project's embedded audio
MAX_FRAMES = MAX_SECONDS * MAX_NATIVE_RATE
BLOCK_FRAMES = 1 << 18  # frames read at a time (~5 s at 48 kHz)
# frames read at a time after a decoding error, each size from where the last one failed,
# to keep all that decodes (libsndfile drops a whole block that meets the damage)
SALVAGE_FRAMES = (1 << 12, 1 << 8, 1 << 4, 1)
DECODE_ERRORS = (sf.LibsndfileError, RuntimeError)  # libsndfile's "the data are damaged"
# input samples resampled at a time (1.5 s at 44.1 kHz, 1-3 ms of CPU): a cancel acts
# between two, so closing the app never waits for a long recording's resampling
RESAMPLE_BLOCK = 1 << 16


class AudioError(ClefError):
    """A file that cannot be used as audio; the message names the file and why."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int
    warning: str = ""  # set when the file was damaged part-way: what was opened of it

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling of a 1-D signal (anti-aliased): scipy's `resample_poly`,
    computed RESAMPLE_BLOCK samples at a time (`StreamResampler`: the same output to float32
    rounding, and no float64 copy of the whole signal) with `steps.checkpoint()` between
    two blocks, so a cancelled worker stops within one.

    Raises:
        Cancelled: inside `steps.stop_when`, once it asks (also while SciPy's first
            import, seconds on a busy machine, is waited for: `clef_app.preload`).
    """
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    out = np.empty(resampled_length(len(samples), from_rate, to_rate), dtype=np.float32)
    for _ in resample_into(samples, from_rate, to_rate, out):
        pass
    return out


def resampled_length(frames: int, from_rate: int, to_rate: int) -> int:
    """Samples `resample` gives for `frames` input samples (resample_poly's count)."""
    return -(-int(frames) * int(to_rate) // int(from_rate))


def resample_into(samples: np.ndarray, from_rate: int, to_rate: int, out: np.ndarray
                  ) -> Iterator[int]:
    """`resample` written into `out` (resampled_length long) block by block, yielding the
    samples of `out` filled so far after each block, for a reader that plays or shows them
    while the rest is computed. Raises Cancelled as `resample`."""
    x = np.asarray(samples).reshape(-1)
    preload.imported("scipy.signal")  # for the filter: ~1 s the first time, not at start-up
    resampler = StreamResampler(from_rate, to_rate)
    filled = 0
    for start in range(0, len(x), RESAMPLE_BLOCK):
        checkpoint()
        y = resampler.push(x[start : start + RESAMPLE_BLOCK])
        out[filled : filled + len(y)] = y
        filled += len(y)
        yield filled
    y = resampler.flush()
    out[filled : filled + len(y)] = y
    yield filled + len(y)


def load_audio(path: str | Path, sample_rate: int | None = None) -> Audio:
    """Read WAV/FLAC/OGG/MP3 (libsndfile), mix to mono, optionally resample.

    Non-finite samples become silence and samples beyond full scale are clipped. Without
    `sample_rate`, files above MAX_NATIVE_RATE come back at MAX_NATIVE_RATE. A file damaged
    part-way (a recorder that crashed, a copy cut short) gives the audio that decodes, with
    `Audio.warning` saying how much that is.

    Raises:
        AudioError: the file is missing, not audio, empty, too long, nothing of it decodes,
            or it holds no finite samples.
    """
    steps = decode_blocks(path)
    try:
        while True:
            next(steps)
    except StopIteration as done:
        audio = done.value
    target = sample_rate if sample_rate is not None else min(audio.sample_rate, MAX_NATIVE_RATE)
    if target == audio.sample_rate:
        return audio
    mono = np.clip(resample(audio.samples, audio.sample_rate, target), -1.0, 1.0)
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), int(target), audio.warning)


def decode_blocks(path: str | Path) -> Generator[tuple[np.ndarray, int, int], None, Audio]:
    """`load_audio` at the file's own rate, block by block, for showing a long recording
    while it decodes.

    The first item comes once the header is read: (samples, rate, 0), `samples` the
    header's length of zeros (pages are mapped as blocks fill them); then (samples, rate,
    frames decoded so far) after every block, written into that same array. The return
    value is the `Audio` (`samples` itself, or a shorter copy when the header overcounted).

    Raises:
        AudioError: as `load_audio` (the header's problems at the first item).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: the file is empty (0 bytes)")
    try:
        with sf.SoundFile(str(path)) as f:
            rate = int(f.samplerate)
            reader = _MonoReader(f, path.name)
            yield reader.out, rate, 0
            mono, warning = yield from reader.read_all(path)
            finite = reader.finite
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{path.name}: {_not_audio(path, exc)}") from exc
    except (ValueError, OSError, EOFError, MemoryError) as exc:
        raise AudioError(f"{path.name}: the audio data is damaged ({_short(exc)})") from exc
    if len(mono) == 0:
        raise AudioError(f"{path.name}: the file holds no audio (0 samples)")
    if not finite:
        raise AudioError(f"{path.name}: every sample is NaN or infinite")
    return Audio(mono, rate, warning)


def decode_at_most(path: str | Path, max_rate: int = MAX_NATIVE_RATE
                   ) -> Generator[tuple[np.ndarray, int, int], None, Audio]:
    """`decode_blocks`, brought down to `max_rate` Hz on the way when the file's rate is
    higher (as `load_audio` does after decoding the whole file): each decoded block is
    resampled into one array of the result's length, so a worker decodes and resamples a
    long recording in one pass and a reader sees it fill in.

    The first item (the header's, with no SciPy yet) is (zeros, rate, 0), the later ones
    (that array, rate, samples ready), all at the rate returned; errors as `decode_blocks`,
    and Cancelled as `resample`.
    """
    steps = decode_blocks(path)
    try:
        native, rate, _ = next(steps)
        if rate <= max_rate:
            yield native, rate, 0
            return (yield from steps)
        down = _Downsampled(len(native), rate, max_rate)
        yield down.out, max_rate, 0
        while True:
            try:
                native, _, decoded = next(steps)
            except StopIteration as done:
                audio = done.value
                break
            yield down.out, max_rate, down.push(native[:decoded])
        down.push(audio.samples, last=True)
        yield down.out, max_rate, down.filled
        return Audio(down.result(), max_rate, audio.warning)
    finally:
        steps.close()  # a cancelled reader closes the file


class _Downsampled:
    """A recording's samples resampled as they arrive, into an array of the header's length
    (grown when the file holds more)."""

    def __init__(self, frames: int, from_rate: int, to_rate: int) -> None:
        self.rates = (from_rate, to_rate)
        self.out = np.zeros(resampled_length(frames, from_rate, to_rate), dtype=np.float32)
        self.fed = self.filled = 0  # input samples taken, output samples written
        self._resampler: StreamResampler | None = None

    def push(self, decoded: np.ndarray, last: bool = False) -> int:
        """Resample `decoded[fed:]` (the samples decoded so far: a prefix of the recording),
        and the filter's tail when `last`; returns the output samples written."""
        if self._resampler is None:
            preload.imported("scipy.signal")  # on the worker, not at the header
            self._resampler = StreamResampler(*self.rates)
        for start in range(self.fed, len(decoded), RESAMPLE_BLOCK):
            checkpoint()
            self._write(self._resampler.push(decoded[start : start + RESAMPLE_BLOCK]))
        self.fed = max(self.fed, len(decoded))
        if last:
            self._write(self._resampler.flush())
        return self.filled

    def _write(self, y: np.ndarray) -> None:
        if self.filled + len(y) > len(self.out):  # the header undercounted
            self.out = np.resize(self.out, max(2 * len(self.out), self.filled + len(y)))
        self.out[self.filled : self.filled + len(y)] = np.clip(y, -1.0, 1.0)
        self.filled += len(y)

    def result(self) -> np.ndarray:
        """The output, its length `resample`'s for all the input (a copy when much shorter
        than the array: the header overcounted)."""
        size = resampled_length(self.fed, *self.rates)
        return self.out[:size].copy() if size < len(self.out) // 2 else self.out[:size]


def header(path: str | Path) -> tuple[float, int]:
    """(s, Hz) the file's header announces ((0, 0) when it cannot be read)."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError, ValueError):
        return 0.0, 0
    rate = int(info.samplerate)
    return (known_frames(info.frames) / rate if rate > 0 else 0.0), rate


class _MonoReader:
    """An open file's frames mixed to mono into one growing array, block by block."""

    def __init__(self, f: sf.SoundFile, name: str) -> None:
        if f.samplerate <= 0 or f.channels <= 0:
            raise AudioError(f"{name}: the header gives no sample rate or channels")
        self.name, self.rate, self.channels = name, int(f.samplerate), int(f.channels)
        self.header_frames = known_frames(f.frames)  # 0: unknown, the array grows
        self.end = announced_end(f)  # the length the format's own header records
        self.limit = min(MAX_SECONDS * self.rate, MAX_FRAMES)  # duration, then memory
        if self.header_frames > self.limit:
            raise self.too_long()
        # zeros: pages are mapped as blocks fill them (and a reader of the array while it
        # decodes sees silence, not garbage)
        self.out = np.zeros(min(self.header_frames, self.limit), dtype=np.float32)
        self.filled, self.finite = 0, False
        self._f = f

    def too_long(self) -> AudioError:
        if self.limit == MAX_FRAMES and self.rate > MAX_NATIVE_RATE:
            return AudioError(f"{self.name}: longer than {MAX_FRAMES / self.rate / 3600:.2g} "
                              f"hours at {self.rate} Hz (Clef reads at most "
                              f"{MAX_SECONDS // 3600} hours at {MAX_NATIVE_RATE} Hz)")
        return AudioError(f"{self.name}: longer than {MAX_SECONDS // 3600} hours")

    def read_all(self, path: Path) -> Generator[tuple[np.ndarray, int, int], None,
                                                 tuple[np.ndarray, str]]:
        """Every frame that decodes, and a warning if the file is damaged part-way;
        yields (array, rate, frames so far) after each block."""
        try:
            yield from self._read(self._f, BLOCK_FRAMES)
            warning = ""
        except DECODE_ERRORS as exc:
            warning = self._salvage(path, exc)
        if not warning:  # cut where the decoder saw no damage: the header tells
            warning = cut_short_warning(self.name, self.filled, self.rate, self.end)
        if self.filled < len(self.out) // 2:  # the header overcounted: give memory back
            return self.out[: self.filled].copy(), warning
        return self.out[: self.filled], warning

    def _salvage(self, path: Path, exc: Exception) -> str:
        """After a decoding error: reopen, read on in smaller and smaller blocks until the
        damage."""
        for frames in SALVAGE_FRAMES:
            with contextlib.suppress(*DECODE_ERRORS), sf.SoundFile(str(path)) as again:
                again.seek(self.filled)
                for _ in self._read(again, frames):
                    pass
        if self.filled == 0:
            raise exc
        got = self.filled / self.rate
        what, of = f"damaged after {got:.1f} s", ""
        if not self.header_frames:  # nothing to measure the loss against
            what = f"its header records no length, and decoding stopped after {got:.1f} s"
        elif self.header_frames > self.filled:
            share = 100 * self.filled / self.header_frames
            of = f" of {self.header_frames / self.rate:.1f} s ({share:.0f} %)"
        return f"{self.name}: {what}; opened the {got:.1f} s that decode{of} ({_short(exc)})"

    def _read(self, f: sf.SoundFile, frames: int) -> Iterator[tuple[np.ndarray, int, int]]:
        block = np.empty((frames, self.channels), dtype=np.float32)
        while True:
            n = f.read(frames, dtype="float32", always_2d=True, out=block).shape[0]
            if n == 0:
                return
            if self.filled + n > self.limit:
                raise self.too_long()
            mix = block[:n].mean(axis=1, dtype=np.float32) if self.channels > 1 else block[:n, 0]
            good = np.isfinite(mix)
            self.finite = self.finite or bool(good.any())
            mix = np.clip(np.where(good, mix, 0.0), -1.0, 1.0, dtype=np.float32)
            if self.filled + n > len(self.out):  # the header undercounted (some MP3s) or
                # gave no length: grow, never past the limit (2.8 GB)
                size = min(self.limit, max(2 * len(self.out), self.filled + n))
                self.out = np.resize(self.out, size)
            self.out[self.filled : self.filled + n] = mix
            self.filled += n
            yield self.out, self.rate, self.filled


def _not_audio(path: Path, exc: Exception) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"MThd":
        return "a MIDI file, not a recording (import it as notes instead)"
    return f"not a readable audio file ({_short(exc)})"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
