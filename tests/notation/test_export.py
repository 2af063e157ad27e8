"""Exports: MusicXML, MIDI, PDF and MEI read back by music21, pypdf, Verovio and MuseScore."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import mido
import pytest
from music21 import converter
from pypdf import PdfReader

from clef_app.notation.events import new_note_id, read_notes_tsv
from clef_app.notation.export import ExportError, export
from clef_app.notation.score import build_score

from .musescore import assert_musescore_opens, needs_mscore

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"
MEI_NS = "http://www.music-encoding.org/ns/mei"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


@pytest.fixture(scope="module")
def demo():
    notes = read_notes_tsv(DEMO)
    return notes, build_score(notes)


def pitches_in_order(score):
    flat = []
    for part in score.parts:
        for n in part.stripTies().flatten().notes:
            flat += [(float(n.getOffsetInHierarchy(part)), p.midi) for p in n.pitches]
    return [p for _, p in sorted(flat)]


def test_musicxml_reads_back_with_the_same_pitches_in_the_same_order(demo, tmp_path):
    notes, result = demo
    path = export(notes, {}, tmp_path / "demo.musicxml", result)
    back = converter.parse(str(path))
    played = sorted(notes, key=lambda n: (n.onset, n.pitch))
    assert pitches_in_order(back) == [n.pitch for n in played]
    assert len(back.parts) == 2


def test_score_midi_has_tempo_map_time_signature_and_key(demo, tmp_path):
    notes, result = demo
    path = export(notes, {}, tmp_path / "demo.mid", result, kind="midi_score")
    meta = [m for track in mido.MidiFile(str(path)).tracks for m in track if m.is_meta]
    tempos = [mido.tempo2bpm(m.tempo) for m in meta if m.type == "set_tempo"]
    assert len(tempos) >= 40  # a lead-in to the first tracked beat, then one per beat
    assert tempos[1] == pytest.approx(112, rel=0.03) and min(tempos) < 108  # the ritardando
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (4, 4) for m in meta)
    assert any(m.type == "key_signature" and m.key == "C" for m in meta)
    back = converter.parse(str(path))
    assert sorted(pitches_in_order(back)) == sorted(n.pitch for n in notes)


def test_pdf_has_every_page_as_vector_graphics(tmp_path):
    notes = read_notes_tsv(DEMO)
    long = notes + [replace(n.moved(dt=k * 27.0), id=new_note_id()) for k in (1, 2) for n in notes]
    path = export(long, {}, tmp_path / "long.pdf")
    reader = PdfReader(str(path))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        subtypes = [xobjects[k].get_object().get("/Subtype") for k in xobjects]
        assert "/Image" not in subtypes
        assert len(page.get_contents().get_data()) > 1000  # drawn paths, not an empty page
    if shutil.which("pdfimages"):
        listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True)
        assert len(listing.stdout.strip().splitlines()) == 2  # header lines only


def test_mei_reads_back_in_music21_and_verovio(demo, tmp_path, capfd):
    notes, result = demo
    path = export(notes, {}, tmp_path / "demo.mei", result)
    text = path.read_text()
    assert_well_formed_mei(text, [f"n{n.id}" for n in notes])
    back = converter.parse(str(path))
    assert sorted(pitches_in_order(back)) == sorted(n.pitch for n in notes)
    assert back.recurse().getElementsByClass("TimeSignature")[0].ratioString == "4/4"
    assert back.recurse().getElementsByClass("KeySignature")[0].sharps == 0
    assert verovio_complaints(text, capfd) == []


def test_mei_of_compound_meter_and_tuplets_reads_back(tmp_path, capfd):
    from .test_meter import JIG, performed
    from .test_tuplets import bars_with_a_run

    for name, notes, meter, tuplets in [("jig", performed(JIG), "6/8", 0),
                                        ("fives", bars_with_a_run(5), "4/4", 20)]:
        path = export(notes, {"pickup": 0} if tuplets else {}, tmp_path / f"{name}.mei")
        text = path.read_text()
        assert_well_formed_mei(text, [f"n{n.id}" for n in notes])
        assert verovio_complaints(text, capfd) == []
        back = converter.parse(str(path))
        assert back.recurse().getElementsByClass("TimeSignature")[0].ratioString == meter
        found = [n for n in back.recurse().notes if n.duration.tuplets]
        assert len(found) == tuplets
        assert all(t.numberNotesActual == 5 for n in found for t in n.duration.tuplets)
        assert sorted(pitches_in_order(back)) == sorted(n.pitch for n in notes)


def test_the_verovio_check_sees_a_broken_mei(demo, tmp_path, capfd):
    notes, result = demo
    text = export(notes, {}, tmp_path / "demo.mei", result).read_text()
    broken = text.replace("<note ", "<nonsense ", 1).replace('dur="4"', 'dur="5"', 1)
    complaints = verovio_complaints(broken, capfd)
    assert any("nonsense" in c for c in complaints) and any("dur" in c for c in complaints)


def assert_well_formed_mei(text: str, note_ids: list[str]) -> None:
    """XML well-formed, an MEI root with its version, unique xml:ids, every note's id kept."""
    root = ElementTree.fromstring(text.encode("utf-8"))
    assert root.tag == f"{{{MEI_NS}}}mei" and root.get("meiversion")
    ids = [el.get(XML_ID) for el in root.iter() if el.get(XML_ID)]
    assert len(ids) == len(set(ids))
    assert set(note_ids) <= set(ids)


def verovio_complaints(text: str, capfd) -> list[str]:
    """Verovio's warnings and errors on loading the MEI and laying out every page."""
    import verovio

    capfd.readouterr()
    verovio.enableLog(verovio.LOG_WARNING)
    try:
        tk = verovio.toolkit(False)  # fonts load with the resource path, below
        # set per thread at import: verovio may have been imported first on a worker thread
        tk.setResourcePath(str(Path(verovio.__file__).parent / "data"))
        assert tk.loadData(text) and tk.getPageCount() >= 1
        for page in range(1, tk.getPageCount() + 1):
            assert "<svg" in tk.renderToSVG(page)
    finally:
        verovio.enableLog(verovio.LOG_OFF)
    out = capfd.readouterr()
    return [line for line in (out.err + out.out).splitlines()
            if "[Warning]" in line or "[Error]" in line]


def test_unknown_suffix_is_refused(demo, tmp_path):
    with pytest.raises(ExportError, match="use one of"):
        export(demo[0], {}, tmp_path / "demo.docx")


@needs_mscore
@pytest.mark.parametrize("suffix", [".musicxml", ".mid"])
def test_musescore_opens_the_export(demo, tmp_path, suffix):
    notes, result = demo
    assert_musescore_opens(export(notes, {}, tmp_path / f"demo{suffix}", result), tmp_path)
