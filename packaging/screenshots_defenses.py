"""Render the Defenses lab into PNGs for the README and for review.

Runs the real window on the built-in ``fashion-cnn`` and its samples (and the noise-trained
``fashion-cnn-noise-σ`` models where installed), under Xvfb (``xvfb-run``) or Qt's offscreen
platform, with settings in a temporary folder (the user's are not touched):

1. ``defenses-naive-vs-adaptive.png`` — bit-depth reduction: PGD (ε = 0.1) fails naive, BPDA
   breaks it, and so does Square by queries alone (the naive card warns that a black-box attack
   beat it: the gradients are masked), the undefended model beside them;
2. ``defenses-certification.png`` — randomized smoothing's certified accuracy against the
   radius, with the votes of the last image and the per-image radii;
3. ``defenses-tradeoff.png`` — Gaussian noise σ from 0 to 0.25: clean, robust (naive and
   adaptive) and certified accuracy;
4. ``defenses-monitoring.png`` — the stateful monitor's alarm during a Square attack.

Usage: ``python packaging/screenshots_defenses.py [--out docs/screenshots]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wait_for_task(app, window, timeout: float = 600.0) -> None:
    """Process events until the worker is idle (and the views have drawn the end)."""
    deadline = time.monotonic() + timeout
    while window.worker.is_running() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def render(out: Path, size: tuple[int, int]) -> list[Path]:
    from PySide6.QtCore import QSettings

    from workbench.gui.app import create_application
    from workbench.gui.main_window import MainWindow

    app = create_application([])
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as tmp:
        # The labs keep their settings in the application's QSettings: a temporary one here.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        window = MainWindow(settings=QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat),
                            restore_layout=False)
        window.resize(*size)
        window.show()
        lab = next(lab for lab in window.labs if lab.title == "Defenses")
        window.labs_tabs.setCurrentWidget(lab)

        def shot(name: str, page, start) -> None:
            lab.show_page(page)
            if not start():
                raise SystemExit(f"{name}: the run did not start")
            _wait_for_task(app, window)
            path = out / name
            window.grab().save(str(path))
            saved.append(path)
            print(f"wrote {path}")

        compare = lab.compare
        compare.stack.set_stack([("bit-depth", {"bits": 3})])
        compare.attack.set_attack("pgd", {"eps": 0.1, "steps": 20})
        compare.black_box.setChecked(True)
        compare.black_box_queries.setValue(500)
        compare.images.setValue(32)
        shot("defenses-naive-vs-adaptive.png", compare, lab.run_comparison)

        certify = lab.certify
        # The lab chose the noise-trained model of σ = 0.25 if one is installed; the plain model
        # only stands a small σ.
        noise_trained = certify.model.count() > 1
        certify.form.set_values({"sigma": 0.25 if noise_trained else 0.12, "n0": 100, "n": 1000, "batch_size": 500})
        certify.images.setValue(16)
        shot("defenses-certification.png", certify, lab.run_certification)

        tradeoff = lab.tradeoff
        tradeoff.set_defense("gaussian-noise", "0, 0.06, 0.12, 0.25")
        tradeoff.attack.set_attack("pgd", {"eps": 0.1, "steps": 10})
        tradeoff.eot.setValue(8)
        tradeoff.radius.setValue(0.25)
        tradeoff.noise_models.setChecked(tradeoff.noise_models.isEnabled())
        tradeoff.images.setValue(16)
        shot("defenses-tradeoff.png", tradeoff, lab.run_tradeoff)

        monitor = lab.monitor
        monitor.attack.set_attack("square", {"eps": 0.05, "max_queries": 1000})
        shot("defenses-monitoring.png", monitor, lab.run_monitored_attack)

        window.worker.shutdown()
        window.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--size", type=lambda text: tuple(int(v) for v in text.lower().split("x")), default=(1920, 1080),
                        help="window size WxH (default 1920x1080, a full-HD projector: the four cards of "
                        "the naive-vs-adaptive page need it)")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    render(args.out, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
