"""`clef build-data` end to end on a few seconds of audio: files, manifest, determinism."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from clef_app.errors import ClefError
from clef_app.notation.events import read_notes_tsv
from clef_app.training import build, corpus

FLUID = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
pytestmark = pytest.mark.skipif(
    not (Path(FLUID).is_file() and Path(build.VAL_SOUNDFONT).is_file()), reason="no soundfonts"
)


def _args(out: Path, **kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    args = parser.parse_args(["--out", str(out), "--hours", "0.01", "--val-minutes", "0.4",
                              "--workers", "1", "--no-corpus"])  # fmt: skip
    vars(args).update(kw)
    return args


@pytest.fixture(autouse=True)
def _fast_soundfont(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "TRAIN_SOUNDFONTS", (FLUID,))  # loads in 0.2 s, not 5-11 s


def test_build_writes_clips_labels_and_manifest(tmp_path: Path) -> None:
    assert build.run(_args(tmp_path / "a")) == 0
    assert (tmp_path / "a" / build.READY).is_file()  # clef cache --part-clips waits for it
    rows = [json.loads(x) for x in (tmp_path / "a" / "manifest.jsonl").read_text().splitlines()]
    assert [r["split"] for r in rows][:2] == ["val", "val_seen"] and rows[-1]["split"] == "train"
    assert rows[0]["soundfont"] == "TimGM6mb.sf2" and rows[1]["soundfont"] == "FluidR3_GM.sf2"
    for row in rows:
        assert set(row) == {"id", "split", "source", "piece", "soundfont", "program", "seconds",
                            "augment"}  # fmt: skip
        base = tmp_path / "a" / "clips" / row["split"] / row["id"]
        info = sf.info(str(base) + ".flac")
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 20.0 <= info.duration == row["seconds"] <= 30.0
        notes = read_notes_tsv(str(base) + ".notes.tsv")
        assert len(notes) >= 6 and max(n.offset for n in notes) <= row["seconds"] + 1e-6
        assert min(n.onset for n in notes) < 0.5  # short leading silence
    val, seen = (read_notes_tsv(tmp_path / "a" / "clips" / s / f"{s}_000000.notes.tsv")
                 for s in ("val", "val_seen"))  # fmt: skip
    assert [(n.onset, n.pitch) for n in val] == [(n.onset, n.pitch) for n in seen]


def test_build_is_deterministic_and_resumes(tmp_path: Path) -> None:
    build.run(_args(tmp_path / "a", hours=0.004, val_minutes=0.0))
    build.run(_args(tmp_path / "b", hours=0.004, val_minutes=0.0))
    a, b = (sf.read(str(tmp_path / d / "clips/train/train_000000.flac"))[0] for d in "ab")
    assert np.array_equal(a, b)
    manifest = (tmp_path / "a" / "manifest.jsonl").read_text()
    assert manifest == (tmp_path / "b" / "manifest.jsonl").read_text()
    build.run(_args(tmp_path / "a", hours=0.004, val_minutes=0.0))  # nothing new to render
    assert (tmp_path / "a" / "manifest.jsonl").read_text() == manifest


def test_corpus_clips_come_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "works").mkdir(parents=True)
    corpus.parse_one(("bach/bwv66.6.mxl", str(cache)))
    corpus.write_index(cache)
    build.run(_args(tmp_path / "a", hours=0.004, val_minutes=0.0, no_corpus=False,
                    corpus_cache=cache, procedural_share=0.0))  # fmt: skip
    row = json.loads((tmp_path / "a" / "manifest.jsonl").read_text().splitlines()[0])
    assert (row["source"], row["piece"]) == ("corpus", "bach/bwv66.6.mxl")


def test_refuses_to_write_inside_the_repository() -> None:
    with pytest.raises(ClefError):
        build.run(_args(Path(__file__).parent / "data-here"))


def test_resume_drops_a_manifest_line_cut_short(tmp_path: Path) -> None:
    build.run(_args(tmp_path, hours=0.004, val_minutes=0.0))
    manifest = tmp_path / "manifest.jsonl"
    whole = manifest.read_text()
    manifest.write_text(whole[: len(whole) // 2])  # killed while writing the first line
    build.run(_args(tmp_path, hours=0.004, val_minutes=0.0))
    assert manifest.read_text() == whole


def test_the_manifest_is_written_whole_never_through_a_planted_symlink(tmp_path: Path) -> None:
    out, victim = tmp_path / "a", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("keep me\n")
    (out / "manifest.jsonl").symlink_to(victim)
    build.run(_args(out, hours=0.004, val_minutes=0.0))
    assert victim.read_text() == "keep me\n"
    manifest = out / "manifest.jsonl"
    assert not manifest.is_symlink()
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]  # every line whole
    assert rows and manifest.read_text().endswith("\n")
