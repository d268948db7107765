"""``workbench tradeoff``: sweep a defense's strength — clean accuracy, robust accuracy under
the naive and the adaptive attack, and certified accuracy (the Trade-off page's computation,
:func:`~workbench.defenses.evaluation.sweep_tradeoff`)."""
from __future__ import annotations

import argparse

from workbench.cli.checks import UsageError
from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, add_params_argument, add_seed_argument, defense_ids,
    floats, load_data_from_args, load_model_from_args,
)
from workbench.cli.output import EXIT_OK, emit, percent

NAME = "tradeoff"


def add_parser(sub) -> argparse.ArgumentParser:
    tradeoff = sub.add_parser(NAME, help="sweep a defense's strength: clean, robust (naive and adaptive) "
                              "and certified accuracy")
    add_model_arguments(tradeoff)
    add_data_arguments(tradeoff)
    tradeoff.add_argument("--defense", required=True, help="defense id: " + ", ".join(defense_ids()))
    tradeoff.add_argument("--strengths", required=True, metavar="S,S,…",
                          help="values of the defense's strength parameter to sweep")
    add_params_argument(tradeoff, "--defense-param", "another parameter of the defense, fixed over the sweep")
    tradeoff.add_argument("--attack", default="pgd", help="white-box attack id (default pgd)")
    add_params_argument(tradeoff)
    tradeoff.add_argument("--eot", type=int, default=16, help="EOT draws of the adaptive attack (default 16)")
    tradeoff.add_argument("--radius", type=float, default=0.5,
                          help="L2 radius of the certified accuracy (Gaussian noise only; default 0.5)")
    add_params_argument(tradeoff, "--smoothing-param",
                        "a smoothing parameter for the certified curve (n0, n, alpha, batch_size)")
    add_seed_argument(tradeoff)
    tradeoff.add_argument("--csv", metavar="FILE.csv", help="also write the points as CSV")
    add_json_argument(tradeoff)
    return tradeoff


def run(args: argparse.Namespace) -> int:
    import csv

    from workbench.attacks import ATTACKS
    from workbench.core.params import build, parse_assignments
    from workbench.defenses import DEFENSES
    from workbench.defenses.evaluation import Tradeoff, sweep_tradeoff
    from workbench.defenses.smoothing import SmoothingParams

    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    attack_class = ATTACKS.get(args.attack)
    if attack_class.access != "white-box":
        raise UsageError(f"--attack: {attack_class.title} is black-box; the trade-off sweeps a white-box attack")
    attack = attack_class(**parse_assignments(args.param))
    DEFENSES.get(args.defense)
    strengths = floats(args.strengths, "--strengths")
    smoothing = build(SmoothingParams, parse_assignments(args.smoothing_param))
    outcome = None
    events = sweep_tradeoff(
        model, args.defense, strengths, attack, data.images, data.labels,
        defense_params=parse_assignments(args.defense_param), eot=args.eot, radius=args.radius,
        smoothing=smoothing, seed=args.seed,
    )
    for event in args.progress.track(events):
        if isinstance(event, Tradeoff):
            outcome = event
    rows = outcome.rows()
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    summary = {"model": model.model_id, "data": data.source, "images": len(data), "defense": outcome.defense,
               "parameter": outcome.parameter, **outcome.settings, "points": rows}
    header = f"{outcome.parameter:>10}  clean    naive    adaptive  certified@{args.radius:g}"
    table = [header] + [
        f"{row[outcome.parameter]:>10g}  {percent(row['clean_accuracy']):>7}  {percent(row['robust_naive']):>7}  "
        f"{percent(row['robust_adaptive']):>8}  {percent(row['certified_accuracy']):>9}" for row in rows
    ]
    emit(summary, args.json, "\n".join(table))
    return EXIT_OK
