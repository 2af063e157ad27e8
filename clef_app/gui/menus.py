"""The main window's actions, menus and toolbars (Qt conventions: File, Edit, View, ...).

Every action is kept in `window.named_actions[name]` and every menu in `window.menus[name]`, so
tests can find them. File actions call the application controller (`window.controller`);
the window is only where the menus are laid out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QToolBar

from clef_app.gui import file_actions, model_menu, preferences, score_properties
from clef_app.notation import note_edits

MainWindow = QMainWindow  # the window whose menus these are (gui.main_window builds them)

ZOOM_STEP = 0.7  # view span factor per zoom-in step
WHY_TIP = "show where on the spectrogram the model looked to write the selected note (W)"

HELP_TEXT = """<h3>Working on the spectrogram</h3>
<table cellspacing=4>
<tr><td><b>Click</b> a note</td><td>select it (Shift/Ctrl+click: add or remove)</td></tr>
<tr><td><b>Drag</b> on empty space</td><td>select the notes in a rectangle</td></tr>
<tr><td><b>Drag</b> a note</td><td>move the selection (pitch snaps to semitones;
Shift locks the direction)</td></tr>
<tr><td><b>Drag</b> a note's right end</td><td>change its length</td></tr>
<tr><td><b>Double-click</b> empty space</td><td>add a note (or use the Draw tool, D)</td></tr>
<tr><td><b>Delete</b></td><td>delete the selected notes</td></tr>
<tr><td><b>↑ ↓</b> / Shift+↑ ↓</td><td>transpose by a semitone / an octave</td></tr>
<tr><td><b>← →</b></td><td>move in time by 10 ms (Shift: 100 ms)</td></tr>
<tr><td><b>Alt+wheel</b> / <b>[ ]</b></td><td>velocity of the selected notes</td></tr>
<tr><td><b>J</b></td><td>respell enharmonically (as in the score)</td></tr>
<tr><td><b>K</b></td><td>mark as right: Transcribe Again (Ctrl+Shift+T) keeps them</td></tr>
<tr><td><b>Right-click</b> a note</td><td>its menu: Why This Note?, Delete, Loop</td></tr>
<tr><td><b>W</b></td><td>why this note? where the model looked (Esc hides it)</td></tr>
<tr><td><b>Wheel</b> / Ctrl+wheel</td><td>zoom time / pitch</td></tr>
<tr><td><b>Middle or right drag</b></td><td>scroll</td></tr>
<tr><td><b>Click / drag</b> the time ruler</td><td>seek / mark a loop region</td></tr>
<tr><td><b>Click</b> a key</td><td>hear that pitch</td></tr>
<tr><td><b>Space</b></td><td>play / pause</td></tr>
</table>
<h3>What the notes' shading means</h3>
<table cellspacing=4>
<tr><td><b>Cyan, solid</b></td><td>the model is sure: at least 80 % of notes this sure are
right</td></tr>
<tr><td><b>Paler, still solid</b></td><td>less sure: the paler, the more often such notes
are wrong</td></tr>
<tr><td><b>Pale grey, dashed</b></td><td>doubtful: fewer than 40 % of such notes are right;
check these first</td></tr>
<tr><td><b>White wash, thin outline</b></td><td>found by a transcription still running (or
live input still deciding): not in your notes yet</td></tr>
<tr><td><b>Yellow</b></td><td>selected</td></tr>
</table>
<p>A recording's own notes (a <tt>.notes.tsv</tt> beside it, as the demo has) are drawn
the same way, as fully sure: they are what was played, not what the model heard.</p>
<h3>Working on the score</h3>
<table cellspacing=4>
<tr><td><b>Click</b> a note</td><td>select it (Shift+click: add or remove); the
spectrogram selects it too</td></tr>
<tr><td><b>↑ ↓</b> / Ctrl+↑ ↓</td><td>transpose by a semitone / an octave</td></tr>
<tr><td><b>3 4 5 6 7</b></td><td>length: sixteenth, eighth, quarter, half, whole</td></tr>
<tr><td><b>.</b></td><td>dotted (half as long again)</td></tr>
<tr><td><b>0</b> / Insert</td><td>insert a rest before the selection</td></tr>
<tr><td><b>[ ]</b></td><td>velocity</td></tr>
<tr><td><b>J</b></td><td>respell enharmonically</td></tr>
<tr><td><b>Delete</b></td><td>delete the selected notes</td></tr>
<tr><td><b>Right-click</b></td><td>a note's or a bar's menu: meter, key and tempo from that
bar</td></tr>
</table>"""


def _action(window: MainWindow, name: str, text: str, slot: Callable | None = None,
            keys: tuple = (), tip: str = "", checkable: bool = False,
            context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QAction:
    action = QAction(text, window)
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(context)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(lambda *_: slot())
    window.named_actions[name] = action
    return action


def build(window: MainWindow) -> dict[str, QAction]:
    window.named_actions, window.menus = {}, {}
    _file_menu(window)
    _edit_menu(window)
    _view_menu(window)
    score_properties.build_menu(window, _action)
    _play_menu(window)
    model_menu.build_menu(window, _action)
    _help_menu(window)
    _toolbars(window)
    return window.named_actions


def _file_menu(window: MainWindow) -> None:
    menu = window.menus["file"] = window.menuBar().addMenu("&File")
    menu.setToolTipsVisible(True)
    c = window.controller
    for name, text, slot, key, tip in (
        ("open", "&Open Recording…", partial(_ask_open, window, "recording"),
         QKeySequence.StandardKey.Open, "open a WAV, FLAC, OGG or MP3 file"),
        ("open_project", "Open &Project…", partial(_ask_open, window, "project"),
         "Ctrl+Shift+O", "open a Clef project (.clef)"),
        ("save_project", "&Save Project", c.save, QKeySequence.StandardKey.Save,
         "save the notes, score settings, edit history and recording"),
        ("save_project_as", "Save Project &As…", c.save_as, QKeySequence.StandardKey.SaveAs,
         "save the project under a new name"),
    ):
        menu.addAction(_action(window, name, text, slot, (key,), tip))
    embed = _action(window, "embed_audio", "&Embed Recording in Projects", None, (),
                    "on: the project file holds the recording (FLAC); off: it refers to the "
                    "recording's file", checkable=True)
    embed.setChecked(bool(preferences.get("project/embed_audio")))
    embed.toggled.connect(lambda on: preferences.put("project/embed_audio", on))
    menu.addAction(embed)
    menu.addSeparator()
    menu.addAction(_action(window, "import_midi", "&Import MIDI…",
                           partial(_ask_open, window, "midi"), ("Ctrl+I",),
                           "replace the notes with those of a MIDI file"))
    window.menus["recent"] = menu.addMenu("Open &Recent")
    fill_recent(window)
    c.recentChanged.connect(partial(fill_recent, window))
    menu.addSeparator()
    export = window.menus["export"] = menu.addMenu("&Export")
    export.setToolTipsVisible(True)
    for kind, (label, _suffix, what) in file_actions.EXPORTS.items():
        export.addAction(_action(window, f"export_{kind}", f"{label}…",
                                 partial(_ask_export, window, kind), tip=what))
    menu.addSeparator()
    menu.addAction(_action(window, "quit", "&Quit", window.close, (QKeySequence.StandardKey.Quit,)))


def _ask_open(window: MainWindow, kind: str) -> None:
    path = file_actions.ask_open(window, kind)
    if path is not None:
        window.controller.open(path)


def _ask_export(window: MainWindow, kind: str) -> None:
    c = window.controller
    base = c.path or c.document.audio_path
    path = file_actions.ask_export(window, kind, base.stem if base is not None else "score")
    if path is not None:
        c.export(path, kind)


def fill_recent(window: MainWindow) -> None:
    menu = window.menus["recent"]
    menu.clear()
    recent = window.controller.recent()
    for path in recent:
        action = menu.addAction(Path(path).name)
        action.setToolTip(path)
        action.triggered.connect(lambda *_, p=path: window.controller.open(p))
    menu.setEnabled(bool(recent))


def _edit_menu(window: MainWindow) -> None:
    menu = window.menus["edit"] = window.menuBar().addMenu("&Edit")
    stack, editor = window.document.undo_stack, window.spectrogram.editor
    undo = stack.createUndoAction(window, "&Undo")
    undo.setShortcuts([QKeySequence.StandardKey.Undo])
    redo = stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.named_actions["undo"], window.named_actions["redo"] = undo, redo
    menu.addActions([undo, redo])
    menu.addSeparator()
    # note keys act only while the spectrogram has the focus (the score has its own)
    local = Qt.ShortcutContext.WidgetWithChildrenShortcut
    items = [
        ("delete", "&Delete Notes", editor.delete_selected, (QKeySequence.StandardKey.Delete,
                                                             "Backspace")),
        ("select_all", "Select &All", lambda: window.document.set_selection(
            window.document.notes), (QKeySequence.StandardKey.SelectAll,)),
        ("select_none", "Select &None", lambda: window.document.set_selection(()), ("Esc",)),
        None,
        ("transpose_up", "Semitone Up", partial(editor.transpose, 1), ("Up",)),
        ("transpose_down", "Semitone Down", partial(editor.transpose, -1), ("Down",)),
        ("octave_up", "Octave Up", partial(editor.transpose, 12), ("Shift+Up",)),
        ("octave_down", "Octave Down", partial(editor.transpose, -12), ("Shift+Down",)),
        ("nudge_left", "Earlier by 10 ms", partial(editor.nudge, -0.01), ("Left",)),
        ("nudge_right", "Later by 10 ms", partial(editor.nudge, 0.01), ("Right",)),
        ("nudge_left_more", "Earlier by 100 ms", partial(editor.nudge, -0.1), ("Shift+Left",)),
        ("nudge_right_more", "Later by 100 ms", partial(editor.nudge, 0.1), ("Shift+Right",)),
        ("velocity_up", "Louder", partial(editor.step_velocity, 1), ("]",)),
        ("velocity_down", "Softer", partial(editor.step_velocity, -1), ("[",)),
        ("respell", "Respell Enharmonically", partial(_respell, window), ("J",)),
        ("confirm", "&Mark as Right", partial(_confirm, window), ("K",)),
    ]
    for item in items:
        if item is None:
            menu.addSeparator()
            continue
        name, text, slot, keys = item
        action = _action(window, name, text, slot, keys, context=local)
        window.spectrogram.addAction(action)
        menu.addAction(action)
    menu.addSeparator()
    tools = QActionGroup(window)
    for name, text, key, draw in (("tool_select", "&Select Tool", "V", False),
                                  ("tool_draw", "D&raw Tool", "D", True)):
        action = _action(window, name, text, partial(_set_draw, window, draw), (key,),
                         checkable=True, context=local,
                         tip="drag on empty space to draw a note" if draw else
                         "click and drag to select, move and resize notes")
        window.spectrogram.addAction(action)
        tools.addAction(action)
        menu.addAction(action)
    window.named_actions["tool_select"].setChecked(True)
    menu.addSeparator()
    menu.addAction(_action(window, "preferences", "&Preferences…", window.show_preferences,
                           (QKeySequence.StandardKey.Preferences, "Ctrl+,")))


def _confirm(window: MainWindow) -> None:
    """The selected notes become the user's: Transcribe Again keeps them."""
    doc = window.document
    edit = note_edits.confirm(doc.sorted_notes(), doc.selection)
    if edit is not None:
        doc.apply(edit)
        window.controller.status.emit(f"{len(edit.added)} notes marked as right: Transcribe "
                                      "Again keeps them", 5000)


def _reread(window: MainWindow) -> None:
    """Transcribe the marked region, or the box of the selected notes, again."""
    from clef_app.gui.reread import passage_of

    passage = passage_of(window.spectrogram.loop_region(), window.document.selected_notes())
    if passage is None:
        window.controller.status.emit("Transcribe Again: mark a region on the time ruler or "
                                      "select notes first", 8000)
        return
    window.controller.jobs.reread(passage)


def _respell(window: MainWindow) -> None:
    """The next spelling of the selected notes, from the score on screen (as J there)."""
    doc, result = window.document, window.score_view.result
    if result is not None and doc.selection:
        edit = note_edits.respell(doc.settings, sorted(doc.selection), result)
        if edit is not None:
            doc.apply(edit)


def _set_draw(window: MainWindow, draw: bool) -> None:
    window.spectrogram.editor.draw_mode = draw
    window.status("Draw tool: drag on empty space to draw a note" if draw else "Select tool")


def _view_menu(window: MainWindow) -> None:
    menu = window.menus["view"] = window.menuBar().addMenu("&View")
    view = window.spectrogram
    for name, text, slot, keys in (
        ("zoom_in", "Zoom &In (time)", partial(view.zoom, ZOOM_STEP, 0), ("Ctrl+=", "Ctrl++")),
        ("zoom_out", "Zoom &Out (time)", partial(view.zoom, 1 / ZOOM_STEP, 0), ("Ctrl+-",)),
        ("zoom_pitch_in", "Zoom In (pitch)", partial(view.zoom, ZOOM_STEP, 1), ("Ctrl+Shift+=",)),
        ("zoom_pitch_out", "Zoom Out (pitch)", partial(view.zoom, 1 / ZOOM_STEP, 1),
         ("Ctrl+Shift+-",)),
        ("fit", "&Fit to Window", view.fit, ("Ctrl+0",)),
        ("fit_notes", "Fit to &Notes", view.fit_notes_pitch, ("Ctrl+Shift+0",)),
    ):
        menu.addAction(_action(window, name, text, slot, keys))
    menu.addSeparator()
    menu.addAction(_action(window, "follow", "F&ollow Playback", None, ("F",),
                           "keep the playback cursor in view", checkable=True))
    menu.addSeparator()
    why = _action(window, "why", "&Why This Note?", window.controller.jobs.explain_note, ("W",),
                  WHY_TIP, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.spectrogram.addAction(why)
    menu.addAction(why)


def _play_menu(window: MainWindow) -> None:
    menu = window.menus["play"] = window.menuBar().addMenu("&Play")
    pb = window.playback
    menu.addAction(_action(window, "play", "&Play / Pause", pb.toggle, ("Space",)))
    menu.addAction(_action(window, "rewind", "Go to &Start", lambda: pb.seek(0.0), ("Home",)))
    menu.addSeparator()
    menu.addAction(_action(window, "loop_selection", "&Loop Selected Notes",
                           window.looping.loop_selection, ("L",)))
    menu.addAction(_action(window, "clear_loop", "&Clear Loop",
                           lambda: window.spectrogram.set_loop(0.0, 0.0), ("Shift+L",)))
    menu.addSeparator()
    menu.addAction(_action(window, "transcribe", "&Transcribe", window.controller.jobs.transcribe,
                           ("Ctrl+T",)))
    menu.addAction(_action(window, "reread", "Transcribe &Again", partial(_reread, window),
                           ("Ctrl+Shift+T",), "transcribe the marked region (or the selected "
                           "notes' box) again, keeping the notes you added, moved, resized or "
                           "marked as right (K), never writing those you deleted"))


def _help_menu(window: MainWindow) -> None:
    menu = window.menus["help"] = window.menuBar().addMenu("&Help")
    menu.addAction(_action(window, "open_demo", "Open the &Demo Recording",
                           window.controller.open_demo))
    menu.addAction(_action(window, "shortcuts", "&Mouse and Keys", lambda: QMessageBox.information(
        window, "Mouse and keys", HELP_TEXT), ("F1",)))


def _toolbars(window: MainWindow) -> None:
    a = window.named_actions
    main = QToolBar("Main", window)
    main.setObjectName("mainToolbar")
    main.setMovable(False)
    main.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    main.addActions([a["open"], a["transcribe"]])
    main.addSeparator()
    main.addWidget(window.transport)
    main.addSeparator()
    main.addActions([a["tool_select"], a["tool_draw"]])
    main.addWidget(QLabel(" Velocity "))
    main.addWidget(window.velocity)
    main.addSeparator()
    main.addActions([a["zoom_in"], a["zoom_out"], a["fit"], a["follow"]])
    a["tool_select"].setIconText("Select")
    a["tool_draw"].setIconText("Draw")
    a["zoom_in"].setIconText("Zoom +")
    a["zoom_out"].setIconText("Zoom −")
    a["fit"].setIconText("Fit")
    a["follow"].setIconText("Follow")
    window.addToolBar(main)
    window.toolbar = main
