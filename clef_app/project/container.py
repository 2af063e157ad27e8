"""The zip container under a project file, read as hostile input.

Members are never extracted to disk: they are read into memory, each within a size cap,
so a member name cannot place a file anywhere. Names are still checked (flat, plain
characters), and symlinks, encrypted, oddly compressed or duplicated members, and archives
with too many members or too much uncompressed data, are refused before anything is read.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import Path

from clef_app.project.errors import ProjectError

MAX_MEMBERS = 32
MAX_TOTAL_BYTES = 4 * 2**30  # B: uncompressed data over all members
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # flat: no '/', '\\', '..' prefix
ALLOWED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}

READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError, OverflowError, KeyError, IndexError)


class Container:
    """A validated, open zip archive; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise ProjectError(f"{self.name}: no such file")
        try:
            self._zip = zipfile.ZipFile(self.path, "r")
        except zipfile.BadZipFile as exc:
            raise ProjectError(f"{self.name}: not a Clef project (not a zip container)") from exc
        except READ_ERRORS as exc:
            raise ProjectError(f"{self.name}: the file is damaged ({_short(exc)})") from exc
        try:
            self._members = self._check_members()
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._zip.close()

    def names(self) -> set[str]:
        return set(self._members)

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of member `name`, refused if it is missing or larger than `limit` bytes."""
        info = self._members.get(name)
        if info is None:
            raise ProjectError(f"{self.name}: the project has no '{name}'")
        if info.file_size > limit:
            raise ProjectError(
                f"{self.name}: '{name}' is {info.file_size} bytes; at most {limit} are allowed"
            )
        try:
            with self._zip.open(info) as stream:
                data = stream.read(limit + 1)
        except READ_ERRORS as exc:
            raise ProjectError(f"{self.name}: '{name}' is damaged ({_short(exc)})") from exc
        if len(data) != info.file_size:
            raise ProjectError(f"{self.name}: '{name}' is truncated or its size is wrong")
        return data

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ProjectError(
                f"{self.name}: {len(infos)} members; a project has at most {MAX_MEMBERS}"
            )
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            if not SAFE_NAME.match(name) or ".." in name:
                raise ProjectError(f"{self.name}: unsafe member name {name[:80]!r}")
            if name in members:
                raise ProjectError(f"{self.name}: member '{name}' appears twice")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ProjectError(f"{self.name}: member '{name}' is a symbolic link")
            if info.flag_bits & 0x1:
                raise ProjectError(f"{self.name}: member '{name}' is encrypted")
            if info.compress_type not in ALLOWED_METHODS:
                raise ProjectError(f"{self.name}: member '{name}' uses an unsupported compression")
            total += info.file_size
            members[name] = info
        if total > MAX_TOTAL_BYTES:
            raise ProjectError(f"{self.name}: the project unpacks to {total} bytes; too large")
        return members


def write_container(stream: io.BufferedIOBase, members: list[tuple[str, bytes, bool]]) -> None:
    """Write `(name, data, compress)` members to a zip archive on `stream`."""
    with zipfile.ZipFile(stream, "w") as zf:
        for name, data, compress in members:
            if not SAFE_NAME.match(name):
                raise ValueError(f"unsafe member name {name!r}")
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]
