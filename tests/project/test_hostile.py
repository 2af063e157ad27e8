"""Malformed, truncated, future-version and hostile project files: a clear ProjectError each,
nothing written anywhere, nothing executed."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.project import Project, ProjectError, load_project, save_project
from tests.project.zips import manifest, write_project, write_zip


def _flac(frames: int = 100, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(frames, np.float32), rate, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def _note(**kw):
    return {"onset": 0.0, "offset": 1.0, "pitch": 60, "id": 1, **kw}


BAD_MANIFESTS = {
    "future version": (manifest(version=99), "newer Clef.*version 99"),
    "version missing": (manifest(version=None), "format version is missing"),
    "version is text": (manifest(version="1"), "format version is missing"),
    "not a clef project": (manifest(format="other-app"), "not a Clef project"),
    "pitch out of range": (manifest(notes=[_note(pitch=300)]), r"notes\[0\]\.pitch must lie"),
    "offset before onset": (manifest(notes=[_note(offset=0.0)]), "must be after the onset"),
    "repeated id": (manifest(notes=[_note(), _note()]), "repeats id 1"),
    "boolean pitch": (manifest(notes=[_note(pitch=True)]), "whole number"),
    "note is a list": (manifest(notes=[[0, 1, 60]]), r"notes\[0\] must be an object"),
    "notes not a list": (manifest(notes={"a": 1}), "must be a list"),
    "settings not an object": (manifest(settings=[1]), "settings must be an object"),
    "settings invalid": (manifest(settings={"grid": "1/7"}), "settings is not valid"),
    "history index too far": (manifest(history={"edits": [], "index": 3}), "index must lie"),
    "unknown edit kind": (manifest(history={"edits": [{"kind": "rm -rf"}], "index": 1}),
                          "must be 'notes' or 'settings'"),
    "edit with bad note": (
        manifest(history={"edits": [{"kind": "notes", "text": "x", "added": [_note(pitch=-1)]}],
                          "index": 1}), r"edits\[0\]\.added\[0\]\.pitch"),
    "settings edit bad value": (
        manifest(history={"edits": [{"kind": "settings", "text": "x", "key": "grid",
                                     "new": "1/3"}], "index": 1}), "new is not valid"),
    "audio mode unknown": (manifest(audio={"mode": "stream"}), "audio.mode must be"),
    "referenced non-audio": (manifest(audio={"mode": "referenced", "path": "/etc/passwd"}),
                             "must name an audio file"),
    "referenced path with NUL": (manifest(audio={"mode": "referenced", "path": "a\x00.wav"}),
                                 "without NUL"),
    "embedded member renamed": (manifest(audio={"mode": "embedded", "member": "../x.flac"}),
                                "member must be 'audio.flac'"),
    "embedded audio missing": (
        manifest(audio={"mode": "embedded", "member": "audio.flac", "sample_rate": 8000,
                        "frames": 100, "sha256": "0" * 64}), "has no 'audio.flac'"),
    "recovery source not a project": (manifest(recovery={"source_path": "/home/u/.bashrc"}),
                                      "must be a .clef file"),
    "top level is a list": ([1, 2], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_bad_manifest(tmp_path, case):
    body, message = BAD_MANIFESTS[case]
    path = tmp_path / "p.clef"
    write_project(path, json.dumps(body).encode())
    with pytest.raises(ProjectError, match=message):
        load_project(path)


BAD_JSON = {
    "not json": (b"{not json", "not valid JSON"),
    "NaN": (b'{"format": "clef-project", "version": 1, "notes": [{"onset": NaN}]}', "NaN"),
    "Infinity": (b'{"format": "clef-project", "version": 1, "x": -Infinity}', "Infinity"),
    "not utf-8": (b'{"format": "\xff\xfe"}', "not UTF-8"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "too many objects|nested too deeply"),
    "huge integer": (b'{"version": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    "empty": (b"", "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_bad_json(tmp_path, case):
    data, message = BAD_JSON[case]
    with pytest.raises(ProjectError, match=message):
        load_project(write_project(tmp_path / "p.clef", data))


def test_deep_nesting_below_the_container_cap(tmp_path):
    data = b"[" * 50_000 + b"]" * 50_000
    with pytest.raises(ProjectError, match="nested too deeply|not a JSON object"):
        load_project(write_project(tmp_path / "p.clef", data))


def test_empty_and_non_zip_files(tmp_path):
    (tmp_path / "empty.clef").write_bytes(b"")
    (tmp_path / "text.clef").write_text("hello")
    for name in ("empty.clef", "text.clef"):
        with pytest.raises(ProjectError, match="not a Clef project"):
            load_project(tmp_path / name)
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "missing.clef")
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path)  # a folder


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_truncated_project(tmp_path, keep):
    path = tmp_path / "p.clef"
    save_project(Project(notes=[]), path)
    from clef_app.project import EmbeddedAudio
    save_project(Project(audio=EmbeddedAudio(np.random.default_rng(0).standard_normal(8000)
                                             .astype(np.float32) * 0.1, 8000)), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ProjectError):
        load_project(path)


def test_flipped_byte_in_embedded_audio_is_caught(tmp_path):
    from clef_app.project import EmbeddedAudio
    path = tmp_path / "p.clef"
    save_project(Project(audio=EmbeddedAudio(np.full(4000, 0.25, np.float32), 8000)), path)
    data = bytearray(path.read_bytes())
    at = data.find(b"fLaC") + 200
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectError, match="damaged"):
        load_project(path)


def test_embedded_audio_that_does_not_match_its_description(tmp_path):
    flac = _flac(100)
    import hashlib
    body = manifest(audio={"mode": "embedded", "member": "audio.flac", "sample_rate": 8000,
                           "frames": 999, "sha256": hashlib.sha256(flac).hexdigest()})
    path = write_project(tmp_path / "p.clef", body, ("audio.flac", flac))
    with pytest.raises(ProjectError, match="does not match"):
        load_project(path)


def test_embedded_audio_that_is_not_flac(tmp_path):
    import hashlib
    junk = b"#!/bin/sh\nrm -rf /\n"
    body = manifest(audio={"mode": "embedded", "member": "audio.flac", "sample_rate": 8000,
                           "frames": 10, "sha256": hashlib.sha256(junk).hexdigest()})
    with pytest.raises(ProjectError, match="cannot be decoded"):
        load_project(write_project(tmp_path / "p.clef", body, ("audio.flac", junk)))


HOSTILE_NAMES = ["../evil.txt", "/etc/cron.d/evil", "..\\evil.txt", "a/../../evil.txt",
                 "C:/evil.txt", "sub/project.json", ".hidden", "é.txt", "x" * 300]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_member_names_that_could_escape(tmp_path, name):
    inside = tmp_path / "inside"
    inside.mkdir()
    path = write_zip(inside / "p.clef", [("project.json", json.dumps(manifest()).encode()),
                                         (name, b"owned")])
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(ProjectError, match="unsafe member name"):
        load_project(path)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not Path("/etc/cron.d/evil").exists()


def test_symlink_member(tmp_path):
    def as_link(info):
        info.external_attr = (stat.S_IFLNK | 0o777) << 16

    path = write_zip(tmp_path / "p.clef", [("project.json", b"/etc/passwd")], tweak=as_link)
    with pytest.raises(ProjectError, match="symbolic link"):
        load_project(path)


def test_duplicate_members(tmp_path):
    body = json.dumps(manifest()).encode()
    with pytest.warns(UserWarning):  # zipfile warns on a duplicate name
        path = write_zip(tmp_path / "p.clef", [("project.json", body), ("project.json", body)])
    with pytest.raises(ProjectError, match="appears twice"):
        load_project(path)


def test_too_many_members(tmp_path):
    members = [("project.json", json.dumps(manifest()).encode())]
    members += [(f"m{i}", b"") for i in range(100)]
    with pytest.raises(ProjectError, match="101 members"):
        load_project(write_zip(tmp_path / "p.clef", members))


def test_unsupported_compression(tmp_path):
    path = write_zip(tmp_path / "p.clef", [("project.json", json.dumps(manifest()).encode())],
                     method=zipfile.ZIP_BZIP2)
    with pytest.raises(ProjectError, match="unsupported compression"):
        load_project(path)


def test_encrypted_flag(tmp_path):
    path = write_zip(tmp_path / "p.clef", [("project.json", json.dumps(manifest()).encode())])
    data = bytearray(path.read_bytes())
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(sig)
        data[at + flag_at] |= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectError, match="encrypted"):
        load_project(path)


def test_zip_bomb_is_refused_without_inflating(tmp_path):
    """64 MiB of spaces deflate to ~64 KiB; the declared size alone refuses it."""
    path = tmp_path / "bomb.clef"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("project.json", "w", force_zip64=True) as out:
            chunk = b" " * 2**24
            for _ in range(4):
                out.write(chunk)
    assert path.stat().st_size < 2**20
    with pytest.raises(ProjectError, match="at most"):
        load_project(path)


def test_zip_bomb_that_lies_about_its_size(tmp_path):
    """A header claiming 100 bytes over a member that inflates to 64 MiB: read stops at 100."""
    path = tmp_path / "liar.clef"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.json", b"{" + b" " * 2**26 + b"}")
    data = bytearray(path.read_bytes())
    import struct
    real = struct.pack("<I", 2**26 + 2)
    fake = struct.pack("<I", 100)
    data = data.replace(real, fake)
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectError):
        load_project(path)
