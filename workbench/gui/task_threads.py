"""PyTorch's intra-op threads while a task runs beside the window (see
:mod:`workbench.gui.worker`, "A core for the window")."""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator


def gui_cpu_threads(intra_op: int, cpus: int | None = None) -> int:
    """PyTorch's intra-op threads for a task that runs beside the window: ``intra_op`` (the
    current setting), at most one less than ``cpus`` (default: the CPUs this process may use),
    at least 1. On 2 CPUs a task computes on one and the window draws on the other."""
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not on Linux
            cpus = os.cpu_count() or 1
    return max(1, min(int(intra_op), int(cpus) - 1))


_threads_lock = threading.Lock()
_threads_tasks = 0  # tasks running with the cap
_threads_before = 0  # the setting before the first of them


@contextlib.contextmanager
def _cpu_threads_for_task() -> Iterator[None]:
    """Cap PyTorch's intra-op threads (:func:`gui_cpu_threads`) in the calling thread while the
    block runs; the last task to end restores the previous setting."""
    global _threads_tasks, _threads_before
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    with _threads_lock:
        if _threads_tasks == 0:
            _threads_before = torch.get_num_threads()
        _threads_tasks += 1
        wanted = gui_cpu_threads(_threads_before)
    try:
        if wanted != torch.get_num_threads():
            torch.set_num_threads(wanted)
        yield
    finally:
        with _threads_lock:
            _threads_tasks -= 1
            if _threads_tasks == 0 and torch.get_num_threads() != _threads_before:
                torch.set_num_threads(_threads_before)
