"""Choosing where the model runs: CUDA, then Apple MPS, then CPU, unless told otherwise."""

from __future__ import annotations

import torch

from clef_app.model.errors import ModelError


def choose_device(requested: str = "auto") -> torch.device:
    """The requested device, or the fastest available one for "auto".

    Raises:
        ModelError: the requested device is not available on this machine.
    """
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("CUDA was requested but no CUDA device is available")
    if requested == "mps" and not (getattr(torch.backends, "mps", None)
                                   and torch.backends.mps.is_available()):
        raise ModelError("Apple MPS was requested but is not available")
    try:
        return torch.device(requested)
    except RuntimeError as exc:
        raise ModelError(f"unknown device {requested!r}") from exc
