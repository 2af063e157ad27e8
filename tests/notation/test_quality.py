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
    assert out[0] == "performance style: gentle" and out[1].startswith("piece")
    assert any(line.startswith("mean") for line in out)


def test_without_a_checkpoint_the_model_mode_fails_with_one_line(capsys):
    import pytest

    from clef_app.model.checkpoint import find_checkpoint

    if find_checkpoint() is not None:
        pytest.skip("a checkpoint is installed: the model mode would run for minutes")
    assert main(["score-eval", "--pieces", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--oracle" in err[0]


def test_realistic_styles_report_agreement_and_readability(capsys):
    from clef_app.notation.quality import STYLES

    assert main(["score-eval", "--oracle", "--pieces", "1", "--method", "auto", "--style",
                 "spread"]) == 0
    out = capsys.readouterr().out
    assert "performance style: spread" in out and "tup/bar" in out and "<16th" in out
    piece = PIECES[0]
    for style in STYLES:
        row = evaluate_piece(piece, "auto", oracle=True, seed=0, style=style)
        assert row.read is not None and row.read.notes > 100
        assert row.onset > 0.6, (style, row.onset)  # a chorale survives pianist's timing


def test_maps_mode_scores_ground_truth_notes_and_checks_the_targets(tmp_path, capsys):
    """A maps-dev-like folder (the real one is evaluation data, not shipped): one
    recording's notes, Schumann's Fürchtenmachen by name, a test piece in fact."""
    from clef_app.notation.events import write_notes_tsv

    from .test_readable_rhythm import schneller

    write_notes_tsv(schneller(), tmp_path / "MAPS_MUS-scn15_11_ENSTDkAm.notes.tsv")
    assert main(["score-eval", "--maps", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "scn15_11_ENSTDkAm" in out and "/2/4" in out
    assert "targets:" in out and "no tuplets where the piece has none (1 recordings): 0" in out
    assert main(["score-eval", "--maps", str(tmp_path / "nothing")]) == 2
