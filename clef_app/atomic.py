"""The one way Clef writes a file: a reader sees the old file or the new one, never a stub.

Every file Clef writes (notes tables, score exports, projects, autosaves, checkpoints, PNGs)
goes through `atomic_writer`:

- the data go to a new temporary file in the target's own folder (so the rename stays on
  one file system), created with O_EXCL and O_NOFOLLOW under a random name: a planted file
  or symlink there is never opened, let alone written through;
- the file is flushed and fsynced, given the target's permissions (a private 0600 file
  stays private; a new file gets the umask's mode), and renamed over the target; the
  folder is fsynced so the rename survives a power cut;
- on any failure (full disk, no permission, an exception in the block) the temporary file
  is removed and the target is left as it was. OS failures become a `WriteError` naming
  the file.

`check_output` says before any work starts whether a path can be written at all. An
append-only log (a training run's `log.jsonl`, a data build's manifest) is a `LineLog`:
its whole, small file is rewritten through `atomic_writer` instead of appended to in place,
where a crash or a full disk would leave a line cut short and a planted symlink would be
written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from clef_app.errors import ClefError

_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_NAME_MAX = 255  # bytes in one file name on the usual file systems
_TRIES = 16  # random temporary names tried before giving up


class WriteError(ClefError, OSError):
    """A file that cannot be written; the message names it and why."""


def check_output(path: str | Path, suffixes: Sequence[str] = ()) -> Path:
    """Refuse, before any work, an output path that cannot be written.

    Args:
        path: the file to write.
        suffixes: the accepted suffixes (lower case, with the dot); empty = any.
    Returns:
        `path` as a Path.
    Raises:
        WriteError: a wrong suffix, a folder in the way, a missing or read-only folder.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise WriteError(f"cannot write {path.name}: use one of {', '.join(suffixes)}")
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a folder")
    folder = _folder(path)
    if not folder.is_dir():
        raise WriteError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {path}: no permission to write in {folder}")
    return path


def output_folder(path: str | Path) -> Path:
    """Make, before any work, the folder a command writes its outputs into (a training run,
    a feature cache, a data build), with its parents.

    Raises:
        WriteError: it cannot be made (a file in the way, no permission) or written in.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot write in {path}: {exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write in {path}: no permission")
    return path


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open a binary stream whose content replaces `path` only if the block finishes.

    Raises:
        WriteError: the file cannot be written (the target is unchanged, nothing is left).
    """
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a folder")
    folder = _folder(path)
    fd, tmp = _create_temporary(path, folder)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fchmod(stream.fileno(), _mode_for(path))
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    fsync_directory(folder)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with atomic_writer(path) as stream:
        stream.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace `path` with UTF-8 `text` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


class LineLog:
    """An append-only text log whose file is always whole: every line written, none cut.

    Lines are kept in memory and the whole file is rewritten by `atomic_writer` when an
    `append` comes `every_s` seconds or more after the last write (0: at every append) and
    when the log is closed, so a crash loses at most the lines of the last `every_s`
    seconds, never the file. Each write costs the file's size: for logs of a few MB at most
    (a training run's log.jsonl is ~10 KB, a 30-h build's manifest under 2 MB). A reader
    following the file by name (`tail -F`) sees each new version.

    Args:
        path: the log's file.
        lines: the lines it starts with (those already in the file: `whole_lines(path)`).
        every_s: the shortest time between two writes, in s.
    """

    def __init__(self, path: str | Path, lines: Iterable[str] = (), every_s: float = 0.0
                 ) -> None:
        self.path = Path(path)
        self.lines = [line.rstrip("\n") for line in lines]
        self.every_s = every_s
        self._written = -1  # lines in the file as last written (-1: not written yet)
        self._last = time.monotonic()

    def append(self, line: str) -> None:
        """Add one line (without its newline); write the file if `every_s` has passed."""
        self.lines.append(line)
        if time.monotonic() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Write every line so far (nothing when this log wrote them all already; its first
        write also mends a file whose last line was cut short). Raises WriteError."""
        if self._written == len(self.lines):
            return
        atomic_write_text(self.path, "".join(line + "\n" for line in self.lines))
        self._written, self._last = len(self.lines), time.monotonic()

    def __enter__(self) -> LineLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()  # the lines appended are whole, whatever ended the block


def whole_lines(path: str | Path) -> list[str]:
    """The complete lines of a log file: none when it is missing or a symlink (never read
    through: the log replaces it); a last line without its newline (cut short by an old
    in-place append) is dropped."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink at the log's name
            return []
        raise
    with os.fdopen(fd, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    return text.split("\n")[:-1]  # after the last newline: "" or a cut line


def link_new(source: str | Path, target: str | Path) -> bool:
    """Give the finished file `source` the name `target` too (a hard link: one file system),
    only if nothing is there: False when the name is taken, whose file is never replaced.

    Raises:
        OSError: the link cannot be made otherwise (no permission, no hard links there).
    """
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        return False
    return True


def fsync_directory(directory: str | Path) -> None:
    """Make a rename or unlink in `directory` durable (no-op where a directory can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _create_temporary(path: Path, folder: Path) -> tuple[int, Path]:
    """A new, empty, private (0600) file beside `path`: (descriptor, its path)."""
    stem = path.name.encode("utf-8", "surrogateescape")[: _NAME_MAX - 32]
    stem_text = stem.decode("utf-8", "ignore")
    for _ in range(_TRIES):
        tmp = folder / f".{stem_text}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, _FLAGS, 0o600), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    raise WriteError(f"cannot write {path}: no free temporary name in {folder}")


def _mode_for(path: Path) -> int:
    """The permissions the new file gets: an existing regular file's, else the umask's."""
    with contextlib.suppress(OSError):
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
