"""``workbench gui``: start the desktop application (also what ``workbench`` alone does)."""
from __future__ import annotations

import argparse

NAME = "gui"


def add_parser(sub) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, help="start the desktop application (the default)")


def run(args: argparse.Namespace) -> int:
    from workbench.gui.app import main as gui_main

    return gui_main(["--smoke"] if args.smoke else [])
