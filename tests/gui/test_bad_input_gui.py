"""Bad input in the GUI: each bad file gives one error dialog naming it, and the open
document (the tiny recording with its notes and undo history) stays exactly as it was.
Odd but usable recordings open and draw a finite spectrogram."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.audio.test_bad_audio import UNUSABLE


@pytest.fixture
def errors(window, monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(window.controller, "show_error",  # the model's and files' errors
                        lambda title, text: shown.append((title, text)))
    window.document.replace_notes("Edit", [], [])  # (empty: dropped)
    first = window.document.sorted_notes()[0]
    window.document.replace_notes("Move Note", [first], [first.moved(0.01, 1)])
    return shown


def _snapshot(doc):
    return (id(doc.samples), doc.audio_path, dict(doc.notes), dict(doc.settings),
            doc.undo_stack.count(), doc.undo_stack.index())


def _assert_rejected(window, errors, path, title, needle=""):
    before = _snapshot(window.document)
    errors.clear()
    assert not window.controller.open(path)
    assert len(errors) == 1, errors
    got_title, text = errors[0]
    assert got_title == title and path.name in text and needle in text, errors[0]
    assert _snapshot(window.document) == before


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_recording(window, errors, tmp_path, name):
    make, message = UNUSABLE[name]
    make(tmp_path / name)
    _assert_rejected(window, errors, tmp_path / name, "Cannot open the recording")


def test_missing_recording(window, errors, tmp_path):
    _assert_rejected(window, errors, tmp_path / "gone.wav", "Cannot open the recording",
                     "no such file")


BAD_MIDI = {
    "empty.mid": b"",
    "noise.mid": bytes(range(256)) * 3,
    "cut.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x01",
}


@pytest.mark.parametrize("name", sorted(BAD_MIDI))
def test_bad_midi_import(window, errors, tmp_path, name):
    (tmp_path / name).write_bytes(BAD_MIDI[name])
    _assert_rejected(window, errors, tmp_path / name, "Cannot import the MIDI file")


@pytest.mark.parametrize("text", ["soon\tlater\tC4\n", "0\t1\tinf\n", "1e12\t1e12\t60\n",
                                  "0.5\n"])
def test_bad_notes_table_import(window, errors, tmp_path, text):
    (tmp_path / "bad.tsv").write_text(text)
    _assert_rejected(window, errors, tmp_path / "bad.tsv", "Cannot import the notes")


def _odd(folder):
    t = np.arange(16000) / 16000
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(folder / "r8k.wav", tone[::2], 8000)
    sf.write(folder / "r192k.wav", np.repeat(tone, 12), 192000)
    sf.write(folder / "octo.wav", np.tile(tone[:, None], (1, 8)), 16000)
    sf.write(folder / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(folder / "clipped.wav", np.sign(tone), 16000)
    sf.write(folder / "u8.wav", tone, 16000, subtype="PCM_U8")
    holes = tone.copy()
    holes[::50] = np.nan
    sf.write(folder / "holes.wav", holes, 16000, subtype="FLOAT")
    return ["r8k.wav", "r192k.wav", "octo.wav", "silent.wav", "clipped.wav", "u8.wav",
            "holes.wav"]


def test_odd_recordings_open_and_draw(window, errors, tmp_path, qtbot):
    window.document.undo_stack.setClean()  # opening may replace the document
    view = window.spectrogram
    for name in _odd(tmp_path):
        with qtbot.waitSignal(view.spectrogramReady, timeout=20_000):
            assert window.controller.open(tmp_path / name), (name, errors)
        doc = window.document
        assert doc.audio_path == tmp_path / name
        assert doc.duration == pytest.approx(1.0, abs=0.01), name
        assert np.isfinite(view.spectrogram).all(), name
    assert errors == []


def test_bad_model_fails_transcription_with_a_message(window, errors, tmp_path, monkeypatch,
                                                      qtbot):
    model = tmp_path / "clef.safetensors"
    model.write_bytes(b"\x80\x04\x95" + b"\x00" * 64)  # a pickle's first bytes
    from clef_app.config import ModelConfig
    from clef_app.notation.codec import VOCAB_SIZE

    meta = {"format": "clef-checkpoint", "vocab_size": VOCAB_SIZE,
            "config": ModelConfig().to_dict()}
    model.with_suffix(".json").write_text(json.dumps(meta))
    monkeypatch.setenv("CLEF_MODEL", str(model))
    window.update_model_actions()
    before = _snapshot(window.document)
    window.jobs.transcribe()
    qtbot.waitUntil(lambda: bool(errors), timeout=60_000)
    assert errors[0][0] == "Transcription failed", errors
    assert "clef.safetensors" in errors[0][1] and "pickle" in errors[0][1], errors
    qtbot.waitUntil(lambda: not window.jobs.transcription.running, timeout=10_000)
    assert _snapshot(window.document) == before
