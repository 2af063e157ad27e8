"""`clef export NOTES -o OUT` end to end through the CLI entry point."""

from __future__ import annotations

from pathlib import Path

from music21 import converter

from clef_app.cli import main

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"


def test_export_tsv_to_musicxml_with_overrides(tmp_path, capsys):
    out = tmp_path / "demo.musicxml"
    code = main(["export", str(DEMO), "-o", str(out), "--meter", "2/4", "--key", "G major",
                 "--tempo", "112"])
    assert code == 0 and "notes ->" in capsys.readouterr().out
    score = converter.parse(str(out))
    ts = score.recurse().getElementsByClass("TimeSignature")[0]
    ks = score.recurse().getElementsByClass("KeySignature")[0]
    assert ts.ratioString == "2/4" and ks.sharps == 1


def test_export_midi_round_trip(tmp_path):
    first = tmp_path / "demo.mid"
    assert main(["export", str(DEMO), "-o", str(first)]) == 0
    second = tmp_path / "again.musicxml"
    assert main(["export", str(first), "-o", str(second)]) == 0
    assert len(converter.parse(str(second)).flatten().notes) > 100


def test_bad_input_fails_with_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.tsv"
    bad.write_text("this is not\ta notes table\n")
    assert main(["export", str(bad), "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clef export: error:")
    assert main(["export", str(DEMO), "-o", str(tmp_path / "x.docx")]) == 2
    assert main(["export", str(tmp_path / "missing.mid"), "-o", str(tmp_path / "x.pdf")]) == 2


def test_title_composer_reach_the_musicxml_and_a_bad_page_size_is_refused(tmp_path, capsys):
    out = tmp_path / "demo.musicxml"
    assert main(["export", str(DEMO), "-o", str(out), "--title", "Take 3",
                 "--composer", "Clara Schumann", "--page-size", "letter"]) == 0
    xml = out.read_text()
    assert "<work-title>Take 3</work-title>" in xml
    assert '<creator type="composer">Clara Schumann</creator>' in xml and "Music21" not in xml
    capsys.readouterr()
    assert main(["export", str(DEMO), "-o", str(out), "--page-size", "A3"]) == 2
    assert "--page-size A3" in capsys.readouterr().err


def test_export_prints_its_one_line_and_nothing_else(tmp_path, capsys):
    out = tmp_path / "demo.musicxml"
    assert main(["export", str(DEMO), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [f"{sum(1 for _ in DEMO.open()) - 1} notes -> {out}"]
    progress = [line for line in printed.err.replace("\r", "\n").splitlines() if line.strip()]
    assert all(line.startswith("exporting:") for line in progress), progress
