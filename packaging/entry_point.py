"""Entry point of the PyInstaller bundle: the ``workbench`` command (no subcommand: the window)."""
import multiprocessing
import sys

from workbench.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app must not re-run itself in spawned workers
    sys.exit(main())
