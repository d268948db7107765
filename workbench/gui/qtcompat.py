"""Checks that the installed Qt binding can run the window.

PySide6 6.12.0, installed on Python 3.10 or 3.11, returns ``None`` from every void method and
``True`` from ``Signal.emit()`` without taking a reference to them (which only Python ≥ 3.12,
where these objects are immortal, tolerates). Each paint or signal then lowers a reference
count, and within seconds of drawing the interpreter aborts with "Fatal Python error:
none_dealloc" (or "bool_dealloc"). PySide6 6.11 does not have the bug. :func:`binding_problem`
measures it, so that the window (and the GUI tests) can stop with a message that says what to
install instead of crashing later.
"""
from __future__ import annotations

import sys

ADVICE = "install another version: pip install 'PySide6-Essentials>=6.6,!=6.12.0'"


def binding_problem() -> str | None:
    """A readable description of a binding that would crash the window, or None."""
    if sys.version_info >= (3, 12):  # None and True are immortal: the slip is harmless
        return None
    try:
        import PySide6
        from PySide6.QtCore import QObject, Signal
    except ImportError as error:  # pragma: no cover - PySide6 is a dependency
        return f"PySide6 cannot be imported ({error})"

    class _Probe(QObject):
        probe = Signal()

    probe = _Probe()
    calls = 64
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(calls):
        probe.setObjectName("probe")  # a void method: returns None
        probe.probe.emit()  # returns True
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    if lost_none >= calls or lost_true >= calls:
        # give back what the probe took, so that the caller can still exit cleanly
        import ctypes

        incref = ctypes.pythonapi.Py_IncRef
        incref.argtypes = [ctypes.py_object]
        for _ in range(max(lost_none, 0)):
            incref(None)
        for _ in range(max(lost_true, 0)):
            incref(True)
        return (
            f"PySide6 {PySide6.__version__} loses references to None and True on Python "
            f"{sys.version_info.major}.{sys.version_info.minor}, which crashes the window after a "
            f"few seconds; {ADVICE}"
        )
    return None
