"""The desktop application: builds the QApplication and the main window.

``workbench`` (or ``workbench gui``) calls :func:`main`. Without a display it says so, points to
the command line and returns 2 instead of letting Qt abort.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from workbench.gui.runtime import (  # noqa: F401 - the application set-up, also used by the lab demos
    APPLICATION, DESKTOP_FILE, ORGANIZATION, configure_plots, create_application, set_identity,
)

NO_DISPLAY_MESSAGE = (
    "workbench: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
    "Use the command line instead, e.g. `workbench attack --help`, or run the window under a\n"
    "virtual display: `xvfb-run workbench` (or set QT_QPA_PLATFORM=offscreen for tests)."
)


def has_display() -> bool:
    """Whether a window can be shown: always on Windows and macOS; on Linux and other Unix
    systems when an X11 or Wayland display is set, or a Qt platform plugin was chosen."""
    if sys.platform.startswith(("win", "darwin")):
        return True
    env = os.environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="workbench gui", description="Start the Adversarial Workbench window."
    )
    parser.add_argument("--model", help="a built-in model id or a model file to open first")
    parser.add_argument("--data", help="images to open first: samples:<name>, a folder or an image file")
    parser.add_argument("--presentation", action="store_true", help="start in presentation mode (F11)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when available)")
    parser.add_argument("--smoke", action="store_true",
                        help="self-test: open the window (offscreen without a display), run a short "
                        "attack, print one line and exit (0 when it works)")
    return parser.parse_known_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the window; returns the exit code (2 when there is no display)."""
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.smoke and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not has_display():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return 2
    from workbench.gui.qtcompat import binding_problem

    problem = binding_problem()
    if problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = create_application(qt_args)
    if args.smoke:
        from workbench.gui.smoke import run_smoke

        return run_smoke(app, model=args.model, data=args.data, device=args.device)
    from workbench.gui.main_window import MainWindow

    window = MainWindow(model=args.model, data=args.data, device=args.device)
    if args.presentation:
        window.set_presentation(True)
    window.show()
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
