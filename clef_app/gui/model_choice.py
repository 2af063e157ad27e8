"""Which model the app uses: the bundled one, or a personal one adapted to the user's piano.

Personal checkpoints live in the app's data folder (`models_dir()`), never beside the
bundled `models/clef.safetensors`, which is never written. The choice is a preference
("model/personal": the personal checkpoint's path, "" for the bundled model), changed only
through the controller's `ModelChoice`; every part of the app that runs the model asks
`find_model()`. $CLEF_MODEL, when set, overrides the choice (as in the CLI).

A personal checkpoint is checked without loading it (no torch here): its JSON config and
its safetensors header must read and the file must be as long as the header says. One that
fails falls back to the bundled model, with a one-line message.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from clef_app.gui import preferences

MODELS_ENV = "CLEF_MODELS_DIR"  # overrides where personal checkpoints go (tests)
PERSONAL_PREFIX = "personal-"  # personal-YYYYmmdd-HHMMSS.safetensors
MAX_HEADER_BYTES = 16 * 2**20  # B: a safetensors header larger than this is not a checkpoint
NO_MODEL = "no trained model installed: models/clef.safetensors missing"

preferences.DEFAULTS.setdefault("model/personal", "")  # "" = the bundled model


def models_dir() -> Path:
    """Where personal checkpoints are written: $CLEF_MODELS_DIR, else the app data folder's
    models/ (beside the recovery files)."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV])
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".clef") / "models"


def bundled_model() -> Path | None:
    """$CLEF_MODEL if set, else the bundled checkpoint if installed (`model.location`)."""
    from clef_app.model.location import find_checkpoint

    return find_checkpoint()


def checkpoint_problem(path: Path) -> str:
    """"" when `path` looks like a whole Clef checkpoint, else why not (one line)."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != "clef-checkpoint":
            return f"{path.name}: its config is not a Clef model config"
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > MAX_HEADER_BYTES:
                return f"{path.name}: not a safetensors file"
            header = json.loads(f.read(size))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                  default=0)
    except FileNotFoundError as exc:
        return f"{Path(exc.filename or path).name} is missing"
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        return f"{path.name} cannot be read ({type(exc).__name__})"
    if path.stat().st_size < 8 + size + end:
        return f"{path.name} is cut short"
    return ""


def describe(path: Path | None) -> str:
    """"bundled", "personal, adapted 2026-12-07 08:35" or the file's name ($CLEF_MODEL)."""
    if path is None:
        return "none"
    if os.environ.get("CLEF_MODEL"):
        return f"{path.name} ($CLEF_MODEL)"
    if not path.name.startswith(PERSONAL_PREFIX):
        return "bundled"
    try:
        at = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["adapted"]["at"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"personal ({path.name})"
    return f"personal, adapted {at}"


def find_model() -> tuple[Path | None, str]:
    """(the checkpoint the app uses, "") or (None, why there is none).

    $CLEF_MODEL wins; then the personal checkpoint chosen, while its file is there; then
    the bundled one.
    """
    chosen = preferences.get("model/personal")
    if chosen and not os.environ.get("CLEF_MODEL") and Path(chosen).is_file():
        return Path(chosen), ""
    try:
        path = bundled_model()
    except Exception as exc:  # the model package is missing or broken
        return None, f"the model cannot be loaded ({type(exc).__name__}: {exc})"[:200]
    return (path, "") if path is not None else (None, NO_MODEL)


class ModelChoice(QObject):
    """The active model, switched by the controller and remembered in QSettings.

    Signals:
        changed(str): the active model changed; its description (`describe`).
        message(str): a one-line note for the status bar (a fallback to the bundled model).
    """

    changed = Signal(str)
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fallback = ""  # why a chosen personal model was set aside, at start
        chosen = preferences.get("model/personal")
        if chosen:
            why = checkpoint_problem(Path(chosen))
            if why:
                preferences.put("model/personal", "")
                self.fallback = f"using the bundled model: your personal model failed ({why})"

    @property
    def path(self) -> Path | None:
        return find_model()[0]

    @property
    def personal(self) -> bool:
        path = self.path
        return path is not None and path.name.startswith(PERSONAL_PREFIX)

    def description(self) -> str:
        return describe(self.path)

    def use(self, path: Path) -> bool:
        """Make a personal checkpoint the active model; False (the bundled model kept, a
        message sent) when it fails the check."""
        why = checkpoint_problem(path)
        if why:
            self.use_bundled()
            self.message.emit(f"using the bundled model: the personal model failed ({why})")
            return False
        preferences.put("model/personal", str(path))
        self.changed.emit(self.description())
        return True

    def use_bundled(self) -> None:
        preferences.put("model/personal", "")
        self.changed.emit(self.description())

    def latest_personal(self) -> Path | None:
        """The newest personal checkpoint in `models_dir()`, if any."""
        try:
            found = sorted(models_dir().glob(f"{PERSONAL_PREFIX}*.safetensors"))
        except OSError:
            return None
        return found[-1] if found else None
