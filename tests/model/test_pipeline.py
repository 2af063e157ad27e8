"""The transcription pipeline on a tiny random-init checkpoint (CPU): loaded once per file
and device, options fixed at load, any input rate, typed progress, cancellation within a
batch, and the same loaded model for Transcribe, "Why this note?" and live input."""

import os
import threading

import numpy as np
import pytest
import torch

from clef_app.audio.io import resample
from clef_app.audio.live_transcription import (
    LIVE_TORCH_THREADS,
    LiveTranscription,
    checkpoint_stream_factory,
)
from clef_app.config import ModelConfig
from clef_app.model.checkpoint import save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.errors import ModelError
from clef_app.model.explain import explain_selected
from clef_app.model.pipeline import Pipeline
from clef_app.model.progress import TranscriptionProgress

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=48, dropout=0.0)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("pipeline") / "tiny.safetensors"
    save_checkpoint(ClefModel.build(TINY).eval(), path, half=False)
    return path


def noise(seconds: float, rate: int = 16_000, seed: int = 2) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(rate * seconds)) * 0.1).astype(
        np.float32)


def test_one_model_per_checkpoint_file_reloaded_when_it_changes(checkpoint):
    first = Pipeline.load(checkpoint, device="cpu")
    assert Pipeline.load(checkpoint, device="auto").model is first.model  # auto is the CPU here
    stat = checkpoint.stat()
    os.utime(checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten
    assert Pipeline.load(checkpoint, device="cpu").model is not first.model


def test_options_are_fixed_at_load_and_others_share_the_model(checkpoint):
    base = Pipeline.load(checkpoint, device="cpu")
    once = Pipeline.load(checkpoint, device="cpu", passes=1, min_confidence=0.3)
    assert (once.options.passes, once.options.min_confidence) == (1, 0.3)
    assert once.model is base.model and once.lock is base.lock
    with pytest.raises(AttributeError):
        once.options = base.options  # nothing changes a pipeline after it is made
    other = once.with_options(batch_size=2)
    assert other.options.batch_size == 2 and once.options.batch_size == 48
    with pytest.raises(TypeError, match="one_pass"):
        Pipeline.load(checkpoint, device="cpu", one_pass=True)


def test_any_input_rate_is_read_at_the_checkpoints_rate(checkpoint):
    p = Pipeline.load(checkpoint, device="cpu")
    x48 = noise(3.0, 48_000)
    steps = list(p.transcribe(x48, 48_000))
    assert all(isinstance(s, TranscriptionProgress) for s in steps)
    assert steps[-1].total_seconds == pytest.approx(3.0) and steps[-1].fraction == 1.0
    at16 = np.clip(resample(x48, 48_000, 16_000), -1, 1)
    key = lambda notes: [(n.onset, n.offset, n.pitch) for n in notes]  # noqa: E731
    assert key(p.transcribe_all(x48, 48_000)) == key(p.transcribe_all(at16, 16_000))


def test_cancel_is_checked_within_a_batch_not_only_between_batches(checkpoint):
    p = Pipeline.load(checkpoint, device="cpu")  # 6 s: one batch of 16 windows
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 3  # stop at the decoder's first token step

    assert list(p.transcribe(noise(6.0), 16_000, cancel)) == []
    assert len(asked) == 4  # before the batch, before encoding, before decoding, a token step
    assert list(p.transcribe(noise(6.0), 16_000, lambda: False))  # not cancelled: it reads


def test_transcribe_explain_and_live_share_the_loaded_model(checkpoint, monkeypatch):
    monkeypatch.setenv("CLEF_MODEL", str(checkpoint))
    samples = noise(3.0)
    model = Pipeline.load(checkpoint).model
    steps = list(Pipeline.load(checkpoint).transcribe(samples, 16_000))
    assert steps and steps[-1].done_seconds == pytest.approx(3.0)
    ex = explain_selected(samples, 16_000, 2.7, 60, checkpoint)
    assert ex.weights.shape == (model.rows, model.cols)
    assert ex.start == pytest.approx(2.56) and ex.end == pytest.approx(5.12)
    assert all(b.cross_attn.captured is None for b in model.decoder.blocks)
    make = checkpoint_stream_factory(checkpoint)
    takes = [make(), make()]  # two takes: neither loads a model of its own
    assert all(s.t.model is model for s in takes) and takes[0] is not takes[1]
    assert Pipeline.load(checkpoint).model is model


def test_a_missing_checkpoint_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="gone.safetensors"):
        Pipeline.load(tmp_path / "gone.safetensors")


def _on_new_thread(fn):
    out = []
    helper = threading.Thread(target=lambda: out.append(fn()))
    helper.start()
    helper.join()
    return out[0]


def test_a_live_take_has_one_torch_thread_and_the_rest_of_the_app_keeps_its_own(checkpoint):
    """torch.set_num_threads is process-wide: a take that set it left the app's next
    Transcribe (a new worker thread) on one thread. Now only the take's thread has one."""
    saved = torch.get_num_threads()
    torch.set_num_threads(2)  # the app's count (a new thread's too), whatever this machine's
    try:
        seen = []
        make = checkpoint_stream_factory(checkpoint)

        def stream():
            s = make()
            push = s.push

            def watched(samples):  # on the take's thread, after each decode
                notes = push(samples)
                seen.append((torch.get_num_threads(), _on_new_thread(torch.get_num_threads)))
                return notes
            s.push = watched
            return s

        take = LiveTranscription(stream, 16_000)
        take.start()
        for block in np.split(noise(3.0), 6):
            take.feed(block)
        take.finish()
        assert take.wait(120) and not take.error
        assert seen and set(seen) == {(LIVE_TORCH_THREADS, 2)}  # the take's; a new thread's
        assert torch.get_num_threads() == 2 and _on_new_thread(torch.get_num_threads) == 2
    finally:
        torch.set_num_threads(saved)
