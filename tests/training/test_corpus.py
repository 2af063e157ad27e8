"""music21 corpus works -> cached note lists -> Pieces."""

from pathlib import Path

import numpy as np
from music21 import chord, meter, note, stream, tie

from clef_app.training import corpus


def _score() -> stream.Score:
    upper, lower = stream.Part(), stream.Part()
    m1, m2 = stream.Measure(number=1), stream.Measure(number=2)
    m1.append(meter.TimeSignature("3/4"))
    tied_a, tied_b = note.Note("C5", quarterLength=2), note.Note("C5", quarterLength=1)
    tied_a.tie, tied_b.tie = tie.Tie("start"), tie.Tie("stop")
    m1.append([tied_a, tied_b])
    m2.append([note.Note("D5").getGrace(), note.Note("E5", quarterLength=3)])
    upper.append([m1, m2])
    lm1, lm2 = stream.Measure(number=1), stream.Measure(number=2)
    lm1.append(chord.Chord(["C3", "G3"], quarterLength=3))
    lm2.append(note.Rest(quarterLength=3))
    lower.append([lm1, lm2])
    return stream.Score([upper, lower])


def test_extract_joins_ties_drops_grace_notes_and_finds_bars() -> None:
    data = corpus.extract(_score())
    rows = sorted(tuple(r) for r in data["notes"])
    assert rows == [(0.0, 3.0, 48), (0.0, 3.0, 55), (0.0, 3.0, 72), (3.0, 6.0, 76)]
    assert data["changes"] == [0.0, 3.0] and data["beats_per_bar"] == 3.0


def test_parse_cache_index_and_load(tmp_path: Path) -> None:
    (tmp_path / "works").mkdir()
    assert corpus.parse_one(("bach/bwv66.6.mxl", str(tmp_path))) == ("bach/bwv66.6.mxl", "")
    assert corpus.parse_one(("no/such/work.mxl", str(tmp_path)))[1]  # recorded as failed
    index = corpus.write_index(tmp_path)
    assert list(index) == ["bach/bwv66.6.mxl"] and index["bach/bwv66.6.mxl"]["polyphony"] > 0.9
    assert corpus.cached_names(tmp_path) == ["bach/bwv66.6.mxl"]
    piece = corpus.load_piece(tmp_path, "bach/bwv66.6.mxl")
    assert piece.notes.shape[1] == 4 and 100 < len(piece.notes) < 400
    assert np.all(piece.notes[:, 2] >= 36) and len(piece.changes) >= 8
    first = piece.notes[piece.notes[:, 0] == 0]
    assert first[np.argmax(first[:, 2]), 3] == 1.0 and first[:, 3].sum() == 1.0  # top voice


def test_held_out_works_are_about_five_percent() -> None:
    names = corpus.work_paths()
    share = np.mean([corpus.held_out(n) for n in names])
    assert 800 < len(names) < 1500 and 0.02 < share < 0.08
    assert all(not n.startswith(("ryansMammoth", "essenFolksong")) for n in names)
    assert len({n.rsplit(".", 1)[0] for n in names}) == len(names)  # one format per work


def test_versions_of_one_work_share_their_split() -> None:
    assert corpus.work_key("bach/bwv18.5-lz.mxl") == corpus.work_key("bach/bwv18.5-w.mxl")
    assert corpus.work_key("bach/bwv18.5-lz.mxl") == "bach/bwv18.5"
    assert corpus.work_key("trecento/PMFC_06-Jacopo-01-Aquila-Altera.xml").endswith("Altera")
