"""The ``workbench`` command: the engine in batch, progress on stderr, results on stdout.

Every command consumes the same engine generators as the GUI; one module per command (see
:mod:`workbench.cli.parser`), the shared options in :mod:`workbench.cli.options`, the progress
printer in :mod:`workbench.cli.progress`.
"""
from __future__ import annotations

from workbench.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
