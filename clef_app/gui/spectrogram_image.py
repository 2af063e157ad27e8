"""The spectrogram picture: computed on a worker block by block, shown tile by tile.

The image is stored as one byte per cell (0.5-dB steps, `to_codes`): an hour at 100 frames
per second and 264 rows is 95 MB. Each computed block (20.48 s) becomes its own ImageItem,
so the first screen appears as soon as its blocks are done, the rest fills in while the
window stays responsive, and Qt paints only the tiles in view (each at the resolution the
view shows, pyqtgraph's auto-downsampling).

Rows are `clef_app.audio.logfreq`'s pitch rows whatever the scale: y is the MIDI pitch
(row k centred on `row_pitch(k)`), so notes, keyboard and picture share one axis.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Signal

from clef_app import preload
from clef_app.audio import logfreq
from clef_app.audio.logfreq import BLOCK_FRAMES as BLOCK
from clef_app.audio.logfreq import FPS, HIGH_EDGE, LOW_EDGE, N_ROWS
from clef_app.gui.workers import GeneratorWorker
from clef_app.notation.steps import Cancelled

DB_LOW = -110.0  # dB at code 0 (silence is -100 dB)
WAIT_S = 0.05  # s between looks at how much of a decoding recording has arrived
CODES_PER_DB = 2.0  # 0.5-dB steps: code 255 is +17.5 dB, above any full-scale sound
MEL_GAIN_DB = 20 * np.log10(1024.0)  # dB: the mel front end's window gain (its Hann window
# sums to n_fft / 2), taken off so that both scales share the codes' range


def to_codes(db: np.ndarray) -> np.ndarray:
    """dB as the stored bytes."""
    return np.clip(np.rint((db - DB_LOW) * CODES_PER_DB), 0, 255).astype(np.uint8)


def to_db(codes: np.ndarray | float) -> np.ndarray:
    """The stored bytes back in dB (to 0.25 dB)."""
    return np.asarray(codes, dtype=np.float32) / CODES_PER_DB + DB_LOW


def frame_count(n_samples: int, sample_rate: int, scale: str) -> int:
    if scale == "mel":  # the model's framing: one frame per hop at 16 kHz
        return 1 + max(1, int(round(n_samples * 16_000 / sample_rate))) // 160
    return logfreq.n_frames(n_samples, sample_rate)


def blocks_job(samples: np.ndarray, rate: int, scale: str,
               samples_16k: Callable[[], np.ndarray], available: Callable[[], int]):
    """A worker job yielding (first frame, codes block, its loudest dB); a block waits
    until `available()` frames of `samples` (a recording still decoding) cover it."""

    def arrived(end: int, cancelled) -> bool:
        while available() < min(end, len(samples)):
            if cancelled():
                return False
            time.sleep(WAIT_S)
        return not cancelled()

    def job(cancelled):
        if scale == "mel":
            from clef_app.audio.features import mel_blocks

            if not arrived(len(samples), cancelled):  # resampled whole: wait for it all
                return None
            source = ((first, logfreq.mel_on_rows(db) - MEL_GAIN_DB)
                      for first, db in mel_blocks(samples_16k()))
        else:
            try:  # its first import (0.3 s, seconds on a busy machine) cannot be interrupted
                preload.imported("scipy.fft", cancelled)
            except Cancelled:
                return None
            total = logfreq.n_frames(len(samples), rate)
            source = ((first, logfreq.block(samples, rate, first, min(BLOCK, total - first)))
                      for first in range(0, total, BLOCK)
                      if arrived(int(((first + BLOCK) / FPS + logfreq.MARGIN) * rate), cancelled))
        for first, db in source:
            if cancelled():
                return None
            yield first, to_codes(db), float(db.max())
        return None

    return job


class SpectrogramImage(QObject):
    """The tiles of one recording's spectrogram on a PlotItem.

    Signals:
        progress(float): share of the recording computed, 0..1 (1: complete).
        ready(): every block is shown.
        failed(str): the computation failed (one line).
    """

    progress = Signal(float)
    ready = Signal()
    failed = Signal(str)

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        self.plot = plot
        self.codes: np.ndarray | None = None  # (frames, N_ROWS) uint8, filled as computed
        self.filled = 0  # frames computed so far
        self.tiles: list[pg.ImageItem] = []
        self.top_db = DB_LOW  # the loudest cell so far
        self.colormap: pg.ColorMap | None = None
        self.db_range = 60.0
        self._worker: GeneratorWorker | None = None

    @property
    def computing(self) -> bool:
        return self._worker is not None

    def clear(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        for tile in self.tiles:
            self.plot.removeItem(tile)
        self.tiles, self.codes, self.filled, self.top_db = [], None, 0, DB_LOW

    def start(self, samples: np.ndarray, rate: int, scale: str,
              samples_16k: Callable[[], np.ndarray],
              available: Callable[[], int] | None = None) -> None:
        """Compute and show the spectrogram of `samples` (mono at `rate` Hz), of which
        `available()` frames are decoded (default: all)."""
        self.clear()
        # np.zeros maps pages lazily: memory grows only as blocks fill it
        self.codes = np.zeros((frame_count(len(samples), rate, scale), N_ROWS), dtype=np.uint8)
        ready = available or (lambda: len(samples))
        worker = GeneratorWorker(blocks_job(samples, rate, scale, samples_16k, ready),
                                 name="spectrogram")
        worker.partial.connect(lambda item, w=worker: self._block(w, *item))
        worker.finished.connect(lambda _r, w=worker: self._done(w))
        worker.failed.connect(self._failed)
        self._worker = worker.start()
        self.progress.emit(0.0)

    def _block(self, worker: GeneratorWorker, first: int, codes: np.ndarray, top: float
               ) -> None:
        if worker is not self._worker or self.codes is None:
            return
        count = min(len(codes), len(self.codes) - first)
        self.codes[first : first + count] = codes[:count]
        self.filled = max(self.filled, first + count)
        tile = pg.ImageItem(self.codes[first : first + count], axisOrder="col-major")
        tile.setAutoDownsample(True)
        tile.setZValue(-10)
        half = 0.5 / FPS  # frame i is centred at i / FPS s
        tile.setRect(QRectF(first / FPS - half, LOW_EDGE, count / FPS, HIGH_EDGE - LOW_EDGE))
        self.plot.addItem(tile, ignoreBounds=True)
        self.tiles.append(tile)
        if top > self.top_db:
            self.top_db = top
            self.apply_look()
        else:
            self._look(tile)
        self.progress.emit(min(1.0, self.filled / max(1, len(self.codes))))

    def _done(self, worker: GeneratorWorker) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self.progress.emit(1.0)
        self.ready.emit()

    def _failed(self, message: str) -> None:
        self._worker = None
        self.progress.emit(1.0)
        self.failed.emit(message)

    # -- look --------------------------------------------------------------------------
    def set_look(self, colormap: pg.ColorMap, db_range: float) -> None:
        self.colormap, self.db_range = colormap, float(db_range)
        self.apply_look()

    def levels(self) -> tuple[float, float]:
        """dB at the bottom and top of the colour map."""
        return self.top_db - self.db_range, self.top_db

    def apply_look(self) -> None:
        for tile in self.tiles:
            self._look(tile)

    def _look(self, tile: pg.ImageItem) -> None:
        lo, hi = self.levels()
        if self.colormap is not None:
            tile.setColorMap(self.colormap)
        tile.setLevels(((lo - DB_LOW) * CODES_PER_DB, (hi - DB_LOW) * CODES_PER_DB))

    def db(self) -> np.ndarray | None:
        """The computed part in dB, (frames, N_ROWS) (tests, exports of the picture)."""
        return None if self.codes is None else to_db(self.codes[: self.filled])
