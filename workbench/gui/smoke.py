"""``workbench --smoke``: a self-test of an installed application, for every installer build.

It opens the real main window (Qt's offscreen platform when there is no display) with the
built-in model, its samples and the window icon, imports torchvision (whose compiled
operators a bundle can lose), and runs a short PGD on the first few correctly classified
samples through the evasion lab and the worker thread, exactly as the Run button does. It
prints one line — ``smoke ok: fashion-cnn, pgd, 5/5 images fooled in 1.8 s, …`` — and returns
0, or prints ``smoke failed: <reason>`` and returns 1. The user's settings are not touched.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

SMOKE_ATTACK = "pgd"
SMOKE_PARAMS = {"eps": 0.2, "steps": 20}  # strong enough to fool fashion-cnn on every sample
SMOKE_IMAGES = 5
RUN_TIMEOUT_MS = 120_000
SHOW_TIMEOUT_S = 30.0


class SmokeFailure(Exception):
    """What went wrong, in one line."""


def seconds_since_process_start() -> float | None:
    """Age of this process (Linux: from /proc), so that start-up includes the interpreter's
    and a bundle's own loading; None where it cannot be read."""
    try:
        after_name = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(after_name[19])  # field 22, starttime, in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def run_smoke(app, *, model: str | None = None, data: str | None = None, device: str | None = None) -> int:
    """Run the smoke test in ``app`` (a QApplication); prints one line, returns the exit code."""
    try:
        line = _smoke(app, model=model, data=data, device=device)
    except Exception as error:  # noqa: BLE001 - the smoke reports any failure in one line
        from workbench.gui.worker import describe_error

        reason = str(error) if isinstance(error, SmokeFailure) else describe_error(error)
        print(f"smoke failed: {reason}", flush=True)
        return 1
    print(line, flush=True)
    return 0


def _smoke(app, *, model: str | None, data: str | None, device: str | None) -> str:
    from PySide6.QtCore import QSettings

    from workbench.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="workbench-smoke-") as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, model=model, data=data, device=device, restore_layout=False)
        try:
            window.show()
            shown_after = _wait_until_exposed(app, window)
            if app.windowIcon().pixmap(32, 32).isNull():
                raise SmokeFailure("the window icon did not load (resources/icons, or Qt's SVG plugins)")
            state = window.state
            if state.model is None or state.images is None or len(state.images) == 0:
                raise SmokeFailure(f"the window opened without a model and images: {window.message_bar.text()}")
            torchvision_version = _check_torchvision()
            fooled, seconds = _attack_samples(app, window)
        finally:
            if window.worker.is_running():
                window.worker.shutdown()
            window.close()
            app.processEvents()
    startup = "" if shown_after is None else f", window shown {shown_after:.1f} s after start"
    return (f"smoke ok: {state.model.model_id}, {SMOKE_ATTACK}, {fooled}/{SMOKE_IMAGES} images fooled "
            f"in {seconds:.1f} s, torchvision {torchvision_version}{startup}")


def _wait_until_exposed(app, window) -> float | None:
    deadline = time.monotonic() + SHOW_TIMEOUT_S
    while not (window.windowHandle() is not None and window.windowHandle().isExposed()):
        if time.monotonic() > deadline:
            raise SmokeFailure(f"the window was not shown within {SHOW_TIMEOUT_S:.0f} s")
        app.processEvents()
        time.sleep(0.01)
    return seconds_since_process_start()


def _check_torchvision() -> str:
    """torchvision's architectures (for ``--arch``) need its compiled operators."""
    import torchvision

    from workbench.core.architectures import torchvision_architectures

    if not torchvision_architectures():
        raise SmokeFailure("torchvision lists no architectures")
    return torchvision.__version__.split("+")[0]


def _attack_samples(app, window) -> tuple[int, float]:
    """Run the smoke attack from the evasion lab on the first correctly classified images;
    returns (images fooled, seconds)."""
    import numpy as np

    from workbench.gui.labs.evasion import EvasionLab

    state = window.state
    lab = next(lab for lab in window.labs if isinstance(lab, EvasionLab))
    window.labs_tabs.setCurrentWidget(lab)
    predicted = np.asarray(state.predictions).argmax(axis=1)
    labels = state.images.labels.numpy()
    chosen = [int(i) for i in np.flatnonzero(predicted == labels)[:SMOKE_IMAGES]]
    if len(chosen) < SMOKE_IMAGES:
        raise SmokeFailure(f"only {len(chosen)} sample images are classified correctly")
    state.set_attack(SMOKE_ATTACK)
    state.set_attack_params(SMOKE_PARAMS)
    fooled, started = 0, time.perf_counter()
    for index in chosen:
        state.set_current_index(index)
        run = _run_once(app, window, lab)
        fooled += bool(run.success)
    seconds = time.perf_counter() - started
    if fooled < SMOKE_IMAGES:
        raise SmokeFailure(f"{SMOKE_ATTACK} fooled the model on only {fooled}/{SMOKE_IMAGES} images")
    return fooled, seconds


def _run_once(app, window, lab):
    from PySide6.QtCore import QEventLoop, QTimer

    loop, outcome = QEventLoop(), []
    window.worker.done.connect(loop.quit)
    window.worker.done.connect(outcome.append)
    QTimer.singleShot(RUN_TIMEOUT_MS, loop.quit)
    try:
        if not lab.run():
            raise SmokeFailure(f"the attack did not start: {window.message_bar.text()}")
        loop.exec()
    finally:
        window.worker.done.disconnect(loop.quit)
        window.worker.done.disconnect(outcome.append)
    app.processEvents()
    if outcome != ["finished"]:
        status = outcome[0] if outcome else f"still running after {RUN_TIMEOUT_MS // 1000} s"
        raise SmokeFailure(f"the attack {status}: {window.message_bar.text()}")
    run = window.state.run(window.state.selected_run)
    if run is None:
        raise SmokeFailure("the finished attack did not join the run list")
    return run
