"""Adapting to the user's corrections: on a tiny fixture (the committed 6-s clip and notes
the user marked or deleted) the shipped model's loss goes down, the personal checkpoint
loads and transcribes, the bundled one is never written, and too few corrections are
refused with the reason."""

from pathlib import Path

import pytest

from clef_app.audio.io import load_audio
from clef_app.model.location import BUNDLED, find_checkpoint
from clef_app.notation.corrections import Corrections
from clef_app.notation.events import read_notes_tsv

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.skipif(find_checkpoint() is None, reason="no shipped checkpoint")


@pytest.fixture(scope="module")
def fixture():
    import torch

    from clef_app.model.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    torch.manual_seed(0)
    notes = read_notes_tsv(DATA / "opening.notes.tsv")
    samples = load_audio(DATA / "opening.flac", 16_000).samples
    return load_checkpoint(BUNDLED), samples, notes


def test_too_few_corrections_are_refused_with_the_reason(fixture):
    from clef_app.training.adapt import AdaptError, Corrected, check_enough

    model, samples, notes = fixture
    few = Corrected("take", samples, notes, Corrections(frozenset(n.id for n in notes[:3])))
    with pytest.raises(AdaptError, match="too few corrections.*3 corrected notes"):
        check_enough([few], 256, 100)


def test_adapting_lowers_the_fixtures_loss_and_writes_a_loadable_checkpoint(fixture, tmp_path):
    from clef_app.model.checkpoint import load_checkpoint, read_config
    from clef_app.model.pipeline import Pipeline
    from clef_app.training import adapt

    model, samples, notes = fixture
    fixes = Corrections(frozenset(n.id for n in notes[1:]), (notes[0],))
    item = adapt.Corrected("take", samples, notes[1:], fixes)
    data = adapt.build_segments(model, [item])
    assert len(data.tokens) == 3  # every segment of the 6-s clip holds a correction
    frozen = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    before = adapt.mean_loss(model, data)
    losses = [loss for _, loss in adapt.fine_tune(model, data, steps=8)]
    after = adapt.mean_loss(model, data)
    assert len(losses) == 8 and after < before - 0.01
    assert all((v == model.encoder.state_dict()[k]).all() for k, v in frozen.items())
    out = tmp_path / "personal.safetensors"
    adapt.save_personal(model, out, BUNDLED, read_config(BUNDLED)[1], {"loss_after": after})
    meta = read_config(out)[1]
    assert meta["adapted"]["from"] == BUNDLED.name and meta["passes"]["count"] == 3
    base_meta = read_config(BUNDLED)[1]
    assert all(meta[k] == base_meta[k] for k in adapt.BASE_KEYS if k in base_meta)
    assert meta["restrike_gap"] == base_meta["restrike_gap"]  # v6 decodes with it
    again = load_checkpoint(out)
    assert adapt.mean_loss(again, adapt.build_segments(again, [item])) == pytest.approx(
        after, rel=1e-3)
    assert Pipeline.load(out, device="cpu").transcribe_all(samples, 16_000)
    with pytest.raises(adapt.AdaptError, match="adapted from"):
        adapt.save_personal(model, BUNDLED, BUNDLED, meta, {})


def corrected_project(path: Path, marked: int) -> Path:
    """A project of the 6-s clip, transcribed, with its first `marked` notes marked as
    right (30 notes in all, in its three 2.56-s segments)."""
    from clef_app.notation import note_edits
    from clef_app.notation.edits import NoteEdit
    from clef_app.project import EmbeddedAudio, Project, save_project

    audio = load_audio(DATA / "opening.flac")
    notes = read_notes_tsv(DATA / "opening.notes.tsv")
    edits = [NoteEdit.replace("Transcribe", [], notes),
             note_edits.confirm(notes, [n.id for n in notes[:marked]])]
    save_project(Project(notes=notes, audio=EmbeddedAudio(audio.samples, audio.sample_rate),
                         edits=[e.to_dict() for e in edits], edit_index=2), path)
    return path


def test_clef_adapt_refuses_a_project_with_too_few_corrections(tmp_path, capsys):
    from clef_app.cli import main

    path = corrected_project(tmp_path / "take.clef", marked=1)
    out = tmp_path / "personal.safetensors"
    assert main(["adapt", str(path), "-o", str(out), "--threads", "1"]) == 2
    assert "too few corrections to learn from: 1 corrected notes" in capsys.readouterr().err
    assert not out.exists()


def test_adaptation_targets_are_written_as_the_training_caches(fixture):
    """The segments `clef adapt` learns from hold the tokens and rolls `clef cache` writes for
    the same notes (issue 19: adapting wrote fewer notes everywhere; a convention of its own,
    such as note ends, ties or EOS, would have been a cause)."""
    import numpy as np

    from clef_app.training import adapt
    from clef_app.training.cache import clip_segments

    model, samples, notes = fixture
    item = adapt.Corrected("take", samples, notes, Corrections(frozenset(n.id for n in notes)))
    data = adapt.build_segments(model, [item])
    _, targets, rolls = clip_segments(DATA / "opening.flac", DATA / "opening.notes.tsv", model.cfg)
    assert len(targets) >= 2
    for k, (tokens, packed) in enumerate(zip(targets, rolls, strict=True)):
        row = data.tokens[k].tolist()
        assert row[:len(tokens)] == tokens[:model.cfg.max_tokens]
        assert not any(row[len(tokens):])  # PAD after the segment's EOS
        roll = np.unpackbits(packed, axis=-1, count=data.rolls.shape[-1]).astype(bool)
        assert (data.rolls[k].numpy().astype(bool) == roll).all()
