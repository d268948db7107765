"""The top-level ``workbench`` parser, the registry of commands and :func:`main`.

A command is a module of this package with ``NAME``, ``add_parser(subparsers)`` (its options,
built with :mod:`workbench.cli.options`) and ``run(args) -> exit status``; adding a command is
that module and one line in :data:`COMMANDS`. Every command gets ``--quiet`` and a progress
printer (``args.progress``, :class:`~workbench.cli.progress.ProgressPrinter`). Bad arguments,
unknown parameters, out-of-range values and unreadable files end with exit status 2 and one
line naming the problem — never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Sequence

from workbench.cli.checks import UsageError, join_negative_values, out_of_memory_message
from workbench.cli.options import add_common_arguments
from workbench.cli.output import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from workbench.cli.progress import ProgressPrinter

# The commands, in the order `workbench --help` lists them: modules of this package.
COMMANDS = ("gui", "models", "attacks", "predict", "attack", "certify", "tradeoff", "defend", "monitor", "zoo")
DEFAULT_COMMAND = "gui"


def command_module(name: str):
    return importlib.import_module(f"workbench.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Adversarial Workbench: attack and defend models and watch it happen. "
        "Without a subcommand, starts the desktop application.",
    )
    parser.add_argument("--smoke", action="store_true",
                        help="self-test of an installation: open the window (offscreen without a "
                        "display), run a short attack on the built-in model, print one line, exit")
    add_common_arguments(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        add_common_arguments(command_module(name).add_parser(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else argv))
    if args.smoke and args.command not in (None, "gui"):
        parser.error("--smoke starts the window; it takes no subcommand")
    from workbench.core.device import is_out_of_memory
    from workbench.core.errors import WorkbenchError

    args.progress = ProgressPrinter(quiet=args.quiet)
    started = time.perf_counter()
    try:
        return command_module(args.command or DEFAULT_COMMAND).run(args)
    except BrokenPipeError:  # stdout piped into a reader that stopped (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second failure at exit
        return EXIT_OK
    except KeyboardInterrupt:
        args.progress.close()
        parser.exit(EXIT_INTERRUPTED, f"workbench: interrupted after {time.perf_counter() - started:.1f} s\n")
    except Exception as error:  # noqa: BLE001 - sorted below; anything else keeps its traceback
        args.progress.close()
        if is_out_of_memory(error):
            parser.exit(EXIT_FAILED, f"workbench: error: {out_of_memory_message(args)}\n")
        if not isinstance(error, (UsageError, WorkbenchError, OSError, ValueError)):
            raise
        parser.exit(EXIT_USAGE, f"workbench: error: {error}\n")
    return EXIT_OK
