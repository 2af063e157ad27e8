"""Score › Properties: the title, composer and page size the score is printed with.

They are score settings of the document (`title`, `composer`, `page_size`), so they are
saved in the project, can be undone, and reach every export (MusicXML, MEI, PDF) as
`clef export`'s --title, --composer and --page-size do.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMainWindow,
    QWidget,
)

from clef_app.notation.settings import MAX_TITLE, ScoreSettings, locale_page_size

SIZE_NAMES = {"a4": "A4", "letter": "US Letter"}
KEYS = ("title", "composer", "page_size")


class ScorePropertiesDialog(QDialog):
    """Title, composer and page size ("" follows the locale)."""

    def __init__(self, settings: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Score Properties")
        s = ScoreSettings.from_dict(settings)
        self.title = QLineEdit(s.title)
        self.composer = QLineEdit(s.composer)
        for edit, hint in ((self.title, "e.g. Kinderszenen: Fürchtenmachen"),
                           (self.composer, "e.g. Robert Schumann")):
            edit.setMaxLength(MAX_TITLE)
            edit.setPlaceholderText(hint)
        self.page_size = QComboBox()
        self.page_size.addItem(f"As the system's locale ({SIZE_NAMES[locale_page_size()]})", "")
        for key, name in SIZE_NAMES.items():
            self.page_size.addItem(name, key)
        self.page_size.setCurrentIndex(max(0, self.page_size.findData(s.page_size)))
        form = QFormLayout(self)
        form.addRow("&Title:", self.title)
        form.addRow("&Composer:", self.composer)
        form.addRow("&Page size:", self.page_size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, str]:
        """The settings as entered (checked by ScoreSettings: one line, bounded)."""
        s = ScoreSettings.from_dict({"title": self.title.text(),
                                     "composer": self.composer.text(),
                                     "page_size": self.page_size.currentData()})
        return {"title": s.title, "composer": s.composer, "page_size": s.page_size}


def apply(document, values: dict[str, str]) -> None:
    """Set the properties on the document, an undo step for each one changed (the project's
    history keeps one setting per step); blank ones are removed."""
    for key, value in values.items():
        if (document.settings.get(key) or "") != value:
            document.set_setting(key, value or None, f"Score {key.replace('_', ' ')}")


def show(window: QMainWindow) -> None:
    dialog = ScorePropertiesDialog(window.document.settings, window)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        apply(window.document, dialog.values())


def build_menu(window: QMainWindow, action) -> None:
    """The Score menu; `action` is menus._action (name, text, slot, keys, tip, ...)."""
    menu = window.menus["score"] = window.menuBar().addMenu("&Score")
    menu.addAction(action(window, "score_properties", "&Properties…", lambda: show(window), (),
                          "title, composer and page size of the printed score"))
