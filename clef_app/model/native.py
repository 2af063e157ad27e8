"""torch's native libraries loaded without holding Python's lock (before `import torch`).

Python holds its lock (the GIL) through every `dlopen` it makes, and `import torch` opens
about 1 GB of libraries (libtorch_cpu and, in a CUDA build, libtorch_cuda and the CUDA
libraries), whose static initialisers run inside that call: 0.25 s of CPU in one piece, and
as long again reading them from disk, during which no other Python thread runs. In the app
the first model job imports torch on a worker, and the window froze for that long.

`load_torch_libraries` opens the same files first through libc's `dlopen` called by ctypes,
which releases the lock for the call: the work is the same, but the GUI thread runs
meanwhile, and the `dlopen` calls `import torch` then makes find them open. It never imports
torch, so the GUI may call it; it does nothing where it does not apply (torch imported
already or not installed, not Linux, libraries not where a pip wheel puts them).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

# torch/lib's libraries, opened as `import torch` opens them: libtorch_global_deps with
# RTLD_GLOBAL (torch does so itself), then libtorch (and through it libtorch_cpu, libtorch_cuda
# and the CUDA libraries, by its RPATH). libtorch_python is left to the import: its static
# initialisers may need Python.
LIBRARIES = (("libtorch_global_deps.so", os.RTLD_GLOBAL), ("libtorch.so", os.RTLD_LOCAL))
_opened: list[str] = []  # the libraries opened here (they stay open: torch will use them)


def load_torch_libraries() -> list[str]:
    """Open torch's native libraries without the GIL; the names of those opened now."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules or _opened:
        return []
    folder = _torch_lib_folder()
    if folder is None:
        return []
    dlopen = ctypes.CDLL(None).dlopen  # a CDLL function: ctypes releases the GIL around it
    dlopen.argtypes, dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
    for name, mode in LIBRARIES:
        path = folder / name
        if not path.is_file() or not dlopen(os.fsencode(path), os.RTLD_NOW | mode):
            break  # torch's own import will open it (and say what is wrong)
        _opened.append(name)
    return list(_opened)


def _torch_lib_folder() -> Path | None:
    """torch/lib of the installed torch, found without importing it (None if absent)."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"
