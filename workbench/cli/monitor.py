"""``workbench monitor``: the Monitoring page — a stateful detector (Chen, Carlini and Wagner
2019) calibrated on benign images watches the queries of a query-based black-box attack on one
image (optionally a Sybil attacker spread over accounts), or of a benign user (``--benign N``).
The engine is :mod:`workbench.defenses.monitoring`, with the page's defaults."""
from __future__ import annotations

import argparse

from workbench.cli.checks import UsageError
from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, add_params_argument, add_seed_argument,
    load_data_from_args, load_model_from_args,
)
from workbench.cli.output import EXIT_OK, emit

NAME = "monitor"


def add_parser(sub) -> argparse.ArgumentParser:
    from workbench.defenses.monitoring import (
        CALIBRATION_IMAGES, MONITOR_ATTACK, MONITOR_ATTACK_VALUES, SWITCH_EVERY,
    )

    defaults = ", ".join(f"{key}={value}" for key, value in MONITOR_ATTACK_VALUES.items())
    monitor = sub.add_parser(NAME, help="a stateful detector watching a black-box attack's queries, or a "
                             "benign user's (the Monitoring page)")
    add_model_arguments(monitor)
    add_data_arguments(monitor, required=False)
    monitor.add_argument("--index", type=int, default=0, metavar="I",
                         help="attack the data's image I (default 0, the first)")
    monitor.add_argument("--attack", default=MONITOR_ATTACK,
                         help=f"query-based black-box attack (default {MONITOR_ATTACK} with {defaults})")
    add_params_argument(monitor)
    add_params_argument(monitor, "--monitor-param",
                        "a detector parameter (k, buffer, false_positive_rate); repeat for several")
    monitor.add_argument("--calibration", type=int, default=CALIBRATION_IMAGES, metavar="N",
                         help=f"benign training images that calibrate the threshold (default {CALIBRATION_IMAGES})")
    monitor.add_argument("--accounts", type=int, default=1, metavar="N",
                         help="accounts the attacker spreads its queries over (default 1; more: a Sybil attack)")
    monitor.add_argument("--switch-every", type=int, default=SWITCH_EVERY, metavar="Q",
                         help=f"queries from one account before the next (default {SWITCH_EVERY})")
    monitor.add_argument("--benign", type=int, metavar="N",
                         help="instead of an attack, a benign user sending N test images (one query each)")
    add_seed_argument(monitor)
    add_json_argument(monitor)
    return monitor


def monitor_attack(attack_id: str, assignments: list[str]):
    """The watched attack, with the page's default values under ``--param``."""
    from workbench.attacks import ATTACKS
    from workbench.core.params import parse_assignments
    from workbench.defenses.monitoring import MONITOR_ATTACK, MONITOR_ATTACK_VALUES

    attack_class = ATTACKS.get(attack_id)
    if attack_class.access not in ("score", "label") or attack_class.id == "transfer":
        raise UsageError(f"--attack: {attack_class.title} does not query an oracle; "
                         "the monitor watches query-based black-box attacks")
    defaults = MONITOR_ATTACK_VALUES if attack_id == MONITOR_ATTACK else {}
    return attack_class(**{**defaults, **parse_assignments(assignments)})


def run(args: argparse.Namespace) -> int:
    import torch

    from workbench.core.goals import goal_labels
    from workbench.core.oracle import OracleParams
    from workbench.core.params import as_dict, build, parse_assignments
    from workbench.defenses.monitor import MonitorParams
    from workbench.defenses.monitoring import benign_stream, calibrated_detector, monitored_attack, verdict

    kind = "attack" if args.benign is None else "benign"
    params = build(MonitorParams, parse_assignments(args.monitor_param))
    if args.calibration <= params.k:
        raise UsageError(f"--calibration: needs more than k = {params.k} images")
    if kind == "benign":
        if args.benign < 1:
            raise UsageError("--benign must be at least 1")
        attack = None
    else:
        if args.data is None:
            raise UsageError("--data is needed to attack an image (or run a benign stream with --benign N)")
        attack = monitor_attack(args.attack, args.param)
        oracle_params = build(OracleParams, {"accounts": args.accounts, "switch_every": args.switch_every})
    model = load_model_from_args(args)
    described = {"mode": kind, "model": model.model_id, "detector": as_dict(params), "calibration": args.calibration}
    if kind == "benign":
        events = benign_stream(calibrated_detector(model, params, args.calibration), model, args.benign)
    else:
        data = load_data_from_args(args, model)
        if not 0 <= args.index < len(data):
            raise UsageError(f"--index: {args.index} is not an image of the data (0..{len(data) - 1})")
        x = data.images[args.index:args.index + 1]
        label = goal_labels(int(data.labels[args.index]), lambda: model.predict(x)[0])
        described.update(image=data.names[args.index], label=model.labels[label], attack=attack.id,
                         params=as_dict(attack.params), accounts=args.accounts, switch_every=args.switch_every,
                         seed=args.seed)
        events = monitored_attack(calibrated_detector(model, params, args.calibration), model, attack, x,
                                  torch.tensor([label]), oracle_params, seed=args.seed)
    final = None
    for final in args.progress.track(events):
        pass
    if final is None:
        raise UsageError("the monitored run sent no query")
    text = verdict(final, kind).replace("<b>", "").replace("</b>", "")
    first = final.first_alarm
    summary = {
        **described,
        "threshold": final.threshold, "queries": final.queries, "alarms": final.alarms,
        "alarm_rate": final.alarms / final.queries if final.queries else 0.0,
        "first_alarm": None if first is None else {"account": first[0], "query": first[1] + 1},
        "accounts_seen": final.accounts_seen, "fooled": final.fooled if kind == "attack" else None,
        "verdict": text,
    }
    lines = [f"{kind} on {model.model_id}: {final.queries:,} queries, {final.accounts_seen} accounts, "
             f"{final.alarms:,} alarms, threshold δ = {final.threshold:.3g}", f"  {text}"]
    emit(summary, args.json, "\n".join(lines))
    return EXIT_OK
