"""Device choice: CUDA when available, else CPU; always overridable by the caller.

:func:`choose_device` is the one place that reads a device name given by a user (the
command line's ``--device``, the GUI's device setting, training recipes): it accepts ``cpu``,
``cuda``, ``cuda:N``, ``mps`` and ``auto`` in any case, and refuses anything else, or a device
that this machine does not have, with a :class:`WorkbenchError` naming the accepted spellings.
"""
from __future__ import annotations

import re

import torch

from workbench.core.errors import WorkbenchError

ACCEPTED_DEVICES = "cpu, cuda, cuda:N, mps or auto"
_DEVICE_NAME = re.compile(r"^(cpu|mps|cuda)(?::(\d+))?$")


def choose_device(preference: str | torch.device | None = None) -> torch.device:
    """The device to compute on: ``preference`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``,
    ``"mps"``; case and surrounding spaces do not matter), else the first CUDA device when there
    is one, else the CPU. Unknown names and devices this machine lacks raise
    :class:`WorkbenchError` with a one-line message."""
    if isinstance(preference, torch.device):
        preference = str(preference)
    text = "auto" if preference is None else str(preference).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    match = _DEVICE_NAME.match(text)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise WorkbenchError(f"unknown device '{preference}': use {ACCEPTED_DEVICES}")
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise WorkbenchError("CUDA was requested but no CUDA device is available; use --device cpu")
        count = torch.cuda.device_count()
        if index is not None and int(index) >= count:
            have = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
            raise WorkbenchError(f"there is no CUDA device {index}: this machine has {have}")
    if kind == "mps" and not _mps_available():
        raise WorkbenchError("MPS (Apple GPU) was requested but PyTorch offers no MPS device here; use --device cpu")
    return torch.device(text)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is an out-of-memory error: PyTorch's
    ``OutOfMemoryError``, a ``MemoryError``, or a ``RuntimeError`` (or TorchScript error) saying
    "out of memory"."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out_of_memory = getattr(torch, "OutOfMemoryError", None)
        if isinstance(current, MemoryError) or (out_of_memory is not None and isinstance(current, out_of_memory)):
            return True
        if isinstance(current, (RuntimeError, torch.jit.Error)) and "out of memory" in str(current).lower():
            return True  # CUDA's and MPS's messages; TorchScript wraps them in torch.jit.Error
        current = current.__cause__ or current.__context__
    return False


def describe_device(device: torch.device) -> str:
    """A short human-readable name, e.g. ``"cpu (2 threads)"`` or ``"cuda:0 (NVIDIA H100)"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"
