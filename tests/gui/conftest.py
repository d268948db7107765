"""Fixtures of the GUI tests: offscreen Qt, settings kept away from the user's, and a check
that no test leaves a thread running (as napari does)."""
from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from workbench.gui.qtcompat import binding_problem  # noqa: E402

_PROBLEM = binding_problem()
if _PROBLEM:  # the GUI tests would abort the whole test process later, mid-run
    pytest.exit(f"GUI tests cannot run: {_PROBLEM}", returncode=2)

from PySide6.QtCore import QCoreApplication, QSettings, QThread  # noqa: E402

_started_qthreads: list = []
_original_start = QThread.start


def _recording_start(self, *args, **kwargs):
    _started_qthreads.append(self)
    return _original_start(self, *args, **kwargs)


QThread.start = _recording_start


@pytest.fixture(autouse=True)
def _no_thread_left_running(request):
    """Fail a test that leaves a QThread or a Python thread running after it ends."""
    before = {t.ident for t in threading.enumerate()}
    _started_qthreads.clear()
    yield
    deadline = time.monotonic() + 2.0
    app = QCoreApplication.instance()

    def running_qthreads():
        alive = []
        for thread in _started_qthreads:
            try:
                if thread.isRunning():
                    alive.append(thread)
            except RuntimeError:  # the C++ object is already deleted: it is not running
                pass
        return alive

    def new_threads():
        # Dummy entries are how `threading` sees foreign threads (QThreads that called
        # logging, for instance); those are checked through the QThread records above.
        return [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
        ]

    while (running_qthreads() or new_threads()) and time.monotonic() < deadline:
        if app is not None:
            app.processEvents()
        time.sleep(0.01)
    qthreads, threads = running_qthreads(), new_threads()
    _started_qthreads.clear()
    if qthreads or threads:
        for thread in qthreads:  # stop them so that later tests are not disturbed
            thread.requestInterruption()
            thread.wait(5000)
        pytest.fail(
            f"{request.node.nodeid} left threads running: "
            f"{len(qthreads)} QThread(s), {[t.name for t in threads]}"
        )


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """QSettings of the tests live in a temporary folder, never the user's."""
    QCoreApplication.setOrganizationName("adversarial-workbench-tests")
    QCoreApplication.setApplicationName("workbench-tests")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(tmp_path / "settings"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield tmp_path / "settings"


@pytest.fixture
def settings(tmp_path):
    """A QSettings in its own ini file for a window under test."""
    return QSettings(str(tmp_path / "window-settings.ini"), QSettings.Format.IniFormat)
