"""The app's Transcribe action reaches the model through the pipeline: the recording goes in
at its own rate (resampled to the checkpoint's, whatever that is) and progress comes back
typed."""

import numpy as np
import pytest

from clef_app.gui.document import Document
from clef_app.gui.transcribe import Transcription
from clef_app.model.progress import TranscriptionProgress

RATE = 44_100  # Hz: the recording's
SECONDS = 3.0


@pytest.fixture
def checkpoint_at_32k(tmp_path, monkeypatch):
    """A tiny random-init checkpoint whose front end reads 32-kHz audio (not the usual 16)."""
    torch = pytest.importorskip("torch")
    from clef_app.config import FrontEndConfig, ModelConfig
    from clef_app.model.checkpoint import save_checkpoint
    from clef_app.model.clef_model import ClefModel

    fe = FrontEndConfig(sample_rate=32_000, hop_length=320, n_fft=4096)
    cfg = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2,
                      decoder_layers=1, max_tokens=24, dropout=0.0, front_end=fe)
    torch.manual_seed(0)
    path = tmp_path / "tiny32k.safetensors"
    save_checkpoint(ClefModel.build(cfg).eval(), path, half=False)
    monkeypatch.setenv("CLEF_MODEL", str(path))
    return path


def run(qtbot, doc: Document) -> list:
    job = Transcription(doc)
    assert job.start() == ""
    steps = []
    job.job.partial.connect(steps.append)
    with qtbot.waitSignal(job.finished, timeout=120_000):
        pass
    return steps


def test_the_recording_is_read_at_the_checkpoints_rate(qtbot, checkpoint_at_32k):
    from clef_app.model.pipeline import Pipeline

    samples = (np.random.default_rng(0).standard_normal(int(RATE * SECONDS)) * 0.1).astype(
        np.float32)
    doc = Document()
    doc.load(None, samples, RATE)
    steps = run(qtbot, doc)
    assert steps and all(isinstance(s, TranscriptionProgress) for s in steps)
    assert steps[-1].total_seconds == pytest.approx(SECONDS)  # not 3 s read at a wrong rate
    assert steps[-1].fraction == 1.0
    shown = sorted((n.onset, n.pitch) for n in doc.notes.values())
    expected = Pipeline.load(checkpoint_at_32k).transcribe_all(samples, RATE)
    assert shown == sorted((n.onset, n.pitch) for n in expected)
