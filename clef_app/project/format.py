"""The Clef project file (`.clef`): notes, score settings, edit history and the recording.

A zip container holding `project.json` and, when the recording is embedded, `audio.flac`.
The format is documented in docs/project-format.md; bump FORMAT_VERSION on any change a
reader of the previous version would misread. Readers treat every file as hostile: any
failure is a ProjectError naming the file and the reason.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from clef_app import __version__
from clef_app.atomic import atomic_writer
from clef_app.audio.io import MAX_FRAMES, MAX_SECONDS
from clef_app.notation.corrections import Corrections, from_dict
from clef_app.notation.edits import Edit, note_to_dict
from clef_app.notation.events import NoteEvent, sort_notes
from clef_app.project.container import Container, write_container
from clef_app.project.errors import ProjectError
from clef_app.project.history import check_settings, decode_edits
from clef_app.project.validate import (
    MAX_EDITS,
    MAX_JSON_BYTES,
    MAX_NOTES,
    MAX_PATH_CHARS,
    Fields,
    audio_path_text,
    parse_json,
    read_edits,
    read_notes,
)

FORMAT_NAME = "clef-project"
FORMAT_VERSION = 1
PROJECT_SUFFIX = ".clef"
MANIFEST = "project.json"
AUDIO_MEMBER = "audio.flac"
MAX_AUDIO_BYTES = 2**30  # B: an embedded FLAC (about 2 hours of 44.1 kHz mono)
MAX_SAMPLE_RATE = 655_350  # Hz: FLAC's limit
# frames of embedded audio: what load_audio holds at most (4 h at 48 kHz, 2.8 GB of
# float32); checked, with MAX_SECONDS, before anything is inflated or decoded
MAX_EMBEDDED_FRAMES = MAX_FRAMES
FLAC_SLACK_BYTES = 2**16  # B: FLAC's stream header and metadata, beyond its frames


@dataclass(frozen=True)
class EmbeddedAudio:
    """A recording stored inside the project: mono float32 samples in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int


@dataclass(frozen=True)
class ReferencedAudio:
    """A recording kept in its own file; `relative` is from the project's folder, if known."""

    path: str
    relative: str | None = None

    def resolve(self, project_dir: str | Path | None) -> Path | None:
        """The first existing file among `relative` (from `project_dir`) and `path`."""
        candidates = []
        if self.relative and project_dir is not None:
            candidates.append(Path(project_dir) / self.relative)
        candidates.append(Path(self.path))
        return next((p for p in candidates if p.is_file()), None)


@dataclass
class Project:
    """Everything needed to continue work on a transcription.

    `edits` are plain-data edits (`clef_app.notation.edits`, `to_dict` form) in undo order;
    `edit_index` edits have been applied to reach `notes` (the rest are redoable). A
    loaded project's edits have been checked: `decoded_edits()` turns them into Edits.
    `source_path` is set only in recovery files: the project the recovered work belongs to.
    """

    notes: list[NoteEvent] = field(default_factory=list)
    audio: EmbeddedAudio | ReferencedAudio | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    edit_index: int = 0
    source_path: str | None = None
    saved_at: str = ""
    app_version: str = __version__
    # the notes the user touched and deleted, as of the last save (`notation.corrections`);
    # the history says the same when it holds the edits, and is what a reader trusts then
    corrections: Corrections | None = None

    def decoded_edits(self) -> list[Edit]:
        """The history as `Edit` objects (ProjectError if one is malformed)."""
        return decode_edits("project", self.edits)


def save_project(project: Project, path: str | Path) -> None:
    """Write `project` to `path` atomically (the old file stays intact on any failure).

    Raises:
        ProjectError: the project cannot be written (too large, disk full, no permission).
    """
    path = Path(path)
    try:
        members = _members(project, path)
        with atomic_writer(path) as stream:
            write_container(stream, members)
    except ProjectError:
        raise
    except (OSError, ValueError, TypeError, sf.LibsndfileError) as exc:
        raise ProjectError(f"{path.name}: cannot save ({str(exc)[:160]})") from exc


def load_project(path: str | Path) -> Project:
    """Read and validate a project file.

    Raises:
        ProjectError: the file is missing, damaged, from a newer Clef, or breaks the format.
    """
    path = Path(path)
    try:
        with Container(path) as container:
            return _read(container, path.name)
    except ProjectError:
        raise
    except MemoryError as exc:
        raise ProjectError(f"{path.name}: too large to open") from exc
    except Exception as exc:  # the boundary for hostile input: nothing else escapes
        detail = f"{type(exc).__name__}: {exc}"[:160]
        raise ProjectError(f"{path.name}: damaged project ({detail})") from exc


def _members(project: Project, path: Path) -> list[tuple[str, bytes, bool]]:
    if len(project.notes) > MAX_NOTES or len(project.edits) > MAX_EDITS:
        raise ProjectError(f"{path.name}: too many notes or edits to save")
    if not 0 <= project.edit_index <= len(project.edits):
        raise ProjectError(f"{path.name}: edit index {project.edit_index} outside the history")
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "audio": None,
        "notes": [note_to_dict(n) for n in sort_notes(project.notes)],
        "settings": project.settings,
        "history": {"edits": project.edits, "index": project.edit_index},
    }
    if project.corrections is not None:
        manifest["corrections"] = project.corrections.to_dict(project.notes)
    if project.source_path is not None:
        manifest["recovery"] = {"source_path": str(project.source_path)}
    members: list[tuple[str, bytes, bool]] = []
    if isinstance(project.audio, EmbeddedAudio):
        flac = _encode_flac(project.audio)
        manifest["audio"] = {
            "mode": "embedded", "member": AUDIO_MEMBER,
            "sample_rate": int(project.audio.sample_rate),
            "frames": int(len(project.audio.samples)),
            "sha256": hashlib.sha256(flac).hexdigest(),
        }
        members.append((AUDIO_MEMBER, flac, False))  # FLAC is compressed already
    elif isinstance(project.audio, ReferencedAudio):
        manifest["audio"] = _reference_json(project.audio, path)
    data = json.dumps(manifest, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")
    if len(data) > MAX_JSON_BYTES:
        raise ProjectError(f"{path.name}: the project's data exceed {MAX_JSON_BYTES // 2**20} MiB")
    return [(MANIFEST, data, True), *members]


def _reference_json(audio: ReferencedAudio, project_path: Path) -> dict[str, Any]:
    absolute = os.path.abspath(audio.path)
    try:
        relative = os.path.relpath(absolute, os.path.abspath(project_path.parent))
    except ValueError:  # another drive on Windows
        relative = None
    return {"mode": "referenced", "path": absolute, "relative": relative}


def _encode_flac(audio: EmbeddedAudio) -> bytes:
    samples = np.asarray(audio.samples, dtype=np.float32)
    if samples.ndim != 1 or len(samples) == 0:
        raise ProjectError("the recording to embed must be mono and not empty")
    if not 0 < audio.sample_rate <= MAX_SAMPLE_RATE:
        raise ProjectError(f"cannot embed audio at {audio.sample_rate} Hz")
    clean = np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, clean, int(audio.sample_rate), format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def _read(container: Container, name: str) -> Project:
    manifest = parse_json(name, container.read(MANIFEST, MAX_JSON_BYTES))
    top = Fields(name, "project", manifest)
    if manifest.get("format") != FORMAT_NAME:
        raise ProjectError(f"{name}: not a Clef project (project.json has no Clef format tag)")
    version = manifest.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(f"{name}: the project's format version is missing or invalid")
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"{name}: made by a newer Clef (format version {version}; this Clef reads up to "
            f"{FORMAT_VERSION}). Update Clef to open it."
        )
    settings = manifest.get("settings", {})
    if not isinstance(settings, dict):
        raise ProjectError(f"{name}: project.settings must be an object")
    check_settings(name, settings)
    edits, index = read_edits(name, top.child("history")) if top.has("history") else ([], 0)
    decode_edits(name, edits)
    source = None
    if top.has("recovery"):
        source = top.child("recovery").string("source_path", MAX_PATH_CHARS)
        if not source.endswith(PROJECT_SUFFIX):
            raise ProjectError(f"{name}: recovery.source_path must be a {PROJECT_SUFFIX} file")
    return Project(
        notes=read_notes(name, top.array("notes", MAX_NOTES)),
        audio=_read_audio(container, name, top) if top.has("audio") else None,
        settings=settings,
        edits=edits,
        edit_index=index,
        source_path=source,
        saved_at=top.string("saved_at", 64, ""),
        app_version=top.string("app_version", 64, ""),
        corrections=_read_corrections(name, top) if top.has("corrections") else None,
    )


def _read_corrections(name: str, top: Fields) -> Corrections:
    """`corrections`: {"touched": [note ids], "deleted": [notes]} (added in Clef 0.1 without a
    format bump: older readers skip it, and a project without it has none)."""
    f = top.child("corrections")
    touched = f.array("touched", MAX_NOTES) if f.has("touched") else []
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in touched):
        raise ProjectError(f"{name}: corrections.touched must hold note ids")
    deleted = f.array("deleted", MAX_NOTES) if f.has("deleted") else []
    return from_dict({"touched": touched}, read_notes(name, deleted, "corrections.deleted"))


def _read_audio(container: Container, name: str, top: Fields) -> EmbeddedAudio | ReferencedAudio:
    f = top.child("audio")
    mode = f.obj.get("mode")
    if mode == "referenced":
        relative = audio_path_text(f, "relative") if f.has("relative") else None
        return ReferencedAudio(audio_path_text(f, "path"), relative)
    if mode != "embedded":
        raise f.fail("mode", "must be 'embedded' or 'referenced'")
    if f.obj.get("member") != AUDIO_MEMBER:
        raise f.fail("member", f"must be '{AUDIO_MEMBER}'")
    rate = f.integer("sample_rate", 1, MAX_SAMPLE_RATE)
    frames = f.integer("frames", 1, MAX_EMBEDDED_FRAMES)
    if frames > MAX_SECONDS * rate:
        raise f.fail("frames", f"make {frames / rate / 3600:.1f} hours; a recording Clef opens "
                               f"lasts at most {MAX_SECONDS // 3600}")
    digest = f.string("sha256", 64)
    # FLAC never takes more than its 24-bit samples verbatim plus frame headers: a member
    # larger than that for the frames it claims is refused before it is inflated
    data = container.read(AUDIO_MEMBER, min(MAX_AUDIO_BYTES, 4 * frames + FLAC_SLACK_BYTES))
    if hashlib.sha256(data).hexdigest() != digest:
        raise ProjectError(f"{name}: the embedded recording is damaged (checksum mismatch)")
    return EmbeddedAudio(_decode_flac(name, data, rate, frames), rate)


def _decode_flac(name: str, data: bytes, rate: int, frames: int) -> np.ndarray:
    """Mono samples of embedded FLAC whose header must say `rate` and `frames`, checked
    before a sample is decoded (a header may claim far more than the manifest)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if (f.samplerate, f.frames, f.channels) != (rate, frames, 1):
                raise ProjectError(
                    f"{name}: the embedded recording does not match its description")
            samples = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise ProjectError(f"{name}: the embedded recording cannot be decoded ({exc})") from exc
    if samples.shape != (frames, 1):
        raise ProjectError(f"{name}: the embedded recording does not match its description")
    return np.ascontiguousarray(samples[:, 0])
