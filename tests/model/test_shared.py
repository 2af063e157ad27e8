"""The app's shared model: loaded once per checkpoint file, reloaded when the file changes,
used by Transcribe and by "Why this note?" alike (tiny random-init model on CPU)."""

import os

import numpy as np
import pytest
import torch

from clef_app.config import ModelConfig
from clef_app.model import shared
from clef_app.model.checkpoint import save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.errors import ModelError
from clef_app.model.explain import explain_selected

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=48, dropout=0.0)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("shared") / "tiny.safetensors"
    save_checkpoint(ClefModel.build(TINY).eval(), path, half=False)
    return path


def test_one_model_per_checkpoint_file_reloaded_when_it_changes(checkpoint):
    first = shared.shared_transcriber(checkpoint)
    assert shared.shared_transcriber(checkpoint) is first
    stat = checkpoint.stat()
    os.utime(checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten
    assert shared.shared_transcriber(checkpoint) is not first


def test_transcribe_and_explain_share_the_loaded_model(checkpoint):
    samples = (np.random.default_rng(2).standard_normal(16000 * 3) * 0.1).astype(np.float32)
    steps = list(shared.transcribe_steps(checkpoint, samples))
    assert steps and steps[-1].done_seconds == pytest.approx(3.0)
    model = shared.shared_transcriber(checkpoint)
    ex = explain_selected(samples, 2.7, 60, checkpoint)
    assert shared.shared_transcriber(checkpoint) is model
    assert ex.weights.shape == (model.model.rows, model.model.cols)
    assert ex.start == pytest.approx(2.56) and ex.end == pytest.approx(5.12)
    assert all(b.cross_attn.captured is None for b in model.model.decoder.blocks)


def test_a_missing_checkpoint_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="gone.safetensors"):
        shared.shared_transcriber(tmp_path / "gone.safetensors")
