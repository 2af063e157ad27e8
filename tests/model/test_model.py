"""Model plumbing with a tiny random-init model on CPU; the real one is tested end to end."""

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from clef_app.config import FrontEndConfig, ModelConfig
from clef_app.model.checkpoint import load_checkpoint, save_checkpoint
from clef_app.model.clef_model import ClefModel
from clef_app.model.decoder import KVCache
from clef_app.model.decoding import greedy_decode
from clef_app.model.errors import ModelError
from clef_app.model.frontend import mel_to_image, segment_context, segment_mels
from clef_app.model.inference import Transcriber
from clef_app.notation.codec import BOS, EOS, VOCAB_SIZE

TINY = ModelConfig(encoder_blocks=1, bridge_layers=1, d_model=64, n_heads=2, decoder_layers=1,
                   max_tokens=64, dropout=0.0)


@pytest.fixture(scope="module")
def tiny_model() -> ClefModel:
    torch.manual_seed(0)
    return ClefModel.build(TINY).eval()


def test_image_geometry_matches_pretraining_normalisation():
    fe = FrontEndConfig()
    t = np.arange(fe.segment_samples * 2) / fe.sample_rate
    samples = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mel = segment_mels(samples, 0, 2, fe)
    assert mel.shape == (2, fe.n_mels, fe.segment_frames)
    assert 0.0 <= float(mel.min()) and float(mel.max()) == pytest.approx(1.0)
    image = mel_to_image(mel, fe)
    assert image.shape == (2, 3, 224, 512)
    assert float(image.min()) >= -1.0 and float(image.max()) <= 1.0
    # A 440 Hz tone is a bright row in the lower half (row 0 is the top, highest pitch).
    row = int(image[0, 0, :, 100:400].mean(dim=-1).argmax())
    assert 112 < row < 224


def test_segment_context_is_centred_like_a_whole_recording_stft():
    fe = FrontEndConfig()
    samples = np.arange(fe.segment_samples * 3, dtype=np.float32)
    ctx = segment_context(samples, 1, fe)
    assert ctx[fe.n_fft // 2] == samples[fe.segment_samples]
    assert len(segment_context(samples, 0, fe)) == len(ctx)


def test_kv_cache_matches_full_forward(tiny_model):
    memory = torch.randn(2, tiny_model.cols, TINY.d_model)
    tokens = torch.randint(4, VOCAB_SIZE, (2, 7))
    full = tiny_model.decoder(tokens, memory)[:, -1]
    cache = KVCache(TINY.max_tokens)
    tiny_model.step(tokens[:, :4], memory, cache, 0)
    step = None
    for i in range(4, 7):
        step = tiny_model.step(tokens[:, i : i + 1], memory, cache, i)
    torch.testing.assert_close(full, step, atol=1e-4, rtol=1e-4)


def test_in_place_cache_gives_every_positions_logits_as_the_full_pass(tiny_model):
    """Decoding step by step into the preallocated cache, dropping finished rows on the
    way as greedy decoding does, gives at every position the logits of the teacher-forced
    pass over the whole sequence (training's path)."""
    torch.manual_seed(1)
    memory = torch.randn(5, tiny_model.cols, TINY.d_model)
    tokens = torch.randint(4, VOCAB_SIZE, (5, 12))
    with torch.no_grad():
        full = tiny_model.decoder(tokens, memory)  # (5, 12, vocab)
        cache = KVCache(TINY.max_tokens)
        rows = torch.arange(5)
        for i in range(12):
            if i == 5:  # rows 1 and 3 finished: the rest move to the front of the buffers
                rows = torch.tensor([0, 2, 4])
                cache.keep(torch.tensor([0, 2, 4]))
            if i == 9:  # then row 2 (now at index 1)
                rows = torch.tensor([0, 4])
                cache.keep(torch.tensor([0, 2]))
            step = tiny_model.step(tokens[rows, i : i + 1], memory[rows], cache, i)
            torch.testing.assert_close(step, full[rows, i], atol=1e-5, rtol=1e-5)
    assert cache.length == 12


def test_in_place_cache_refuses_to_run_past_its_capacity(tiny_model):
    memory = torch.randn(1, tiny_model.cols, TINY.d_model)
    cache = KVCache(3)
    with torch.no_grad():
        tiny_model.step(torch.ones(1, 3, dtype=torch.long), memory, cache, 0)
        with pytest.raises(ValueError, match="capacity"):
            tiny_model.step(torch.ones(1, 1, dtype=torch.long), memory, cache, 3)


def test_greedy_decode_is_well_formed(tiny_model):
    memory = torch.randn(3, tiny_model.cols, TINY.d_model)
    tokens, probs = greedy_decode(tiny_model, memory, 256)
    for row, prow in zip(tokens, probs, strict=True):
        assert row[0] == BOS and len(row) == len(prow) <= TINY.max_tokens
        assert EOS not in row[:-1]


def test_tiny_model_transcribes_end_to_end(tiny_model):
    t = Transcriber(tiny_model)
    samples = (np.random.default_rng(0).standard_normal(16000 * 6) * 0.1).astype(np.float32)
    progress = list(t.transcribe(samples))
    assert progress[-1].done_seconds == pytest.approx(6.0)
    for p in progress:
        for n in p.notes:
            assert 0 <= n.onset < n.offset and 21 <= n.pitch <= 108
    stream = t.stream()
    streamed = stream.push(samples[:40000]) + stream.push(samples[40000:]) + stream.finish()
    batch = sorted((n.onset, n.pitch) for p in progress for n in p.notes)
    assert sorted((n.onset, n.pitch) for n in streamed if n.onset < 6.0) == batch


def test_checkpoint_round_trip(tiny_model, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path, {"step": 3}, half=False)
    loaded = load_checkpoint(path)
    for k, v in tiny_model.trainable_state().items():
        torch.testing.assert_close(loaded.state_dict()[k], v)
    assert loaded.cfg == tiny_model.cfg


def test_bad_checkpoints_are_refused(tiny_model, tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="damaged or truncated"):
        load_checkpoint(path)
    path.write_bytes(b"\x80\x04\x95" + b"\x00" * 64)  # a pickle's magic
    with pytest.raises(ModelError, match="pickle"):
        load_checkpoint(path)
    other = ClefModel.build(replace(TINY, d_model=32))
    save_checkpoint(other, path)
    cfg = path.with_suffix(".json")
    cfg.write_text(cfg.read_text().replace('"d_model": 32', '"d_model": 64'))
    with pytest.raises(ModelError, match="does not match"):
        load_checkpoint(path)
    text = cfg.read_text().replace('"d_model": 64', '"d_model": 32')  # matches again
    cfg.write_text(re.sub(r'"encoder_sha256": "[0-9a-f]{64}"', f'"encoder_sha256": "{"0" * 64}"',
                          text))
    with pytest.raises(ModelError, match="differ"):
        load_checkpoint(path)
    with pytest.raises(ModelError, match="no such model"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_why_this_note_map_covers_the_patch_grid(tiny_model):
    from clef_app.model.explain import explain_note

    t = Transcriber(tiny_model)
    samples = (np.random.default_rng(1).standard_normal(16000 * 3) * 0.1).astype(np.float32)
    ex = explain_note(t, samples, onset=2.7, pitch=60)
    assert ex.weights.shape == (tiny_model.rows, tiny_model.cols)
    assert ex.weights.sum() == pytest.approx(1.0, abs=1e-5) and (ex.weights >= 0).all()
    assert ex.start == pytest.approx(2.56) and ex.seconds_per_col == pytest.approx(0.08)


def test_stream_keeps_bounded_audio_and_peeks(tiny_model):
    t = Transcriber(tiny_model)
    stream = t.stream()
    block = np.zeros(16000, dtype=np.float32)
    for _ in range(12):
        stream.push(block)
        assert len(stream.buffer) <= 3 * t.fe.segment_samples
    assert stream.next_segment == 4
    for n in stream.peek() + stream.open_notes():
        assert n.onset < 12.0


@pytest.mark.parametrize("change", [{"d_model": "x"}, {"d_model": 10**6}, {"extra": 1},
                                    {"n_heads": True}, {"max_tokens": 10**9}])
def test_config_values_are_checked(tiny_model, tmp_path, change):
    import json

    path = tmp_path / "m.safetensors"
    save_checkpoint(tiny_model, path)
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["config"].update(change)
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a valid Clef model config"):
        load_checkpoint(path)
