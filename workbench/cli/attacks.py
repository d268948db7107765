"""``workbench attacks``: the attacks with their declared parameters."""
from __future__ import annotations

import argparse

from workbench.cli.options import add_json_argument
from workbench.cli.output import EXIT_OK, emit

NAME = "attacks"


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(NAME, help="list the attacks with their declared parameters")
    add_json_argument(parser, "print JSON instead of a table")
    return parser


def run(args: argparse.Namespace) -> int:
    from workbench.attacks import ATTACKS

    infos = [attack.info() for attack in ATTACKS]
    lines = []
    for info in infos:
        lines.append(f"{info['id']}  ({info['access']}, {info['norm']}) — {info['summary']}")
        lines.append(f"    {info['paper']}")
        for p in info["parameters"]:
            bounds = ""
            if p["choices"]:
                bounds = f" one of {', '.join(p['choices'])}"
            elif p["low"] is not None or p["high"] is not None:
                bounds = f" in [{p['low']}, {p['high']}]"
            lines.append(f"    {p['name']:<14} {p['type']:<5} default {p['default']!s:<8}{bounds} — {p['description']}")
    emit(infos, args.json, "\n".join(lines))
    return EXIT_OK
