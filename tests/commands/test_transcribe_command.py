"""`clef transcribe` on the demo with the shipped model: notes that match the recording."""

from pathlib import Path

import soundfile as sf

from clef_app.audio.io import load_audio
from clef_app.cli import main
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.training.metrics import note_scores

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
SECONDS = 8.0


def test_transcribe_writes_the_notes_played_in_one_pass_or_as_the_model_asks(tmp_path, capsys):
    audio = load_audio(DEMO / "demo.flac")
    clip = tmp_path / "opening.wav"
    sf.write(clip, audio.samples[: int(SECONDS * audio.sample_rate)], audio.sample_rate)
    truth = [n for n in read_notes_tsv(DEMO / "demo.notes.tsv") if n.onset < SECONDS - 0.3]
    scores = {}
    for name, extra in (("asked", []), ("one", ["--one-pass"])):
        out = tmp_path / f"{name}.tsv"
        assert main(["transcribe", str(clip), "-o", str(out), "--device", "cpu", "--quiet",
                     *extra]) == 0
        notes = [n for n in read_notes_tsv(out) if n.onset < SECONDS - 0.3]
        assert f"notes -> {out}" in capsys.readouterr().out
        scores[name] = note_scores(truth, notes)["onset_f1"]
    assert min(scores.values()) > 0.85, scores  # measured on v2: 0.93 in 2 passes, 0.88 in 1


def test_several_recordings_load_the_model_once_and_a_bad_one_does_not_stop_the_rest(
        tmp_path, capsys, monkeypatch):
    """Two recordings (one at 44.1 kHz, in a folder), a damaged one and a missing one into
    -o FOLDER: one output per good recording, one line per bad one, exit 2, one model load."""
    from clef_app.audio.io import resample
    from clef_app.model import checkpoint, pipeline

    audio = load_audio(DEMO / "demo.flac")
    first = tmp_path / "in" / "opening.wav"
    first.parent.mkdir()
    sf.write(first, audio.samples[: int(4.0 * audio.sample_rate)], audio.sample_rate)
    folder = tmp_path / "more"
    folder.mkdir()
    sf.write(folder / "later.flac", resample(audio.samples[int(8.0 * audio.sample_rate):
                                                           int(11.0 * audio.sample_rate)],
                                             audio.sample_rate, 44_100), 44_100)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    loads = []
    real = checkpoint.load_checkpoint
    monkeypatch.setattr(checkpoint, "load_checkpoint", lambda *a, **k: loads.append(a) or real(
        *a, **k))
    monkeypatch.setattr(pipeline, "_cache", {})  # loaded by this run, not an earlier test
    out = tmp_path / "out"
    code = main(["transcribe", str(first), str(folder), str(tmp_path / "gone.mp3"), "-o",
                 str(out), "--format", "tsv", "--one-pass", "--device", "cpu", "--quiet"])
    streams = capsys.readouterr()
    assert code == 2 and len(loads) == 1
    assert sorted(p.name for p in out.iterdir()) == ["later.tsv", "opening.tsv"]
    assert [line.split(": ")[0] for line in streams.out.splitlines()] == [
        "[1/3] opening.wav", "[3/3] later.flac"]
    errors = streams.err.strip().splitlines()
    assert any("gone.mp3: no such file" in e for e in errors)
    assert any("broken.wav: not a readable audio file" in e for e in errors)
    truth = [NoteEvent(n.onset - 8.0, n.offset - 8.0, n.pitch, n.velocity)
             for n in read_notes_tsv(DEMO / "demo.notes.tsv") if 8.0 <= n.onset < 10.7]
    later = [n for n in read_notes_tsv(out / "later.tsv") if n.onset < 2.7]
    assert note_scores(truth, later)["onset_f1"] > 0.8  # read at 16 kHz, in its own time


def test_output_paths_are_checked_before_any_transcribing(tmp_path, capsys, monkeypatch):
    from clef_app.model import pipeline

    monkeypatch.setattr(pipeline.Pipeline, "load", None)  # any load would fail loudly
    wav = tmp_path / "a.wav"
    sf.write(wav, load_audio(DEMO / "demo.flac").samples[:16000], 16000)
    taken = tmp_path / "taken.tsv"
    taken.write_text("")
    for argv, needle in (([str(wav), "-o", str(tmp_path / "no" / "x.tsv")], "does not exist"),
                         ([str(wav), "-o", str(tmp_path / "x.docx")], "x.docx"),
                         ([str(wav), str(wav), "-o", str(taken)], "names a folder"),
                         ([str(wav), str(tmp_path), "-o", str(tmp_path / "o")], "both write")):
        assert main(["transcribe", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)


def test_transcribing_imports_nothing_it_does_not_need(tmp_path):
    """Start-up counts (`clef peer-benchmark` times whole processes against Basic Pitch's):
    no timm (it pulled in torchvision and torch._dynamo, 2-3 s), no torch._dynamo (a meta
    model's initialisers imported it, 1.7 s), no scipy.signal for a 16-kHz file (the
    log-frequency front end imports only scipy.fft, 0.3 s), no notation engraving for a .tsv."""
    import subprocess
    import sys

    heavy = ("timm", "torchvision", "torch._dynamo", "sympy", "scipy.signal", "music21", "verovio",
             "matplotlib", "PySide6", "mir_eval")
    clip = Path(__file__).resolve().parents[1] / "data" / "opening.flac"
    code = ("import sys\n"
            "from clef_app.cli import main\n"
            f"assert main(['transcribe', {str(clip)!r}, '-o', {str(tmp_path / 'o.tsv')!r},"
            " '--one-pass', '--quiet']) == 0\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_installed_command_transcribes_several_files_into_a_folder(tmp_path):
    """Through the real entry point: `clef transcribe GOOD MISSING -o FOLDER`."""
    import subprocess
    import sys

    from tests.model.test_golden import unmatched

    clip = Path(__file__).resolve().parents[1] / "data" / "opening.flac"
    clef = Path(sys.executable).parent / "clef"
    done = subprocess.run([str(clef), "transcribe", str(clip), str(tmp_path / "gone.wav"), "-o",
                           str(tmp_path / "out"), "--format", "tsv", "--one-pass", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stdout.startswith("[1/1] opening.flac: ") and "notes ->" in done.stdout
    assert "gone.wav: no such file" in done.stderr
    golden = read_notes_tsv(Path(__file__).resolve().parents[1] / "data"
                            / "opening.one-pass.notes.tsv")
    got = read_notes_tsv(tmp_path / "out" / "opening.tsv")
    assert unmatched(golden, got) == ([], [])  # the golden notes, within their tolerances


def test_transcribe_gives_the_score_its_title_and_composer(tmp_path, capsys):
    audio = load_audio(DEMO / "demo.flac")
    clip = tmp_path / "clip.wav"
    sf.write(clip, audio.samples[: int(3.0 * audio.sample_rate)], audio.sample_rate)
    out = tmp_path / "clip.musicxml"
    assert main(["transcribe", str(clip), "-o", str(out), "--one-pass", "--device", "cpu",
                 "--quiet", "--title", "Opening", "--composer", "Anon."]) == 0
    xml = out.read_text()
    assert "<work-title>Opening</work-title>" in xml
    assert '<creator type="composer">Anon.</creator>' in xml and "Music21" not in xml
    assert main(["transcribe", str(clip), "-o", str(out), "--page-size", "B5"]) == 2
