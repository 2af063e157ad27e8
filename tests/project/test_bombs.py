"""Projects that meet every container cap and still describe far too much work: embedded
audio longer or larger than Clef opens, a member larger than its FLAC can be, a FLAC header
that claims more than the manifest, and score settings that would hang score building. Each
is refused at open, before any audio is inflated or decoded."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.io import MAX_SECONDS
from clef_app.project import ProjectError, load_project
from clef_app.project.format import MAX_EMBEDDED_FRAMES
from tests.project.zips import manifest, write_project


def flac(frames: int, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(frames, np.float32), rate, format="FLAC", subtype="PCM_24")
    return buffer.getvalue()


def embedded(data: bytes, rate: int, frames: int) -> dict:
    return manifest(audio={"mode": "embedded", "member": "audio.flac", "sample_rate": rate,
                           "frames": frames, "sha256": hashlib.sha256(data).hexdigest()})


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any audio is decoded."""
    monkeypatch.setattr(sf.SoundFile, "read", lambda *a, **k: pytest.fail("audio decoded"))
    monkeypatch.setattr(sf, "read", lambda *a, **k: pytest.fail("audio decoded"))


@pytest.mark.parametrize(("rate", "frames", "needle"), [
    (655_350, 1_000_000_000, "frames"),  # 25 min at FLAC's top rate: 4 GB of samples
    (8000, MAX_SECONDS * 8000 + 1, "hours"),  # over 4 h at a low rate
    (48_000, MAX_EMBEDDED_FRAMES + 1, "frames"),
])
def test_embedded_audio_over_the_limits_is_refused_undecoded(tmp_path, no_decoding, rate,
                                                             frames, needle):
    data = flac(100)
    path = write_project(tmp_path / "p.clef", embedded(data, rate, frames), ("audio.flac", data))
    started = time.perf_counter()
    with pytest.raises(ProjectError, match=needle):
        load_project(path)
    assert time.perf_counter() - started < 1.0


def test_a_flac_header_claiming_more_than_the_manifest_is_refused_undecoded(tmp_path,
                                                                            no_decoding):
    data = flac(200_000)  # silence: a few KB claiming 25 s
    path = write_project(tmp_path / "p.clef", embedded(data, 8000, 100), ("audio.flac", data))
    with pytest.raises(ProjectError, match="does not match its description"):
        load_project(path)


def test_a_deflated_member_larger_than_its_flac_can_be_is_not_inflated(tmp_path, no_decoding):
    """64 MiB of zeros deflate to 64 KiB; 1,000 frames of FLAC never take more than ~70 KB."""
    zeros = b"\0" * 2**26
    body = embedded(zeros, 8000, 1000)
    path = tmp_path / "bomb.clef"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.json", json.dumps(body))
        zf.writestr("audio.flac", zeros)
    assert path.stat().st_size < 2**20
    started = time.perf_counter()
    with pytest.raises(ProjectError, match="at most"):
        load_project(path)
    assert time.perf_counter() - started < 1.0


def test_embedded_audio_within_the_limits_still_opens(tmp_path):
    data = flac(8000)
    path = write_project(tmp_path / "p.clef", embedded(data, 8000, 8000), ("audio.flac", data))
    audio = load_project(path).audio
    assert audio.sample_rate == 8000 and len(audio.samples) == 8000


@pytest.mark.parametrize("settings", [
    {"tempo": [[10**18, 90.0]]},
    {"meter": [[1, "100000/1"]]},
    {"tempo": [[1, 0]]},
    {"tempo_bpm": 0},
    {"tempo": [[1, 1e9]]},
])
def test_score_settings_that_would_hang_score_building_are_refused_at_open(tmp_path,
                                                                          settings):
    path = write_project(tmp_path / "hang.clef", manifest(settings=settings))
    with pytest.raises(ProjectError, match="hang.clef: settings is not valid"):
        load_project(path)


def test_a_settings_edit_in_the_history_is_checked_too(tmp_path):
    edit = {"kind": "settings", "key": "tempo", "text": "Tempo", "old": None,
            "new": [[1, 0]]}
    body = manifest(history={"edits": [edit], "index": 1})
    with pytest.raises(ProjectError, match="history.edits"):
        load_project(write_project(tmp_path / "h.clef", body))
