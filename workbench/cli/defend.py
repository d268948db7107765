"""``workbench defend``: the Naive-vs-adaptive page — the same white-box attack on the model
alone, on a defense stack with plain gradients (naive) and with BPDA/EOT (adaptive), then
Square by queries alone on the deployed stack (black-box), each stage with the warnings of
Carlini et al. (2019). The engine is :func:`~workbench.defenses.evaluation.compare_defense`,
with the page's defaults (attack, EOT draws, Square's queries, the adaptive switches that
:func:`~workbench.defenses.evaluation.adaptive_for` recommends for the stack)."""
from __future__ import annotations

import argparse

from workbench.cli.checks import UsageError
from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, add_params_argument, add_seed_argument, defense_ids,
    load_data_from_args, load_model_from_args,
)
from workbench.cli.output import EXIT_OK, emit, percent

NAME = "defend"
# The stages as the command names them (the engine's ids → the page's cards).
STAGE_NAMES = {"reference": "undefended", "naive": "naive", "adaptive": "adaptive", "black-box": "black-box"}
DEFAULT_EOT = 16  # EOT draws, as the page's default


def add_parser(sub) -> argparse.ArgumentParser:
    from workbench.defenses.evaluation import BLACK_BOX_QUERIES, COMPARISON_ATTACK, COMPARISON_ATTACK_VALUES

    defaults = ", ".join(f"{key}={value}" for key, value in COMPARISON_ATTACK_VALUES.items())
    defend = sub.add_parser(NAME, help="a defense stack under the same attack: undefended, naive, adaptive "
                            "(BPDA/EOT) and black-box (the Naive-vs-adaptive page)")
    add_model_arguments(defend)
    add_data_arguments(defend)
    defend.add_argument("--defense", required=True, metavar="DEF[:K=V…][,DEF…]",
                        help="the defense stack, first defense first, each with its parameters: "
                        "bit-depth:bits=2,jpeg:quality=50 (defenses: " + ", ".join(defense_ids()) + ")")
    defend.add_argument("--attack", default=COMPARISON_ATTACK,
                        help=f"white-box attack with a budget ε (default {COMPARISON_ATTACK} with {defaults})")
    add_params_argument(defend)
    defend.add_argument("--eot", type=int, default=DEFAULT_EOT, metavar="K",
                        help=f"EOT draws of the adaptive attack where the stack is random (default {DEFAULT_EOT})")
    defend.add_argument("--square-queries", type=int, default=BLACK_BOX_QUERIES, metavar="Q",
                        help=f"queries per image of the black-box stage (Square at the same ε; default "
                        f"{BLACK_BOX_QUERIES}; 0: no black-box stage)")
    add_seed_argument(defend)
    add_json_argument(defend)
    return defend


def parse_stack(text: str) -> list:
    """``bit-depth:bits=2,jpeg:quality=50`` → the defenses, first first. A comma-separated part
    with ``=`` but no ``:`` is another parameter of the defense before it."""
    from workbench.defenses import DEFENSES

    specs: list[tuple[str, dict[str, str]]] = []
    for part in (p.strip() for p in text.split(",")):
        name, colon, assignment = part.partition(":")
        if not colon and "=" in part:
            if not specs:
                raise UsageError(f"--defense: '{part}' comes before any defense id")
            name, assignment = "", part
        elif not name:
            raise UsageError(f"--defense: '{text}' has an empty defense id")
        if name:
            specs.append((name.strip(), {}))
        if assignment:
            key, equals, value = assignment.partition("=")
            if not equals or not key.strip():
                raise UsageError(f"--defense: '{assignment}' is not of the form key=value")
            specs[-1][1][key.strip()] = value.strip()
    return [DEFENSES.get(name)(**values) for name, values in specs]


def comparison_attack(attack_id: str, assignments: list[str]):
    """The white-box attack of the comparison, with the page's default values under ``--param``."""
    from workbench.attacks import ATTACKS
    from workbench.core.params import parse_assignments
    from workbench.defenses.evaluation import COMPARISON_ATTACK, COMPARISON_ATTACK_VALUES

    attack_class = ATTACKS.get(attack_id)
    if attack_class.access != "white-box" or attack_class.norm not in ("linf", "l2"):
        raise UsageError(f"--attack: {attack_class.title} is not a white-box attack with an L∞ or L2 budget ε")
    defaults = COMPARISON_ATTACK_VALUES if attack_id == COMPARISON_ATTACK else {}
    return attack_class(**{**defaults, **parse_assignments(assignments)})


def run(args: argparse.Namespace) -> int:
    from workbench.core.params import as_dict
    from workbench.defenses.base import DefendedModel
    from workbench.defenses.evaluation import (
        DefenseEvaluation, adaptive_for, black_box_counterpart, compare_defense,
    )
    from workbench.defenses.evaluation_warnings import comparison_warnings, large_eps

    if args.eot < 1:
        raise UsageError("--eot must be at least 1")
    if args.square_queries < 0:
        raise UsageError("--square-queries must be at least 0")
    defenses = parse_stack(args.defense)
    attack = comparison_attack(args.attack, args.param)
    black_box = black_box_counterpart(attack, args.square_queries) if args.square_queries else None
    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    adaptive = adaptive_for(defenses, eot=args.eot)
    results: dict[str, DefenseEvaluation] = {}
    events = compare_defense(attack, model, defenses, adaptive, data.images, data.labels,
                             black_box=black_box, seed=args.seed)
    for event in args.progress.track(events):
        if isinstance(event.event, DefenseEvaluation):
            results[event.stage] = event.event
    robust = {stage: result.robust_accuracy for stage, result in results.items()}
    warnings = comparison_warnings(DefendedModel(model, defenses), adaptive, robust,
                                   large_eps=large_eps(attack, model.input_shape), images=int((data.labels >= 0).sum()))
    stages = {
        stage: {"name": STAGE_NAMES[stage], "attack": (black_box if stage == "black-box" else attack).id,
                "differentiated": result.adaptive, "clean_accuracy": result.clean_accuracy,
                "robust_accuracy": result.robust_accuracy, "warnings": warnings.get(stage, [])}
        for stage, result in results.items()
    }
    summary = {
        "model": model.model_id, "data": data.source, "images": len(data),
        "defenses": [defense.describe() for defense in defenses],
        "attack": attack.id, "params": as_dict(attack.params),
        "adaptive": adaptive.describe(), "eot": adaptive.eot,
        "black_box": None if black_box is None else {"attack": black_box.id, "queries": args.square_queries},
        "seed": args.seed, "stages": stages,
    }
    lines = [f"{attack.title} on {model.model_id} behind {' → '.join(d.id for d in defenses)} "
             f"({len(data)} images; adaptive: {adaptive.describe()})",
             f"  {'stage':<12} {'clean':>8} {'robust':>8}"]
    lines += [f"  {s['name']:<12} {percent(s['clean_accuracy']):>8} {percent(s['robust_accuracy']):>8}"
              for s in stages.values()]
    lines += [f"  ! {s['name']}: {w}" for s in stages.values() for w in s["warnings"]]
    emit(summary, args.json, "\n".join(lines))
    return EXIT_OK
