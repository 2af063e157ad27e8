"""A long recording opens at once: the document takes it as soon as its header is read, the
rest decodes in the background while the picture fills in (with a "computing" note), and
Transcribe waits for the whole of it. `clef open-benchmark` reports these timings."""

import json

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio import logfreq
from clef_app.audio.io import load_audio
from clef_app.cli import main
from clef_app.gui import reading
from clef_app.gui.spectrogram_image import to_codes

RATE = 44_100
SECONDS = 45.0


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    """45 s of stereo: a tone that climbs a semitone every 3 s over a little noise."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    pitch = 40 + (t // 3.0)
    tone = 0.3 * np.sin(2 * np.pi * np.cumsum(440 * 2 ** ((pitch - 69) / 12)) / RATE)
    noise = 0.01 * np.random.default_rng(0).standard_normal((len(t), 2))
    path = tmp_path_factory.mktemp("long") / "long.wav"
    sf.write(path, (tone[:, None] + noise).astype(np.float32), RATE, subtype="FLOAT")
    return path


def test_a_long_recording_opens_before_it_is_decoded_and_fills_in(window, long_recording,
                                                                   monkeypatch, qtbot):
    monkeypatch.setattr(reading, "PROGRESSIVE_SECONDS", 10.0)
    doc, view = window.document, window.spectrogram
    with qtbot.waitSignal(doc.audioLoaded, timeout=120_000):
        assert window.controller.open(long_recording)
        assert doc.loading and doc.duration == pytest.approx(SECONDS)  # from the header
        assert not window.named_actions["transcribe"].isEnabled()
        assert "still loading" in window.named_actions["transcribe"].toolTip()
        assert window.jobs.transcription.start() == "the recording is still loading"
    if view.image.computing:
        assert view.computing.isVisibleTo(window)
        assert view.computing.text().startswith("computing the spectrogram")
        with qtbot.waitSignal(view.spectrogramReady, timeout=120_000):
            pass
    assert not doc.loading and not view.computing.isVisibleTo(window)
    assert window.named_actions["transcribe"].isEnabled()
    np.testing.assert_array_equal(doc.samples, load_audio(long_recording).samples)
    whole = logfreq.block(doc.samples, RATE, 0, logfreq.n_frames(len(doc.samples), RATE))
    # every block waited for its audio: the picture is that of the complete recording
    assert np.abs(view.spectrogram.astype(int) - to_codes(whole)).max() <= 2  # 1 dB
    assert len(view.image.tiles) == -(-len(whole) // logfreq.BLOCK_FRAMES)
    _, (x0, x1) = (None, view.vb.viewRange()[0])
    assert (x0, x1) == pytest.approx((0.0, SECONDS), abs=0.01)  # short enough to show whole


def test_open_benchmark_reports_when_the_window_and_the_picture_appear(long_recording,
                                                                      tmp_path, monkeypatch,
                                                                      qtbot, dialogs):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the command sets its own
    report = tmp_path / "open.json"
    assert main(["open-benchmark", str(long_recording), "--json", str(report)]) == 0
    numbers = json.loads(report.read_text())
    assert numbers["seconds of audio"] == pytest.approx(SECONDS, abs=0.1)
    painted, first, complete = (numbers[f"{k} (s)"] for k in ("window painted", "first screen",
                                                               "complete"))
    assert 0 < painted and 0 < first <= complete
    assert numbers["peak memory (MB)"] > 0 and numbers["longest stall (ms)"] >= 0
    cpu = [numbers[f"{k} (CPU s)"] for k in ("window painted", "first screen", "complete")]
    assert 0 < cpu[0] <= cpu[1] <= cpu[2]  # what it costs, whatever else the machine does


def test_a_projects_long_recording_opens_at_once_and_fills_in(window, long_recording,
                                                              monkeypatch, qtbot, tmp_path):
    """A project that references a long recording opens as the recording would (it decoded
    whole on the GUI thread: 0.64 s of CPU for 10 minutes at 48 kHz)."""
    from clef_app.project import Project, ReferencedAudio, save_project

    monkeypatch.setattr(reading, "PROGRESSIVE_SECONDS", 10.0)
    project = tmp_path / "long.clef"
    save_project(Project(audio=ReferencedAudio(str(long_recording))), project)
    doc = window.document
    with qtbot.waitSignal(doc.audioLoaded, timeout=120_000):
        assert window.controller.open(project)
        assert doc.loading and doc.duration == pytest.approx(SECONDS)
    np.testing.assert_array_equal(doc.samples, load_audio(long_recording).samples)


def test_a_recording_still_decoding_never_lands_in_the_project_opened_after_it(
        window, long_recording, monkeypatch, qtbot, tmp_path):
    """Opening a project while a long recording decodes cancels that decoding: it used to
    go on and replace the project's recording with its own when it finished."""
    from clef_app.project import EmbeddedAudio, Project, save_project

    monkeypatch.setattr(reading, "PROGRESSIVE_SECONDS", 10.0)
    short = (0.2 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype(np.float32)
    project = tmp_path / "short.clef"
    save_project(Project(audio=EmbeddedAudio(short, RATE)), project)
    doc = window.document
    assert window.controller.open(long_recording) and doc.loading
    assert window.controller.open(project)
    qtbot.wait(3000)  # the old decoding's time to finish (45 s of WAV: well under a second)
    assert not window.controller.decoder.running
    assert doc.duration == pytest.approx(1.0)
    np.testing.assert_allclose(doc.samples, short, atol=1e-6)
