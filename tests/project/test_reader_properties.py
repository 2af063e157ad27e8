"""Property-based tests of the project reader: whatever the bytes, a Project or a ProjectError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clef_app.notation.events import NoteEvent
from clef_app.project import EmbeddedAudio, Project, ProjectError, load_project, save_project
from tests.project.zips import manifest, write_project

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _expected(exc: ProjectError) -> None:
    """A reason the reader checks for, not its last-resort net for unforeseen exceptions."""
    assert "damaged project (" not in str(exc), exc


def _load_bytes(data: bytes) -> Project | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.clef"
        path.write_bytes(data)
        try:
            return load_project(path)
        except ProjectError as exc:
            assert str(exc).startswith("p.clef: ")
            _expected(exc)
            return None


def _valid_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.clef"
        notes = [NoteEvent(i * 0.1, i * 0.1 + 0.3, 50 + i, id=i + 1) for i in range(5)]
        audio = EmbeddedAudio(np.linspace(-0.2, 0.2, 400, dtype=np.float32), 8000)
        save_project(Project(notes=notes, audio=audio, settings={"grid": "1/16"}), path)
        return path.read_bytes()


VALID = _valid_bytes()


@SETTINGS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash(data):
    _load_bytes(data)


@SETTINGS
@given(st.binary(min_size=4, max_size=2048))
def test_arbitrary_bytes_after_a_zip_signature_never_crash(data):
    _load_bytes(b"PK\x03\x04" + data)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)),
                min_size=1, max_size=8))
def test_corrupted_valid_project_never_crashes(flips):
    data = bytearray(VALID)
    for at, value in flips:
        data[at] = value
    _load_bytes(bytes(data))


@SETTINGS
@given(st.integers(0, len(VALID)))
def test_any_truncation_never_crashes(keep):
    assert (_load_bytes(VALID[:keep]) is not None) == (keep == len(VALID))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=20,
)
fields = st.sampled_from(["version", "audio", "notes", "settings", "history", "recovery",
                          "format"])


@SETTINGS
@given(st.dictionaries(fields, json_values, max_size=4))
def test_arbitrary_field_values_never_crash(overrides):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_project(Path(tmp) / "p.clef", json.dumps(manifest(**overrides)).encode())
        try:
            load_project(path)
        except ProjectError as exc:
            _expected(exc)


note_values = st.fixed_dictionaries(
    {}, optional={k: json_values for k in ("onset", "offset", "pitch", "velocity", "id",
                                           "confidence")})


@SETTINGS
@given(st.lists(note_values, max_size=5), st.lists(json_values, max_size=3))
def test_arbitrary_notes_and_edits_never_crash(notes, edits):
    body = manifest(notes=notes, history={"edits": [{"kind": "notes", "text": "t",
                                                     "added": notes}, *edits], "index": 0})
    with tempfile.TemporaryDirectory() as tmp:
        path = write_project(Path(tmp) / "p.clef", json.dumps(body).encode())
        try:
            project = load_project(path)
        except ProjectError as exc:
            _expected(exc)
            return
    assert all(0 <= n.pitch <= 127 and n.offset > n.onset for n in project.notes)
    project.decoded_edits()
