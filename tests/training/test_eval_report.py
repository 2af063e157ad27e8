"""`clef eval`'s report: maps-dev's two groups, both onset tolerances, recall per octave."""

from pathlib import Path

import pytest

from clef_app.cli import main
from clef_app.notation.events import NoteEvent
from clef_app.training.evaluate import group_of, groups, markdown_table
from clef_app.training.metrics import note_scores

SLOW = "MAPS_MUS-scn15_11_ENSTDkAm.flac"
FAST = "MAPS_MUS-chpn-e01_ENSTDkCl.flac"


def _row(name: str, ref: list[NoteEvent], est: list[NoteEvent]) -> dict:
    return {"file": name, "seconds": 10.0, "rtf": 0.1, **note_scores(ref, est)}


def test_maps_files_fall_into_the_readme_groups():
    assert group_of(SLOW) == "slow"
    assert group_of(FAST) == "fast"
    assert group_of("MAPS_MUS-chpn_op25_e3_ENSTDkAm.flac") == "fast"
    assert group_of("val_000.flac") == "all"
    rows = [{"file": SLOW}, {"file": FAST}, {"file": FAST}]
    assert {k: len(v) for k, v in groups(rows).items()} == {"slow": 1, "fast": 2, "all": 3}


def test_table_reports_both_tolerances_and_recall_per_octave():
    # octave 2 (C2-B2): two notes, one found 30 ms late, one 80 ms late; octave 5 found exactly
    ref = [NoteEvent(1.0, 1.5, 40), NoteEvent(2.0, 2.5, 41), NoteEvent(3.0, 3.5, 72)]
    est = [NoteEvent(1.03, 1.5, 40), NoteEvent(2.08, 2.5, 41), NoteEvent(3.0, 3.5, 72)]
    row = _row(FAST, ref, est)
    assert row["onset_r"] == pytest.approx(2 / 3)
    assert row["onset100_r"] == pytest.approx(1.0)
    table = markdown_table({"Clef": [row]})
    lines = table.splitlines()
    assert any(line.startswith("| fast | Clef | 1 |") for line in lines)
    oct50 = next(line for line in lines if line.startswith("| fast | Clef | 50 ms |"))
    oct100 = next(line for line in lines if line.startswith("| fast | Clef | 100 ms |"))
    cells50 = [c.strip() for c in oct50.split("|")[4:-1]]
    cells100 = [c.strip() for c in oct100.split("|")[4:-1]]
    assert cells50[1] == "0.50" and cells100[1] == "1.00"  # octave 2
    assert cells50[4] == "1.00"  # octave 5
    assert cells50[0] == "nan"  # octave 1 has no notes


def test_bad_limit_and_unwritable_outputs_are_refused_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["eval", str(tmp_path), "--limit", "-1"])
    assert "positive count" in capsys.readouterr().err
    missing = tmp_path / "no-such-folder" / "scores.json"
    assert main(["eval", str(tmp_path), "--json", str(missing)]) != 0
    assert "does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_peer_benchmark_refuses_missing_files(tmp_path, capsys):
    assert main(["peer-benchmark", str(tmp_path / "none.flac")]) != 0
    assert "no audio files" in capsys.readouterr().err


def test_excerpts_cut_audio_and_ground_truth_alike(tmp_path):
    import soundfile as sf

    from clef_app.notation.events import read_notes_tsv
    from clef_app.training.evaluate import excerpts, ground_truth

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"
    (cut,) = excerpts([demo], 4.0, tmp_path)
    info = sf.info(cut)
    assert cut.name == demo.name and info.duration == pytest.approx(4.0, abs=1e-3)
    whole = ground_truth(demo)
    notes = read_notes_tsv(tmp_path / "demo.notes.tsv")
    assert notes and len(notes) == sum(n.onset < 4.0 for n in whole) < len(whole)
    assert max(n.offset for n in notes) <= 4.0
