"""`clef open-benchmark FILE`: how fast the app opens a recording, and at what memory cost.

Starts the app as `clef FILE` does (on the offscreen platform when there is no display; with
its own temporary settings, so the user's recent files stay as they were) and reports:

- window painted: s from the command's start until the spectrogram widget first paints;
- first screen: s until the spectrogram covers the opening view (`SpectrogramView.fit_opened`);
- complete: s until the whole recording's picture is computed (and decoded);
- longest stall: the longest gap of a 10-ms timer on the GUI thread meanwhile;
- peak memory: the process's peak resident set (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from clef_app.errors import CommandError

TIMEOUT_S = 900.0  # s: give up waiting for the picture


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, help="the recording to open")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.audio.is_file():
        raise CommandError(f"{args.audio}: no such file")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="clef-open-benchmark-") as home:
        os.environ["XDG_CONFIG_HOME"] = home
        os.environ["CLEF_RECOVERY_DIR"] = os.path.join(home, "recovery")
        numbers = _measure(args.audio, started, home)
    for name, value in numbers.items():
        print(f"{name:<22} {value}")
    if args.json is not None:
        from clef_app.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(numbers, indent=2) + "\n")
    return 0


def _measure(path: Path, started: float, home: str) -> dict:
    from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, home)
    from clef_app.gui import preferences
    from clef_app.gui.app import make_application, start

    app = make_application()
    preferences.put("session/demo_shown", True)
    marks: dict[str, float] = {}
    ticks: list[float] = []

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and "window painted" not in marks:
                marks["window painted"] = time.perf_counter()
            return False

    beat = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    beat.start()
    watcher = FirstPaint()
    window = start(str(path))
    view = window.spectrogram
    view.graphics.viewport().installEventFilter(watcher)
    (_, shown_until), _ = view.vb.viewRange()
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        app.processEvents()
        image = view.image
        if "first screen" not in marks and image.codes is not None and (
                image.filled >= min(len(image.codes), shown_until * 100)):
            marks["first screen"] = time.perf_counter()
        if not image.computing and not window.document.loading and image.filled:
            marks["complete"] = time.perf_counter()
            break
        time.sleep(0.002)
    beat.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    out = {"file": str(path), "seconds of audio": round(window.document.duration, 1)}
    for name in ("window painted", "first screen", "complete"):
        out[f"{name} (s)"] = round(marks[name] - started, 2) if name in marks else None
    out["longest stall (ms)"] = round(1000 * max(gaps, default=0.0))
    out["peak memory (MB)"] = round(_peak_rss_mb())
    window.document.undo_stack.setClean()
    window.close()
    return out


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, else kB
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)
