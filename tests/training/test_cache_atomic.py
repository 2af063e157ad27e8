"""A feature cache is written atomically (issue 16): a run killed midway leaves no file that
loads as a finished cache, and a cut features.f16 is refused by the loader."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from clef_app.config import ModelConfig
from clef_app.training.cache import read_manifest, write_segments
from clef_app.training.dataset import CachedSplit, split_folders
from tests.training.tiny_data import write_tiny_build

TOKENS, DIM = 4, 3  # a stand-in encoder's output per segment: (tokens, dim)


def _features(samples, first, count):
    return np.full((count, TOKENS, DIM), first + 1, dtype=np.float16)


def _finish(out, segments):
    meta = {"segments": segments, "tokens_per_segment": TOKENS, "dim": DIM}
    (out / "meta.json").write_text(json.dumps(meta))


def test_a_finished_cache_loads(tmp_path):
    data = write_tiny_build(tmp_path / "data")
    out = tmp_path / "cache" / "train"
    clips = [c for c in read_manifest(data / "manifest.jsonl") if c["split"] == "train"]
    written = write_segments(ModelConfig(), data, clips, out, 8, _features)
    _finish(out, written.segments)
    split = CachedSplit(split_folders(tmp_path / "cache", "train"))
    assert len(split) == written.segments == 2
    assert split.features[0].shape == (2, TOKENS, DIM)
    assert sorted(p.name for p in out.iterdir()) == [
        "features.f16", "index.jsonl", "meta.json", "rolls.npy", "tokens.npy"]


def test_a_failed_run_leaves_the_old_files_and_no_finished_mark(tmp_path):
    data = write_tiny_build(tmp_path / "data")
    out = tmp_path / "cache" / "train"
    out.mkdir(parents=True)
    (out / "features.f16").write_bytes(b"old")
    _finish(out, 1)
    clips = [c for c in read_manifest(data / "manifest.jsonl") if c["split"] == "train"]

    def second_clip_fails(samples, first, count):
        if (out / "seen").exists():
            raise RuntimeError("killed")
        (out / "seen").touch()
        return _features(samples, first, count)

    with pytest.raises(RuntimeError, match="killed"):
        write_segments(ModelConfig(), data, clips, out, 8, second_clip_fails)
    assert (out / "features.f16").read_bytes() == b"old"
    assert sorted(p.name for p in out.iterdir()) == ["features.f16", "seen"]
    assert split_folders(tmp_path / "cache", "train") == []  # not a finished folder


def test_a_cut_features_file_is_refused_by_the_loader(tmp_path):
    out = tmp_path / "cache" / "train"
    out.mkdir(parents=True)
    (out / "features.f16").write_bytes(bytes(2 * TOKENS * DIM))  # one segment of two
    np.save(out / "tokens.npy", np.zeros((2, 8), dtype=np.int16))
    _finish(out, 2)
    with pytest.raises(ValueError, match="features.f16: 24 bytes, but meta.json describes 48"):
        CachedSplit(out)


def test_a_killed_cache_run_leaves_no_features_file(tmp_path):
    """kill -9 while features are being written: no features.f16 (the rows went to a
    hidden temporary), no meta.json, so nothing loads as a cache."""
    data = write_tiny_build(tmp_path / "data")
    out = tmp_path / "cache" / "train"
    flag = tmp_path / "writing"
    script = (
        "import sys, time, numpy as np\n"
        "from pathlib import Path\n"
        "from clef_app.config import ModelConfig\n"
        "from clef_app.training.cache import read_manifest, write_segments\n"
        "data, out, flag = map(Path, sys.argv[1:4])\n"
        "clips = [c for c in read_manifest(data / 'manifest.jsonl') if c['split'] == 'train']\n"
        "def features(samples, first, count):\n"
        "    if flag.exists():\n"
        "        time.sleep(60)\n"
        "    flag.touch()\n"
        "    return np.ones((count, 4, 3), dtype=np.float16)\n"
        "write_segments(ModelConfig(), data, clips, out, 8, features)\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(data), str(out), str(flag)])
    try:
        deadline = time.monotonic() + 120
        while not flag.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert flag.exists(), "the child never reached its second clip"
        time.sleep(0.5)  # into the sleep of the second clip, the first clip's rows written
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    names = sorted(p.name for p in out.iterdir())
    assert "features.f16" not in names and "meta.json" not in names, names
    assert split_folders(tmp_path / "cache", "train") == []
