"""Render the workbench window into PNGs for the README and for review (``make screenshots``).

Runs the real window on the built-in ``fashion-cnn`` and its samples, under Xvfb (``xvfb-run``)
or Qt's offscreen platform, with settings in a temporary folder (the user's are not touched):

1. ``main-window-mid-attack.png`` — a masked PGD attack paused halfway, a finished run in the
   run list;
2. ``main-window-finished.png`` — the same run when it has ended;
3. ``presentation-mode.png`` — presentation mode (F11) at 1920×1080, mid-attack;
4. ``batch-mode.png`` — "Run on all images" with PGD: the per-image results table and its
   summary, a row selected;
5. ``black-box-batch.png`` — the Square attack through an API that shows the top 3 classes
   rounded to 2 decimals with a budget: what the attacker sees and the queries to success;
6. ``eyeglasses-fitted.png`` — the eyeglass frame fitted to a face's eyes (when the built-in
   ``faces-cnn`` and its samples are installed).

Usage: ``python packaging/screenshots.py [--out docs/screenshots]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def _pump(app, seconds: float = 0.0, until=None, timeout: float = 120.0) -> bool:
    """Process events for ``seconds``, or until ``until()`` is true (False on timeout)."""
    deadline = time.monotonic() + (seconds if until is None else timeout)
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.005)
    app.processEvents()
    return until is None


def _central_mask(image_hw: tuple[int, int], fraction: float = 0.6) -> np.ndarray:
    """A centred rectangle covering ``fraction`` of each side: the mask of the demo."""
    h, w = image_hw
    mh, mw = max(1, round(h * fraction)), max(1, round(w * fraction))
    top, left = (h - mh) // 2, (w - mw) // 2
    mask = np.zeros((h, w), np.float32)
    mask[top : top + mh, left : left + mw] = 1.0
    return mask


def _pick_image(state, start: int) -> int:
    """The first correctly classified image from ``start`` on (a fair target)."""
    labels = state.images.labels.numpy()
    predicted = state.predictions.argmax(axis=1)
    for i in list(range(start, len(labels))) + list(range(0, start)):
        if labels[i] == predicted[i]:
            return i
    return start


def _run_until(app, window, lab, fraction: float) -> None:
    """Start the lab's attack and pause it once ``fraction`` of its steps have run and the
    decision-boundary slice has been recomputed at least once."""
    assert lab.run(), window.message_bar.text()

    def far_enough() -> bool:
        live = lab.live_run()
        if live is None:
            return True
        if not live.total or live.iteration < fraction * live.total:
            return False
        if live.iteration >= 0.85 * live.total:  # do not miss the pause waiting for a nicer slice
            return True
        slice_ = lab.boundary.current_slice()  # one that shows the boundary the attack nears
        return slice_ is not None and slice_.iteration >= 0.5 * fraction * live.total and len(slice_.classes_present()) >= 2

    _pump(app, until=far_enough, timeout=300)
    window.worker.pause()
    _pump(app, 0.4)  # let the last events and the pause reach the views
    if lab.live_run() is None:
        raise SystemExit("screenshots: the attack ended before it could be paused halfway; give it more steps")


def _grab(window, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def render(out: Path, size: tuple[int, int], presentation_size: tuple[int, int]) -> list[Path]:
    from PySide6.QtCore import QSettings

    from workbench.gui.app import create_application

    app = create_application([])
    from workbench.gui.main_window import MainWindow

    written = []
    with tempfile.TemporaryDirectory(prefix="workbench-shots-") as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, restore_layout=False)
        window.resize(*size)
        window.show()
        _pump(app, 0.5)
        window._size_default_docks()
        _pump(app, 0.2)
        lab = window.labs[0]
        state = window.state

        # A first, quick run on a correctly classified image, so that the run list is not empty.
        state.set_current_index(_pick_image(state, 0))
        state.set_attack("pgd")
        state.set_attack_params({"eps": 0.1, "steps": 20})
        assert lab.run(), window.message_bar.text()
        _pump(app, until=lambda: lab.live_run() is None, timeout=300)

        # The demo: a masked PGD on a coat, paused halfway.
        coat = _pick_image(state, 40)
        state.set_current_index(coat)
        state.set_mask(coat, _central_mask(state.images.images.shape[-2:]))
        lab.canvas.set_tool("rectangle")
        state.set_attack_params({"eps": 0.1, "steps": 300, "step_size": 0.00035, "early_stop": False})
        window.message_bar.dismiss()
        _run_until(app, window, lab, 0.5)
        written.append(_grab(window, out / "main-window-mid-attack.png"))
        window.worker.resume()
        _pump(app, until=lambda: lab.live_run() is None, timeout=300)
        _pump(app, 0.3)
        written.append(_grab(window, out / "main-window-finished.png"))

        # Presentation mode, at a projector's resolution, mid-attack.
        window.message_bar.dismiss()
        window.resize(*presentation_size)
        _pump(app, 0.3)
        window.set_presentation(True)
        _pump(app, 0.5)
        _run_until(app, window, lab, 0.5)
        written.append(_grab(window, out / "presentation-mode.png"))
        window.worker.cancel()
        _pump(app, until=lambda: lab.live_run() is None, timeout=60)
        window.set_presentation(False)
        window.resize(*size)
        _pump(app, 0.3)
        written += _batch_shots(app, window, lab, out)
        written += _eyeglasses_shot(app, window, lab, out)
        window.close()
        _pump(app, 0.1)
    return written


def _run_batch(app, window, lab) -> None:
    window.message_bar.dismiss()
    assert lab.run_batch(), window.message_bar.text()
    _pump(app, until=lambda: not lab.is_running(), timeout=600)
    _pump(app, 0.5)


def _batch_shots(app, window, lab, out: Path) -> list[Path]:
    """A white-box batch run on all samples, then a black-box one through a stingy API."""
    state = window.state
    for index in range(len(state.images)):
        state.set_mask(index, None)
    coat = _pick_image(state, 40)
    state.set_current_index(coat)
    state.set_attack("pgd")
    state.set_attack_params({"eps": 0.05, "steps": 20, "step_size": 0.0, "random_start": True, "early_stop": True})
    _run_batch(app, window, lab)
    written = [_grab(window, out / "batch-mode.png")]
    state.set_attack("square")
    state.set_attack_params({"eps": 0.1, "max_queries": 500})
    state.set_oracle_params({"top_k": 3, "decimals": 2, "budget": 500})
    _run_batch(app, window, lab)
    written.append(_grab(window, out / "black-box-batch.png"))
    state.set_oracle_params({})
    return written


def _eyeglasses_shot(app, window, lab, out: Path) -> list[Path]:
    """The eyeglass frame fitted to a face of the built-in samples, then an impersonation through
    it, finished (skipped without the samples)."""
    from workbench.core.resources import resource_path
    from workbench.gui.state import ModelSource

    if not resource_path("samples", "faces").is_dir():
        print("skipped eyeglasses-fitted.png: samples:faces is not installed")
        return []
    if not window.load_model(ModelSource("faces-cnn", builtin=True), data="samples:faces"):
        print("skipped eyeglasses-fitted.png: faces-cnn did not load")
        return []
    _pump(app, 0.3)
    window.message_bar.dismiss()
    lab.toolbar.action("template:eyeglasses").trigger()
    _pump(app, 0.3)
    written = [_grab(window, out / "eyeglasses-fitted.png")]
    state = window.state
    state.set_attack("eyeglasses")
    state.set_attack_params({"steps": 150})
    state.set_targeted(True)
    state.set_target_class((int(state.images.labels[state.current_index]) + 1) % state.model.num_classes)
    assert lab.run(), window.message_bar.text()
    _pump(app, until=lambda: lab.live_run() is None, timeout=600)
    _pump(app, 0.5)
    written.append(_grab(window, out / "eyeglasses-impersonation.png"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--size", type=_size, default=(1600, 1000), help="window size WxH (default 1600x1000)")
    parser.add_argument("--presentation-size", type=_size, default=(1920, 1080),
                        help="window size in presentation mode (default 1920x1080, a projector)")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("screenshots: no display; run under xvfb-run (make screenshots does)", file=sys.stderr)
        return 2
    render(args.out.resolve(), args.size, args.presentation_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
