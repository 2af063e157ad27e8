"""Score › Properties: title, composer and page size, stored in the project, undoable, and
what every export prints."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from clef_app.gui import score_properties
from clef_app.gui.score_properties import ScorePropertiesDialog


def test_properties_are_set_undone_saved_and_exported(window, tmp_path, monkeypatch):
    doc = window.document
    action = window.named_actions["score_properties"]
    assert action in window.menus["score"].actions()
    steps = doc.undo_stack.count()

    def fill(dialog):
        dialog.title.setText("Kinderszenen:\nFürchtenmachen")
        dialog.composer.setText("Robert Schumann")
        dialog.page_size.setCurrentIndex(dialog.page_size.findData("letter"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ScorePropertiesDialog, "exec", fill)
    action.trigger()
    assert {k: doc.settings.get(k) for k in score_properties.KEYS} == {
        "title": "Kinderszenen: Fürchtenmachen", "composer": "Robert Schumann",
        "page_size": "letter"}
    assert doc.undo_stack.count() == steps + 3  # a step for each (the history's unit)
    for _ in range(3):
        doc.undo_stack.undo()
    assert not any(doc.settings.get(k) for k in score_properties.KEYS)
    for _ in range(3):
        doc.undo_stack.redo()

    project = tmp_path / "take.clef"
    assert window.controller.save_to(project)
    from clef_app.project.format import load_project

    assert load_project(project).settings["composer"] == "Robert Schumann"

    out = tmp_path / "take.musicxml"
    from clef_app.notation.export import export

    xml = export(doc.sorted_notes(), dict(doc.settings), out).read_text()
    assert "<work-title>Kinderszenen: Fürchtenmachen</work-title>" in xml
    assert '<creator type="composer">Robert Schumann</creator>' in xml


def test_the_dialog_shows_what_is_set_and_cancel_changes_nothing(window, monkeypatch):
    doc = window.document
    doc.set_setting("composer", "Clara Wieck")
    dialog = ScorePropertiesDialog(doc.settings, window)
    assert dialog.composer.text() == "Clara Wieck" and dialog.page_size.currentData() == ""
    assert dialog.values() == {"title": "", "composer": "Clara Wieck", "page_size": ""}
    before = dict(doc.settings), doc.undo_stack.count()
    monkeypatch.setattr(ScorePropertiesDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    window.named_actions["score_properties"].trigger()
    assert (dict(doc.settings), doc.undo_stack.count()) == before
