"""Printed scores: A4 or US Letter pages (the user's choice, else the locale's), a title block
with title, composer and "transcribed by Clef", and the piano named as engravers name it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from clef_app.notation.events import read_notes_tsv
from clef_app.notation.export import export
from clef_app.notation.settings import ScoreSettings, locale_page_size, page_size_of

from .musescore import assert_musescore_opens, needs_mscore
from .musicxml_schema import assert_valid_musicxml, needs_xsd

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"
TITLED = {"title": "Sonata facile", "composer": "W. A. Mozart"}


@pytest.fixture(scope="module")
def notes():
    return read_notes_tsv(DEMO)


@pytest.mark.parametrize("size, points", [("a4", (595.28, 841.89)), ("letter", (612, 792))])
def test_pdf_pages_are_a4_or_letter_with_a_title_block(notes, tmp_path, size, points):
    path = export(notes, {**TITLED, "page_size": size}, tmp_path / f"{size}.pdf")
    pages = PdfReader(str(path)).pages
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            points, abs=0.5)
    text = pages[0].extract_text()
    for words in ("Sonata facile", "W. A. Mozart", "transcribed by Clef", "Piano"):
        assert words in text, words
    assert "Pno." not in text.split("Piano")[0]  # the first system says Piano, not Pno.


def test_later_systems_say_pno(notes, tmp_path):
    path = export(notes, TITLED, tmp_path / "s.pdf")
    text = PdfReader(str(path)).pages[0].extract_text()
    assert text.count("Piano") == 1 and text.count("Pno.") >= 2


def test_the_page_size_follows_the_locale_unless_chosen(monkeypatch):
    for var in ("LC_ALL", "LC_PAPER", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert locale_page_size() == "a4"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert locale_page_size() == "letter"
    assert page_size_of(ScoreSettings.from_dict({})) == "letter"
    assert page_size_of(ScoreSettings.from_dict({"page_size": "A4"})) == "a4"
    monkeypatch.setenv("LC_PAPER", "de_DE.UTF-8")
    assert locale_page_size() == "a4"
    with pytest.raises(ValueError):
        ScoreSettings.from_dict({"page_size": "A3"})


def test_title_and_composer_are_one_line_and_bounded():
    s = ScoreSettings.from_dict({"title": "  Op. 15\n  No. 11 ", "composer": "x" * 500})
    assert s.title == "Op. 15 No. 11" and len(s.composer) == 200


@needs_xsd
@pytest.mark.parametrize("size", ["a4", "letter"])
def test_the_musicxml_carries_the_page_and_title_block_and_stays_valid(notes, tmp_path, size):
    path = export(notes, {**TITLED, "page_size": size}, tmp_path / "t.musicxml")
    xml = path.read_text()
    assert_valid_musicxml(xml)
    assert "<page-layout>" in xml and "<credit-type>title</credit-type>" in xml
    assert ">transcribed by Clef</credit-words>" in xml


@needs_mscore
def test_musescore_opens_the_titled_musicxml(notes, tmp_path):
    path = export(notes, {**TITLED, "page_size": "letter"}, tmp_path / "t.musicxml")
    assert_musescore_opens(path, tmp_path)
