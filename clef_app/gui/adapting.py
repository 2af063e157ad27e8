"""Adapt to My Recordings: `clef adapt` in a child process, with progress and Cancel.

Adapting trains (`training/adapt.py`): one encoder batch or training step is a single torch
call of seconds on a CPU that cannot be interrupted between, and the optimiser's state is
the model's size again. So it runs as `python -m clef_app adapt` in a QProcess: the app
imports no torch for it, its window stays responsive, Cancel kills the child at once and
its memory is returned when it ends. Its progress lines on stderr ("encoded i/n segments",
"step i/n: loss x") are read as they come; a refusal ("too few corrections …") is its last
line.

The open document goes in as a project written to a private folder (so unsaved corrections
count), beside any other projects the user picked. The child writes into a staging folder
inside `models_dir()`; only a finished run's checkpoint is moved into place, under a new
name (`personal-<time>.safetensors`), so a cancelled or failed run writes nothing and no
checkpoint, the bundled one included, is ever written over.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

from clef_app.atomic import fsync_directory, link_new
from clef_app.errors import one_line
from clef_app.gui.model_choice import PERSONAL_PREFIX, bundled_model, models_dir
from clef_app.project import PROJECT_SUFFIX, Project, ProjectError, save_project

ENCODE_SHARE = 0.3  # of the progress bar: encoding the corrected segments (then training)
KILL_WAIT_MS = 1000  # ms: Cancel waits this long for the killed child to be gone
KEEP_TRIES = 100  # names tried for a new personal model (the stamp, then -1, -2, ...)
PROGRESS = re.compile(r"^(encoded|step) (\d+)/(\d+)")
ERROR_PREFIX = re.compile(r"^clef adapt: (error: )?")


class Adaptation(QObject):
    """Runs one adaptation at a time.

    Signals:
        started(): the child process was started.
        progress(float): share done, 0..1.
        finished(str): the new personal checkpoint's path; "" when cancelled.
        failed(str): a one-line reason (a refusal: too few corrections).
    """

    started = Signal()
    progress = Signal(float)
    finished = Signal(str)
    failed = Signal(str)

    epochs = 6.0  # passes over the corrected segments (`clef adapt --epochs`)
    threads = 0  # torch threads in the child (0: torch's default)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.summary = ""  # the last run's result line
        self._staging: Path | None = None
        self._lines: list[str] = []
        self._fraction = 0.0
        self._started_at = 0.0  # monotonic s at the first progress line

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, current: Project | None, current_name: str, others: list[Path]) -> str:
        """Adapt on the open document (as a project) and `others`; "" or why not."""
        if self.running:
            return "an adaptation is already running"
        base = bundled_model()
        if base is None:
            return "no model to adapt: models/clef.safetensors is missing"
        if current is None and not others:
            return "open a recording and correct its notes first"
        try:
            folder = models_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(prefix=".adapting-", dir=folder))
            projects = list(others)
            if current is not None:
                name = Path(current_name).stem or "current"
                projects.insert(0, self._staging / f"{name}{PROJECT_SUFFIX}")
                save_project(current, projects[0])
        except (OSError, ProjectError) as exc:
            self._clean()
            return one_line(f"cannot prepare the adaptation: {exc}")
        args = ["-m", "clef_app", "adapt", *map(str, projects), "-o",
                str(self._staging / "personal.safetensors"), "--base", str(base),
                "--epochs", str(self.epochs), "--threads", str(self.threads)]
        process = self.process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.readyReadStandardError.connect(self._read)
        process.finished.connect(self._ended)
        process.errorOccurred.connect(self._error)
        self._lines, self._fraction, self._started_at, self.summary = [], 0.0, 0.0, ""
        process.start(sys.executable, args)
        self.started.emit()
        return ""

    def cancel(self) -> None:
        """Stop now: the child is killed and nothing is written."""
        process = self.process
        if process is None:
            return
        self.process = None  # its finished signal is ours no more
        process.finished.disconnect(self._ended)
        process.errorOccurred.disconnect(self._error)
        process.kill()
        process.waitForFinished(KILL_WAIT_MS)
        process.deleteLater()
        self._clean()
        self.finished.emit("")

    def remaining(self) -> float | None:
        """s still to go, extrapolated from the progress so far (None before it starts)."""
        f = self._fraction
        if not self.running or f <= 0.0 or self._started_at == 0.0:
            return None
        return max(0.0, (time.monotonic() - self._started_at) * (1.0 - f) / f)

    def _read(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            self._lines = (self._lines + [line])[-20:]
            match = PROGRESS.match(line)
            if match:
                self._step(match.group(1), int(match.group(2)), int(match.group(3)))

    def _step(self, phase: str, done: int, total: int) -> None:
        share = done / max(1, total)
        fraction = (ENCODE_SHARE * share if phase == "encoded"
                    else ENCODE_SHARE + (1 - ENCODE_SHARE) * share)
        if self._started_at == 0.0:
            self._started_at = time.monotonic()
        self._fraction = fraction
        self.progress.emit(fraction)

    def _ended(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        last = self._lines[-1] if self._lines else ""
        if code != 0 or status != QProcess.ExitStatus.NormalExit:
            self._clean()
            why = ERROR_PREFIX.sub("", last) or f"clef adapt stopped (exit code {code})"
            self.failed.emit(one_line(why, 300))
            return
        try:
            path = self._keep()
        except OSError as exc:
            self._clean()
            self.failed.emit(one_line(f"the personal model was not kept: {exc}", 300))
            return
        self.summary = one_line(last.split("; wrote")[0], 300)
        self.finished.emit(str(path))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self.process.deleteLater()
            self.process = None
            self._clean()
            self.failed.emit("clef adapt could not be started")

    def _keep(self) -> Path:
        """Move the staged checkpoint into `models_dir()` under a new name, never over a
        file there (each is linked to its name, which fails when the name is taken; the
        staging folder then goes); its JSON first, so a listed `.safetensors` always has its
        config."""
        assert self._staging is not None
        staged = self._staging / "personal.safetensors"
        stem = self._staging.parent / f"{PERSONAL_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}"
        for n in range(KEEP_TRIES):
            final = Path(f"{stem}-{n}.safetensors" if n else f"{stem}.safetensors")
            if link_new(staged.with_suffix(".json"), final.with_suffix(".json")):
                if link_new(staged, final):
                    break
                final.with_suffix(".json").unlink()  # ours: the checkpoint's name was taken
        else:
            raise OSError(f"no free name for {stem.name} in {stem.parent}")
        fsync_directory(final.parent)
        self._clean()
        return final

    def _clean(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
