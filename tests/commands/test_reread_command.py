"""`clef reread` on a project file: the user's moved note stays, the deleted one stays
deleted, the replacement is one more edit in the history, and no file is overwritten
without being told to."""

from dataclasses import replace
from pathlib import Path

import pytest

from clef_app.audio.io import load_audio
from clef_app.cli import main
from clef_app.model.location import find_checkpoint
from clef_app.notation import note_edits
from clef_app.notation.corrections import REREAD, Corrections, of_history
from clef_app.notation.edits import NoteEdit
from clef_app.notation.events import read_notes_tsv
from clef_app.project import EmbeddedAudio, Project, load_project, save_project

DATA = Path(__file__).resolve().parents[1] / "data"


def _project(tmp_path: Path) -> tuple[Path, Project]:
    audio = load_audio(DATA / "opening.flac")
    notes = read_notes_tsv(DATA / "opening.notes.tsv")
    inside = [n for n in notes if 1.0 <= n.onset < 4.0]
    moved = replace(inside[0], onset=inside[0].onset + 0.03, offset=inside[0].offset + 0.03)
    gone = max(inside[4:], key=lambda n: n.confidence)
    edits = [NoteEdit.replace("Transcribe", [], notes),
             NoteEdit.replace(note_edits.MOVE, [inside[0]], [moved]),
             NoteEdit(note_edits.DELETE, (gone,), ())]
    now = [moved if n.id == moved.id else n for n in notes if n.id != gone.id]
    project = Project(notes=now, audio=EmbeddedAudio(audio.samples, audio.sample_rate),
                      edits=[e.to_dict() for e in edits], edit_index=3,
                      corrections=of_history(edits, 3))
    path = tmp_path / "take.clef"
    save_project(project, path)
    return path, project


def test_corrections_are_saved_and_a_project_without_them_still_opens(tmp_path):
    path, project = _project(tmp_path)
    loaded = load_project(path)
    assert loaded.corrections == project.corrections
    assert len(loaded.corrections.touched) == 1 and len(loaded.corrections.deleted) == 1
    assert of_history(loaded.decoded_edits(), 3) == loaded.corrections
    assert of_history(loaded.decoded_edits(), 2).deleted == ()  # undoing forgets it
    old = replace(loaded, corrections=None)  # as an earlier Clef wrote it
    save_project(old, tmp_path / "old.clef")
    assert load_project(tmp_path / "old.clef").corrections is None
    assert of_history([], 0, None) == Corrections()


@pytest.mark.skipif(find_checkpoint() is None, reason="no shipped checkpoint")
def test_clef_reread_keeps_the_fixes_and_adds_one_edit(tmp_path, capsys):
    path, project = _project(tmp_path)
    moved = next(n for n in project.notes if n.id in project.corrections.touched)
    gone = project.corrections.deleted[0]
    out = tmp_path / "again.clef"
    args = ["reread", str(path), "--start", "1", "--end", "4", "--threads", "1"]
    assert main([*args, "-o", str(out)]) == 0
    assert "1 of your notes kept" in capsys.readouterr().err
    got = load_project(out)
    assert moved in got.notes and moved.onset == next(
        n for n in got.notes if n.id == moved.id).onset
    assert not [n for n in got.notes if n.pitch == gone.pitch
                and abs(n.onset - gone.onset) <= 0.05]
    assert len(got.edits) == 4 and got.edits[-1]["text"] == REREAD and got.edit_index == 4
    before = path.read_bytes()
    assert main([*args, "-o", str(out)]) == 2  # exists: refused
    assert "--force" in capsys.readouterr().err
    assert main([*args, "-o", str(path)]) == 2 and path.read_bytes() == before
