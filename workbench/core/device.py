"""Device choice: CUDA when available, else CPU; always overridable by the caller."""
from __future__ import annotations

import torch

from workbench.core.errors import WorkbenchError


def choose_device(preference: str | torch.device | None = None) -> torch.device:
    """The device to compute on: ``preference`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``),
    else the first CUDA device when there is one, else the CPU."""
    if preference is None or str(preference) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WorkbenchError("CUDA was requested but no CUDA device is available; use --device cpu")
    return device


def describe_device(device: torch.device) -> str:
    """A short human-readable name, e.g. ``"cpu (2 threads)"`` or ``"cuda:0 (NVIDIA H100)"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"
