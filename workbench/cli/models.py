"""``workbench models``: the built-in models with their card metrics."""
from __future__ import annotations

import argparse

from workbench.cli.options import add_json_argument
from workbench.cli.output import EXIT_OK, emit

NAME = "models"


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(NAME, help="list the built-in models with their card metrics")
    add_json_argument(parser, "print JSON instead of a table")
    return parser


def run(args: argparse.Namespace) -> int:
    from workbench.core.loaders import builtin_models

    cards = builtin_models()
    rows = [
        {
            "id": card["id"],
            "title": card.get("title", ""),
            "input": card["input"],
            "classes": len(card["labels"]),
            "metrics": card.get("metrics", {}),
            "trained_with": card.get("trained_with", ""),
        }
        for card in cards
    ]
    lines = [f"{'id':<16} {'input':<10} {'classes':>7}  {'test accuracy':>13}  title"]
    for row in rows:
        spec = row["input"]
        accuracy = row["metrics"].get("test_accuracy")
        lines.append(
            f"{row['id']:<16} {spec['channels']}x{spec['height']}x{spec['width']:<6} {row['classes']:>7}  "
            f"{(f'{accuracy * 100:.2f} %' if accuracy is not None else '-'):>13}  {row['title']}"
        )
    emit(rows, args.json, "\n".join(lines))
    return EXIT_OK
