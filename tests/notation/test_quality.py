"""`clef score-eval --oracle`: Clef's score of a held-out piece against the composer's."""

from __future__ import annotations

from clef_app.cli import main
from clef_app.notation.quality import PIECES, evaluate_piece, format_table, match


def test_clef_beats_the_fixed_grid_baseline_on_a_chorale():
    piece = PIECES[0]
    auto = evaluate_piece(piece, "auto", oracle=True, seed=0)
    simple = evaluate_piece(piece, "simple", oracle=True, seed=0)
    assert auto.notes == simple.notes > 100
    assert auto.onset > 0.9 and auto.duration > 0.8 and auto.pitch > 0.9
    assert auto.meter_ok and auto.key_ok
    assert simple.onset < 0.5  # a fixed 120 BPM grid does not fit a chorale at 84
    table = format_table([simple, auto])
    assert "bach/bwv117.4" in table and "mean" in table


def test_match_pairs_same_pitch_nearest_onset_one_to_one():
    from clef_app.notation.events import NoteEvent

    played = [NoteEvent(1.0, 1.5, 60), NoteEvent(1.0, 1.5, 64), NoteEvent(2.0, 2.5, 60)]
    heard = [NoteEvent(1.02, 1.4, 60), NoteEvent(1.03, 1.4, 60), NoteEvent(2.2, 2.5, 60)]
    pairs = match(heard, played)
    assert pairs == {heard[0].id: played[0].id}


def test_command_prints_one_table(capsys):
    assert main(["score-eval", "--oracle", "--pieces", "1", "--method", "auto"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("piece") and any(line.startswith("mean") for line in out)


def test_without_a_checkpoint_the_model_mode_fails_with_one_line(capsys):
    import pytest

    from clef_app.model.checkpoint import find_checkpoint

    if find_checkpoint() is not None:
        pytest.skip("a checkpoint is installed: the model mode would run for minutes")
    assert main(["score-eval", "--pieces", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--oracle" in err[0]
