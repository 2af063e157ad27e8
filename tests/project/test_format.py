"""Saving and loading projects: round trips, atomic saves, and the format's own checks."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from clef_app.notation.edits import NoteEdit, SettingsEdit
from clef_app.notation.events import NoteEvent, new_note_id
from clef_app.project import (
    FORMAT_VERSION,
    EmbeddedAudio,
    Project,
    ProjectError,
    ReferencedAudio,
    load_project,
    save_project,
)
from tests.project.zips import manifest, write_project


def _project(audio=None) -> Project:
    a, b = NoteEvent(0.25, 0.75, 60, 90, confidence=0.5), NoteEvent(0.5, 1.5, 64, 70)
    moved = a.moved(0.1, 2)
    edits = [NoteEdit("Add Notes", (), (a, b)), NoteEdit("Move Note", (a,), (moved,)),
             SettingsEdit("Change grid", "grid", None, "1/16")]
    return Project(notes=[moved, b], audio=audio, settings={"grid": "1/16", "title": "Take"},
                   edits=[e.to_dict() for e in edits], edit_index=3)


def test_round_trip_with_embedded_audio(tmp_path):
    tone = (0.5 * np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050)).astype(np.float32)
    original = _project(EmbeddedAudio(tone, 22050))
    save_project(original, tmp_path / "take.clef")
    back = load_project(tmp_path / "take.clef")
    assert back.notes == original.notes
    assert [n.id for n in back.notes] == [n.id for n in original.notes]
    assert [n.confidence for n in back.notes] == [n.confidence for n in original.notes]
    assert back.settings == original.settings
    assert back.edits == original.edits and back.edit_index == 3
    assert [e.text for e in back.decoded_edits()] == ["Add Notes", "Move Note", "Change grid"]
    assert back.audio.sample_rate == 22050
    np.testing.assert_allclose(back.audio.samples, tone, atol=2**-22)  # 24-bit FLAC


def test_referenced_audio_is_found_relative_after_moving_both(tmp_path):
    (tmp_path / "a").mkdir()
    wav = tmp_path / "a" / "take.wav"
    wav.write_bytes(b"RIFF")  # only its existence matters here
    save_project(_project(ReferencedAudio(str(wav))), tmp_path / "a" / "p.clef")
    os.rename(tmp_path / "a", tmp_path / "b")
    back = load_project(tmp_path / "b" / "p.clef")
    assert back.audio.relative == "take.wav"
    assert back.audio.resolve(tmp_path / "b") == tmp_path / "b" / "take.wav"


def test_loaded_ids_are_never_reused(tmp_path):
    body = manifest(notes=[{"onset": 0, "offset": 1, "pitch": 60, "id": 10**9}])
    load_project(write_project(tmp_path / "p.clef", body))
    assert new_note_id() > 10**9


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.clef"
    save_project(_project(), path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ProjectError, match="No space left"):
        save_project(Project(notes=[]), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.clef"]  # no temp file left


def test_save_into_missing_folder_is_a_project_error(tmp_path):
    with pytest.raises(ProjectError, match="cannot save"):
        save_project(_project(), tmp_path / "nope" / "p.clef")


def test_saved_file_is_a_plain_zip_with_documented_members(tmp_path):
    save_project(_project(EmbeddedAudio(np.zeros(100, np.float32), 8000)), tmp_path / "p.clef")
    with zipfile.ZipFile(tmp_path / "p.clef") as zf:
        assert zf.namelist() == ["project.json", "audio.flac"]
        body = json.loads(zf.read("project.json"))
    assert body["format"] == "clef-project" and body["version"] == FORMAT_VERSION
    assert body["audio"]["mode"] == "embedded" and body["audio"]["frames"] == 100


def test_notes_only_project(tmp_path):
    save_project(Project(notes=[NoteEvent(0, 1, 21)]), tmp_path / "p.clef")
    back = load_project(tmp_path / "p.clef")
    assert back.audio is None and [n.pitch for n in back.notes] == [21]
