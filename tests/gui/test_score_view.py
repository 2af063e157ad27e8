"""The score view: Verovio pages in QtSvg, clicks map to note ids, edits leave as data."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from clef_app.gui.document import Document
from clef_app.gui.score_view import ScoreView, flatten_definition_scale, flatten_text
from clef_app.notation.edits import NoteEdit, SettingsEdit
from clef_app.notation.events import read_notes_tsv

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.notes.tsv"


@pytest.fixture(scope="module")
def notes():
    return read_notes_tsv(DEMO)


@pytest.fixture
def document(notes):
    doc = Document()
    doc.load(None, None, 16_000, notes)
    return doc


@pytest.fixture
def view(qtbot, notes, document):
    v = ScoreView(document)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    with qtbot.waitSignal(v.engraved, timeout=30_000):
        v.set_document_notes(notes, {})  # on a worker thread
    return v


def test_nested_svg_becomes_a_scaled_group():
    svg = ('<svg viewBox="0 0 840 1188" version="1.1">'
           '<svg class="definition-scale" color="black" viewBox="0 0 21000 29700">'
           '<g id="n1" class="note"></g></svg></svg>')
    flat = flatten_definition_scale(svg)
    assert flat.count("<svg") == 1 and flat.count("</svg>") == 1
    assert 'transform="scale(0.04, 0.04)"' in flat and flat.endswith("</g></svg>")
    text = ('<text x="1" font-size="0px"><tspan class="rend">'
            '<tspan font-size="9px">5</tspan></tspan></text>')
    assert flatten_text(text) == '<text x="1"><tspan font-size="9px">5</tspan></text>'


def test_an_empty_text_before_a_tempo_mark_leaves_the_page_drawable():
    """Verovio writes an empty <text .../> for a bar number it hides; the tempo mark's text
    after it was flattened into the empty one, leaving stray tspans, and QtSvg refused the
    whole page (the first segment of a 3-minute piece was drawn 0 px tall)."""
    from clef_app.gui.score_pages import Page

    mark = ('<text x="30" y="20" font-size="0px"><tspan class="rend"><tspan class="text">'
            '<tspan font-size="9px">q = 52</tspan></tspan></tspan></text>')
    svg = ('<svg viewBox="0 0 100 50" version="1.1" xmlns="http://www.w3.org/2000/svg">'
           '<g class="mNum"><text x="10" y="10" text-anchor="middle" font-size="0px" /></g>'
           f'<g class="tempo">{mark}</g></svg>')
    assert flatten_text(svg).count("<tspan") == 1
    page = Page(svg)
    assert page.renderer.isValid() and page.size.height() == 50


def test_every_note_has_a_box_and_clicking_it_selects_that_note(view, notes, qtbot):
    boxes = {eid for page in view.pages_widget.pages for eid in page.boxes}
    assert {f"n{n.id}" for n in notes} <= boxes
    for note in (notes[0], notes[57], notes[-1]):
        rect = view.note_rect(note.id)
        assert rect is not None and rect.width() > 2
        view.ensureVisible(int(rect.center().x()), int(rect.center().y()))
        with qtbot.waitSignal(view.noteClicked) as sig:
            qtbot.mouseClick(view.pages_widget, Qt.MouseButton.LeftButton,
                             pos=rect.center().toPoint())
        assert sig.args == [note.id]
        assert view.selected == {note.id}


def test_clicking_empty_paper_selects_nothing(view, qtbot):
    with qtbot.assertNotEmitted(view.noteClicked):
        qtbot.mouseClick(view.pages_widget, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))


def test_selection_is_drawn_in_colour(view, notes):
    before = view.pages_widget.grab().toImage()
    view.select_notes({notes[0].id, notes[1].id})
    after = view.pages_widget.grab().toImage()
    rect = view.note_rect(notes[0].id).toRect()
    reds = sum(1 for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())
               if (c := after.pixelColor(x, y)).red() > 150 and c.green() < 100)
    assert reds > 10
    assert before != after


def test_keys_request_undoable_edits(view, notes, qtbot):
    target = notes[5]
    view.select_notes({target.id})
    with qtbot.waitSignal(view.editRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Up)
    edit = sig.args[0]
    assert isinstance(edit, NoteEdit) and edit.added[0].pitch == target.pitch + 1
    with qtbot.waitSignal(view.editRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_J)
    assert isinstance(sig.args[0], SettingsEdit) and sig.args[0].key == "spelling"
    with qtbot.waitSignal(view.editRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sig.args[0].removed == (target,) and sig.args[0].added == ()


def test_context_menu_offers_meter_and_key_from_the_bar(view, notes):
    view.select_notes({notes[-1].id})
    menu = view.build_menu(notes[-1].id)
    texts = [a.text() for a in menu.actions()]
    assert "Time signature from bar 12…" in texts and "Key from bar 12…" in texts


def test_empty_document_shows_no_pages(view, qtbot):
    with qtbot.waitSignal(view.engraved, timeout=30_000):
        view.set_document_notes([], {})
    assert view.pages_widget.pages == [] and view.result is None


def test_only_the_latest_of_quick_requests_is_engraved_last(view, notes, qtbot):
    engraved = []
    view.engraved.connect(lambda: engraved.append(len(view.result.placed)))
    view.set_document_notes(notes[:10], {})
    view.set_document_notes(notes[:20], {})
    view.set_document_notes(notes[:30], {})
    qtbot.waitUntil(lambda: bool(engraved) and engraved[-1] == 30, timeout=30_000)
    qtbot.wait(200)
    assert engraved[-1] == 30 and len(engraved) <= 2


def test_synchronous_mode_engraves_at_once(qtbot, notes, document):
    v = ScoreView(document)
    qtbot.addWidget(v)
    v.background = False
    v.set_document_notes(notes[:12], {})
    assert v.result is not None and len(v.pages_widget.pages) == 1
