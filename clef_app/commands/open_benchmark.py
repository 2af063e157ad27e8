"""`clef open-benchmark FILE`: how fast the app opens a recording, and at what memory cost.

Starts the app as `clef FILE` does (on the offscreen platform when there is no display; with
its own temporary settings, so the user's recent files stay as they were) and reports:

- window painted: s from the command's start until the spectrogram widget first paints;
- first screen: s until the spectrogram covers the opening view (`SpectrogramView.fit_opened`);
- complete: s until the whole recording's picture is computed (and decoded);
- longest stall: the longest gap of a 10-ms timer on the GUI thread meanwhile;
- peak memory: the process's peak resident set (VmHWM);
- and for each mark the CPU seconds the process had used by then (all its threads): what
  it costs, whatever else the machine is doing (the wall times are not, on a busy one).

With `--transcribe` it then runs Transcribe as the user would (its menu action) and adds the
transcription's wall time, its CPU time (the app's and the model process's, where
Transcribe runs: `model.transcribe_child`), the longest stall of the window while it ran,
the notes written and the peak memory after it, the app's and the model process's, and
their sum: the app's side of `clef transcribe`'s cost (issue 18). The longest stall is taken
apart (the GUI thread's own work, its wait for a CPU, the worker's CPU meanwhile: the job's
thread, the threads it started, and the model process), the longest stall less the GUI
thread's wait for a CPU (the machine's share) is given too, and `--stacks FILE` writes every
thread's Python stack whenever the window has gone 80 ms without a tick: what held it.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from clef_app.atomic import atomic_write_text, atomic_writer, check_output
from clef_app.errors import CommandError

TIMEOUT_S = 900.0  # s: give up waiting for the picture
STACK_AFTER = 0.08  # s without a tick of the heartbeat before the stacks are written
REARM_EVERY = 0.04  # s: the stacks' watchdog is set going again at most this often


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, help="the recording to open")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    p.add_argument("--first-screen", action="store_true",
                   help="stop at the first screen (do not wait for the whole picture)")
    p.add_argument("--transcribe", action="store_true",
                   help="then transcribe it in the app and report that run's cost too")
    p.add_argument("--stacks", type=Path, default=None,
                   help="with --transcribe: write every thread's Python stack here each "
                        f"{STACK_AFTER * 1000:.0f} ms the window goes without a tick")


def run(args: argparse.Namespace) -> int:
    started, cpu_started = time.perf_counter(), time.process_time()
    if not args.audio.is_file():
        raise CommandError(f"{args.audio}: no such file")
    for output in (args.json, args.stacks):  # before the minutes of work
        if output is not None:
            check_output(output)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="clef-open-benchmark-") as home:
        os.environ["XDG_CONFIG_HOME"] = home
        os.environ["CLEF_RECOVERY_DIR"] = os.path.join(home, "recovery")
        numbers = _measure(args.audio, (started, cpu_started), home, args)
    for name, value in numbers.items():
        print(f"{name:<22} {value}")
    if args.json is not None:
        atomic_write_text(args.json, json.dumps(numbers, indent=2) + "\n")
    return 0


def _measure(path: Path, started: tuple[float, float], home: str,
             args: argparse.Namespace) -> dict:
    from clef_app.gui import app as gui_app  # first, as `clef FILE` imports it (see its note)

    make_application, start = gui_app.make_application, gui_app.start
    from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, home)
    from clef_app.gui import preferences

    app = make_application()
    preferences.put("session/demo_shown", True)
    marks: dict[str, tuple[float, float]] = {}  # name -> (wall, CPU) s
    ticks: list[float] = []

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and "window painted" not in marks:
                marks["window painted"] = _now()
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
            marks["first screen"] = _now()
            if args.first_screen:
                break
        if not image.computing and not window.document.loading and image.filled:
            marks["complete"] = _now()
            break
        time.sleep(0.002)
    beat.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    out = {"file": str(path), "seconds of audio": round(window.document.duration, 1)}
    for name in ("window painted", "first screen", "complete"):
        got = marks.get(name)
        out[f"{name} (s)"] = round(got[0] - started[0], 2) if got else None
        out[f"{name} (CPU s)"] = round(got[1] - started[1], 2) if got else None
    out["longest stall (ms)"] = round(1000 * max(gaps, default=0.0))
    out["peak memory (MB)"] = round(_peak_rss_mb())
    if args.transcribe and "complete" in marks:
        out.update(_transcribe(app, window, args.stacks))
    window.document.undo_stack.setClean()
    window.close()
    return out


def _transcribe(app, window, stacks: Path | None = None) -> dict:
    """Transcribe the open recording through the menu action: wall time, longest stall of
    a 10-ms timer meanwhile and what it was made of, notes written, peak memory."""
    jobs = getattr(window, "jobs", window)  # issue 15 moves the jobs off the window
    job = jobs.transcription
    ended: list[str] = []
    job.finished.connect(ended.append)
    job.failed.connect(lambda message: ended.append("failed: " + message))
    beat = _Heartbeat(stacks)
    child = _Process(_model_child_pid)
    began, cpu = _now()
    window.named_actions["transcribe"].trigger()
    deadline = began + TIMEOUT_S * 4
    while not ended and time.perf_counter() < deadline:
        app.processEvents()
        child.look()
        time.sleep(0.002)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    beat.stop()
    child.look()
    return {"transcription": ended[0] if ended else "timed out",
            "transcription (s)": round(took, 1),
            "transcription (CPU s)": round(cpu + child.cpu, 1),
            "  of it the model process's (CPU s)": round(child.cpu, 1),
            **beat.report(), "peak memory after transcription (MB)": round(_peak_rss_mb()),
            "  the model process's peak (MB)": round(child.peak_mb),
            # both processes at their peaks at once: at most what the two use together
            "peak memory, app and model (MB)": round(_peak_rss_mb() + child.peak_mb),
            "torch in the app's process": "torch" in sys.modules}


def _model_child_pid() -> int | None:
    from clef_app.model.transcribe_child import CHILD

    return CHILD.pid


class _Process:
    """The CPU s and peak memory of the process `pid_of()` names (the model's child, which
    may start meanwhile), read from /proc while it runs."""

    def __init__(self, pid_of) -> None:
        self._pid_of = pid_of
        self._cpu = _TasksCpu()
        self.cpu, self.peak_mb, self._at = 0.0, 0.0, 0.0

    def look(self) -> None:
        now = time.perf_counter()
        pid = self._pid_of()
        if pid is None or now - self._at < 0.05:
            return
        self._at = now
        self.cpu = self._cpu.add(f"/proc/{pid}/task", everyone=True)
        self.peak_mb = max(self.peak_mb, _peak_rss_mb(f"/proc/{pid}/status"))


class _Heartbeat:
    """A 10-ms timer on the GUI thread, and at each tick the GUI thread's CPU time, its time
    spent waiting for a CPU (Linux's schedstat) and the CPU time of the job's worker thread
    (found by its name): a gap in the ticks is then work our window did, the machine's other
    load, or the rest, the worker or another thread holding Python's lock (the worker's CPU
    in that gap says how much of it would be left on an idle machine, at most). With
    `stacks`, every thread's Python stack is written there each STACK_AFTER s the GUI thread
    goes without a tick, give or take REARM_EVERY (faulthandler: read without taking the
    lock); faulthandler writes to a file descriptor, an anonymous temporary file, copied to
    `stacks` by the safe writer at `stop`."""

    def __init__(self, stacks: Path | None = None, worker: str = "transcribe") -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[tuple[float, float, float, float]] = []  # wall, CPU, CPU wait,
        # the worker's CPU (s)
        self._worker = _TasksCpu(worker)
        self._armed = 0.0  # when the stacks' watchdog was last set going (perf_counter s)
        self._stacks_path = stacks
        self._stacks = tempfile.TemporaryFile() if stacks is not None else None  # noqa: SIM115
        self.timer = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        mine = _schedstat("/proc/thread-self/schedstat")
        worker = self._worker.add("/proc/self/task")
        pid = _model_child_pid()
        if pid is not None:
            worker = self._worker.add(f"/proc/{pid}/task", everyone=True)
        now = time.perf_counter()
        self.ticks.append((now, time.thread_time(), mine[1], worker))
        if self._stacks is not None and now - self._armed >= REARM_EVERY:
            # re-arming joins faulthandler's watchdog thread and starts another, with the
            # lock held: not at every tick (still, measure stalls in runs without stacks)
            faulthandler.dump_traceback_later(STACK_AFTER + REARM_EVERY, repeat=True,
                                              file=self._stacks)
            self._armed = now

    def stop(self) -> None:
        self.timer.stop()
        if self._stacks is not None:
            faulthandler.cancel_dump_traceback_later()
            self._stacks.seek(0)
            with atomic_writer(self._stacks_path) as out:
                shutil.copyfileobj(self._stacks, out)
            self._stacks.close()

    def report(self) -> dict:
        """The longest gap, how many passed 100 ms, and of the longest: the GUI thread's
        own work, its wait for a CPU and the worker's CPU (ms); the GUI's longest work
        within one gap."""
        pairs = list(zip(self.ticks, self.ticks[1:], strict=False))
        if not pairs:
            return {"transcription stall (ms)": None}
        a, b = max(pairs, key=lambda ab: ab[1][0] - ab[0][0])
        return {"transcription stall (ms)": _ms(b[0] - a[0]),
                "stalls over 100 ms": sum(y[0] - x[0] > 0.1 for x, y in pairs),
                "  its GUI work (ms)": _ms(b[1] - a[1]),
                "  its GUI wait for a CPU (ms)": _ms(b[2] - a[2]),
                "  the worker's CPU in it (ms)": _ms(b[3] - a[3]),
                # what is left of each gap once the GUI thread's wait for a CPU (the
                # machine's other load) is taken out: on an idle machine, the stall itself
                "longest stall less its wait for a CPU (ms)": _ms(max(
                    (y[0] - x[0]) - (y[2] - x[2]) for x, y in pairs)),
                # the GUI thread's own CPU within one gap: work our window does (the rest
                # of a stall is the machine or another thread holding Python's lock)
                "longest GUI work between ticks (ms)": _ms(max(y[1] - x[1] for x, y in pairs))}


def _ms(seconds: float) -> int:
    return round(1000 * seconds)


def _schedstat(path: str) -> tuple[float, float]:
    """s a thread has run, and s it has been runnable but waiting for a CPU (Linux's
    /proc/.../schedstat; zeros where there is none)."""
    try:
        with open(path) as f:
            ran, waited = f.read().split()[:2]
        return int(ran) / 1e9, int(waited) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


class _TasksCpu:
    """CPU s run so far by a set of threads, each counted up to its end.

    `add(folder)` looks at the threads in a /proc/PID/task folder: those called `name` (a
    job's QThread and the threads it started, which Linux names after it: the model's first
    load on a `preload` thread), or all of them (`everyone`: the model's child process).
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._ours: dict[str, bool] = {}  # task folder -> counted
        self._ran: dict[str, float] = {}  # task folder -> s run when last seen

    def add(self, folder: str, everyone: bool = False) -> float:
        try:
            tasks = os.listdir(folder)
        except OSError:
            tasks = []
        for tid in tasks:
            task = f"{folder}/{tid}"
            if task not in self._ours:
                self._ours[task] = everyone or _comm(task) == self.name
            if self._ours[task]:
                self._ran[task] = max(self._ran.get(task, 0.0), _schedstat(f"{task}/schedstat")[0])
        return sum(self._ran.values())


def _comm(task: str) -> str:
    try:
        with open(f"{task}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _peak_rss_mb(status: str = "/proc/self/status") -> float:
    """MB: the peak resident set of this process (or of the one whose `status` is given;
    0 if it has ended)."""
    try:
        with open(status) as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        if status != "/proc/self/status":
            return 0.0
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, else kB
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)
