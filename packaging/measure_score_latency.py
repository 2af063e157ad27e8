"""How long the score view takes to show an edit, with the real widgets (issue 17).

    .venv/bin/python packaging/measure_score_latency.py [NOTES.tsv|.mid] [--edits 5]

Opens the notes (default: the demo played seven times over, about three minutes) in a
ScoreView as the main window shows it, waits for the first engraving, then makes edits
the way a user does (an octave up on a note in the segment in view, through the
document's undo stack) and prints, for each, the wall time until the pane is painted
with the edit's mark (`score_marks`: the note drawn where the edit put it, its old
engraving hidden) and the GUI thread's CPU time meanwhile, the wall and CPU time until the
view shows the changed segment engraved (`previewed`) and until the whole score is current
again (`engraved`: only changed segments engraved anew), and the load average; then the
median time to the mark. Also the first engraving's time, and whether one whole grand-staff
system fits the score pane at the window's default size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "resources" / "demo" / "demo.notes.tsv"


def three_minutes() -> list:
    from clef_app.notation.events import new_note_id, read_notes_tsv

    demo = read_notes_tsv(DEMO)
    span = max(n.offset for n in demo) + 0.5
    return [replace(n, onset=n.onset + k * span, offset=n.offset + k * span, id=new_note_id())
            for k in range(7) for n in demo]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("notes", nargs="?", type=Path, default=None)
    p.add_argument("--edits", type=int, default=5)
    args = p.parse_args()
    import tempfile

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

    config = tempfile.mkdtemp(prefix="clef-latency-")  # the default layout, not the user's
    os.environ["XDG_CONFIG_HOME"] = config
    os.environ["CLEF_RECOVERY_DIR"] = os.path.join(config, "recovery")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, config)

    from clef_app.gui.app import make_application
    from clef_app.gui.main_window import MainWindow

    app = make_application()
    if args.notes is None:
        notes = three_minutes()
    else:
        from clef_app.commands.export import read_notes

        notes = read_notes(args.notes)
    window = MainWindow()
    window.show()
    view, doc = window.score_view, window.document

    def wait_for(signal, limit_s: float = 600.0) -> tuple[float, float]:
        loop, clock, cpu = QEventLoop(), QElapsedTimer(), time.process_time()
        clock.start()
        signal.connect(loop.quit)
        QTimer.singleShot(int(limit_s * 1000), loop.quit)
        loop.exec()
        signal.disconnect(loop.quit)
        return clock.elapsed() / 1000, time.process_time() - cpu

    clock = time.perf_counter()
    doc.load(None, None, 16_000, notes)
    wall, _ = wait_for(view.engraved)
    seconds = max(n.offset for n in notes)
    print(f"{len(notes)} notes, {seconds:.0f} s, {len(view.result.bars)} bars, "
          f"{len(view.pages_widget.pages)} segments: first engraving {wall:.2f} s")
    pane = view.viewport().height()
    first = view.pages_widget.page_rects()[0].height() if view.pages_widget.pages else 0
    print(f"window {window.width()}x{window.height()}, score pane {view.width()}x{pane} px; "
          f"first segment drawn {first:.0f} px tall")
    ordered = doc.sorted_notes()
    marks = []
    for k in range(args.edits):
        target = ordered[(k + 1) * len(ordered) // (args.edits + 1)]
        rect = view.note_rect(target.id)
        if rect is not None:
            view.ensureVisible(int(rect.center().x()), int(rect.center().y()), 50, 200)
        app.processEvents()
        load = os.getloadavg()[0]
        painted: list[tuple[float, float]] = []  # (wall, GUI thread's CPU) of the first paint

        def on_paint(painted=painted) -> None:
            if not painted:
                painted.append((time.perf_counter(), time.thread_time()))

        view.pages_widget.painted.connect(on_paint)
        start, gui_cpu = time.perf_counter(), time.thread_time()
        doc.replace_notes("Octave up", [target], [replace(target, pitch=target.pitch + 12)])
        if not painted:
            wait_for(view.pages_widget.painted, 60)
        view.pages_widget.painted.disconnect(on_paint)
        marked, gui_cpu = painted[0][0] - start, painted[0][1] - gui_cpu
        drawn = any(page.marks for page in view.pages_widget.pages)
        marks.append(marked)
        shown, shown_cpu = wait_for(view.previewed, 60)
        done, done_cpu = wait_for(view.engraved, 600)
        after = view.note_rect(target.id)
        moved = rect is not None and after is not None and after.y() < rect.y()
        print(f"edit {k + 1} (note at {target.onset:6.1f} s, load {load:.1f}): marked after "
              f"{marked:.3f} s ({gui_cpu * 1000:.0f} ms CPU, mark drawn: {drawn}), engraved "
              f"segment shown after {marked + shown:.2f} s ({shown_cpu:.2f} s CPU), whole "
              f"score current after {time.perf_counter() - start:.2f} s "
              f"({shown_cpu + done_cpu:.2f} s CPU); the note drawn higher: {moved}")
    print(f"median edit -> mark on screen {statistics.median(marks):.3f} s "
          f"(min {min(marks):.3f}, max {max(marks):.3f}, {len(marks)} edits)")
    print(f"total {time.perf_counter() - clock:.1f} s")
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
