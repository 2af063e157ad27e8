"""Autosave to a recovery file, and finding the recovery files a crashed session left.

Each running session owns `<session>.clef-recovery` (a project file) in the recovery folder
and holds an exclusive lock on `<session>.lock` for as long as it lives. The kernel drops the
lock when the process dies, however it dies (kill -9 included), so a recovery file whose lock
can be taken belongs to a dead session and is offered for restoring.

The caller drives the saver: call `maybe_save` often (a GUI timer); it writes only when the
document changed and `interval_s` has passed since the last write, so a crash loses at most
one interval of work. An embedded recording is written once to `<session>.flac` beside the
recovery file, which then refers to it: each autosave writes only notes and history.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from clef_app.atomic import atomic_write_bytes, fsync_directory
from clef_app.project.errors import ProjectError
from clef_app.project.format import (
    EmbeddedAudio,
    Project,
    ReferencedAudio,
    load_project,
    save_project,
)

try:
    import fcntl
except ImportError:  # not POSIX: every recovery file counts as left behind
    fcntl = None

AUTOSAVE_INTERVAL_S = 30.0  # s: the most work a crash can cost
RECOVERY_SUFFIX = ".clef-recovery"


class Autosaver:
    """Writes the current project to this session's recovery file, atomically, when due."""

    def __init__(
        self,
        directory: str | Path,
        interval_s: float = AUTOSAVE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.interval_s = interval_s
        self._clock = clock
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.session = f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}"
        self.path = self.directory / f"{self.session}{RECOVERY_SUFFIX}"
        self.audio_path = self.directory / f"{self.session}.flac"
        self._lock: int | None = None  # taken at the first write: idle sessions leave no files
        self._saved_generation: int | None = None
        self._last_save = clock()  # the first write comes one interval after the start
        self._audio_key: tuple[int, int, int] | None = None

    def due(self, generation: int) -> bool:
        """True if the document changed since the last write and the interval has passed."""
        fresh = generation != self._saved_generation
        return fresh and self._clock() - self._last_save >= self.interval_s

    def maybe_save(self, snapshot: Callable[[], Project | None], generation: int) -> bool:
        """Write `snapshot()` if due (see `due`); returns whether it wrote."""
        if not self.due(generation):
            return False
        project = snapshot()
        if project is None:
            self.clear()
        else:
            self.save(project)
        self._saved_generation = generation
        return True

    def save(self, project: Project, generation: int | None = None) -> None:
        """Write the recovery file now.

        Raises:
            ProjectError: the recovery folder cannot be written.
        """
        if self._lock is None:
            lock = _take_lock(self.directory / f"{self.session}.lock")
            self._lock = lock if type(lock) is int else None
        if isinstance(project.audio, EmbeddedAudio):
            self._write_audio_once(project.audio)
            project = replace(project, audio=ReferencedAudio(str(self.audio_path)))
        save_project(project, self.path)
        self._last_save = self._clock()
        if generation is not None:
            self._saved_generation = generation

    def mark_saved(self, generation: int) -> None:
        """The document was saved by the user: no recovery is needed until it changes again."""
        self.clear()
        self._saved_generation = generation

    def clear(self) -> None:
        """Remove this session's recovery file and audio (nothing unsaved remains)."""
        for path in (self.path, self.audio_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._audio_key = None
        fsync_directory(self.directory)

    def close(self) -> None:
        """End the session cleanly: remove its files and release the lock."""
        self.clear()
        if self._lock is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / f"{self.session}.lock")
            os.close(self._lock)
            self._lock = None

    def _write_audio_once(self, audio: EmbeddedAudio) -> None:
        samples = audio.samples
        key = (id(samples), len(samples), int(audio.sample_rate))
        if key == self._audio_key and self.audio_path.exists():
            return
        buffer = io.BytesIO()
        clean = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
        try:
            sf.write(buffer, clean, int(audio.sample_rate), format="FLAC", subtype="PCM_24")
            atomic_write_bytes(self.audio_path, buffer.getvalue())
        except (OSError, ValueError, sf.LibsndfileError) as exc:
            raise ProjectError(f"cannot write the recovery audio ({exc})") from exc
        self._audio_key = key


@dataclass(frozen=True)
class Recovery:
    """A recovery file left by a session that ended without cleaning up (a crash)."""

    path: Path
    saved_at: float  # s since the epoch: when it was last written

    @property
    def audio_path(self) -> Path:
        return self.path.with_suffix(".flac")

    def load(self) -> Project:
        """The recovered project; audio saved beside the file comes back embedded.

        Raises:
            ProjectError: the recovery file is damaged.
        """
        project = load_project(self.path)
        audio = project.audio
        if isinstance(audio, ReferencedAudio) and Path(audio.path).name == self.audio_path.name:
            try:
                samples, rate = sf.read(str(self.audio_path), dtype="float32", always_2d=True)
            except (OSError, RuntimeError, sf.LibsndfileError) as exc:
                raise ProjectError(f"{self.path.name}: its recording is missing ({exc})") from exc
            project = replace(project, audio=EmbeddedAudio(samples.mean(axis=1), rate))
        return project

    def discard(self) -> None:
        """Delete the recovery file, its audio and its lock."""
        for path in (self.path, self.audio_path, self.path.with_suffix(".lock")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        fsync_directory(self.path.parent)


def find_recoveries(directory: str | Path) -> list[Recovery]:
    """Recovery files whose session is gone, newest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    for lock_path in directory.glob("*.lock"):  # left by sessions that died before a write
        if not lock_path.with_suffix(RECOVERY_SUFFIX).exists():
            lock = _take_lock(lock_path, create=False)
            if type(lock) is int:
                with contextlib.suppress(OSError):
                    lock_path.unlink()
                os.close(lock)
    found = []
    for path in directory.glob(f"*{RECOVERY_SUFFIX}"):
        if path.is_symlink() or not path.is_file():
            continue
        lock = _take_lock(path.with_suffix(".lock"), create=False)
        if lock is False:
            continue  # a live session holds it
        if type(lock) is int:
            os.close(lock)
        found.append(Recovery(path, path.stat().st_mtime))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _take_lock(path: Path, create: bool = True) -> int | None | bool:
    """An fd holding an exclusive lock on `path`; False if another process holds it; None if
    the file does not exist (and `create` is False) or locks are not available."""
    if fcntl is None:
        return None
    flags = os.O_RDWR | (os.O_CREAT if create else 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if create:
            raise ProjectError(f"cannot create the autosave lock {path} ({exc})") from exc
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    return fd
