"""``workbench attack``: an evasion attack on a set of images, in batches
(:func:`~workbench.attacks.evaluate.evaluate_attack`), with an optional mask, target, oracle
(black-box attacks), printable and run folder (``--out``)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench.cli.checks import UsageError, check_outputs, target_index
from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, add_oracle_arguments, add_params_argument,
    add_print_arguments, add_seed_argument, load_data_from_args, load_model_from_args, mask_from_args,
    oracle_from_args, print_width,
)
from workbench.cli.output import EXIT_FAILED, EXIT_OK

NAME = "attack"


def add_parser(sub) -> argparse.ArgumentParser:
    attack = sub.add_parser(NAME, help="run an evasion attack on images")
    add_model_arguments(attack)
    add_data_arguments(attack)
    attack.add_argument("--attack", required=True, help="attack id (see `workbench attacks`)")
    add_params_argument(attack)
    attack.add_argument("--target", help="target class (name or index) for a targeted attack")
    masks = attack.add_mutually_exclusive_group()
    masks.add_argument("--mask", metavar="FILE.png", help="mask PNG: white where pixels may change")
    masks.add_argument("--mask-rect", metavar="X,Y,W,H",
                       help="rectangular mask in model pixel coordinates (clipped to the image; "
                       "a negative X or Y works: --mask-rect -5,0,10,10)")
    masks.add_argument("--mask-template", metavar="NAME",
                       help="mask template fitted to each image's landmarks (the data's landmarks.json, "
                       "else eyes detected): eyeglasses, stop-stickers or a PNG with its anchor JSON")
    add_seed_argument(attack)
    attack.add_argument("--batch-size", type=int, default=256, help="images per batch (default 256)")
    attack.add_argument("--out", metavar="DIR", help="write the run record and adversarial PNGs here")
    add_json_argument(attack, "print one JSON summary object")
    add_print_arguments(attack)
    add_oracle_arguments(attack)
    return attack


def run(args: argparse.Namespace) -> int:
    from workbench.attacks import ATTACKS
    from workbench.attacks.evaluate import Evaluation, evaluate_attack
    from workbench.core.params import as_dict, parse_assignments

    attack_class = ATTACKS.get(args.attack)
    attack = attack_class(**parse_assignments(args.param))
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_outputs(args)
    model = load_model_from_args(args)
    oracle = oracle_from_args(args, attack_class, model)
    width = print_width(args)
    data = load_data_from_args(args, model)
    mask = mask_from_args(args, model, data)
    target = None if args.target is None else target_index(args.target, model.labels)
    events = evaluate_attack(
        attack, model, data.images, data.labels, mask=mask, target=target,
        seed=args.seed, batch_size=args.batch_size, oracle=oracle,
    )
    evaluation = None
    for event in args.progress.track(events):
        if isinstance(event, Evaluation):
            evaluation = event
    summary = {
        "attack": attack_class.id,
        "model": model.model_id,
        "data": args.data,
        "params": as_dict(attack.params),
        "seed": args.seed,
        **evaluation.summary,
        "skipped": len(data.skipped),
    }
    failure = _write_attack_outputs(args, model, data, attack, evaluation, summary, width)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(_attack_table(summary))
    if failure:
        sys.stdout.flush()
        sys.stderr.write(f"workbench: error: the results above were not saved: {failure}\n")
        return EXIT_FAILED
    return EXIT_OK


def _write_attack_outputs(args, model, data, attack, evaluation, summary, print_width) -> str | None:
    """Write the printable and the run folder (adding their paths to ``summary``); the reason
    when writing failed, so that the computed summary is still printed."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.printable import write_printable

    try:
        if args.print_out:
            write_printable(args.print_out, evaluation.x_adv[0], evaluation.mask[0], print_width, args.print_dpi)
            summary["printable"] = args.print_out
        if args.out:
            summary["run_folder"] = str(_write_attack_run(args, model, data, attack, evaluation, summary, print_width))
    except (OSError, WorkbenchError) as error:
        return str(error)
    return None


def _attack_table(s: dict[str, Any]) -> str:
    def percent(value):
        return "-" if value is None else f"{value * 100:.1f} %"

    lines = [
        f"{s['attack']} on {s['model']} ({s['n']} images, {s['seconds']:.2f} s)",
        f"  clean accuracy        {percent(s['clean_accuracy'])}",
        f"  adversarial accuracy  {percent(s['adversarial_accuracy'])}",
        f"  success rate          {percent(s['success_rate'])}",
        f"  max L∞ {s['max_linf']:.4f}   mean L2 {s['mean_l2']:.4f}   mean L0 {s['mean_l0']:.1f}",
        f"  pixels changed outside the mask: {s['pixels_changed_outside_mask']}",
    ]
    if s.get("oracle"):
        median = "-" if s["queries_median"] is None else f"{s['queries_median']:.0f}"
        lines.append(f"  queries {s['queries']}   median to success {median}   "
                     f"budget exhausted on {s['budget_exhausted']} images")
    if "run_folder" in s:
        lines.append(f"  run written to {s['run_folder']}")
    return "\n".join(lines)


def _write_attack_run(args, model, data, attack, evaluation, summary, print_width) -> Path:
    from workbench.attacks.evaluate import per_image_rows
    from workbench.core.images import quantize_perturbation, save_png
    from workbench.core.params import as_dict
    from workbench.core.printable import write_printable
    from workbench.core.runs import RunRecord, artifact_names, base_config, csv_writer, write_run

    config = base_config(
        kind="attack",
        algorithm=attack.id,
        params=as_dict(attack.params),
        model={"id": model.model_id, "weight_hash": model.weight_hash, "input": model.spec.as_dict()},
        data={"source": args.data, "limit": args.limit, "names": data.names},
        seed=args.seed,
        batch_size=args.batch_size,
        target=args.target,
        mask={"file": args.mask, "rect": args.mask_rect, "template": args.mask_template},
        printable=None if print_width is None else {"width_mm": print_width, "dpi": args.print_dpi},
        oracle=evaluation.oracle,
        device=str(model.device),
    )
    per_image = per_image_rows(evaluation, data.names, model.labels)
    eps = getattr(attack.params, "eps", None) if attack.norm in ("linf", "l2") else None
    saved = quantize_perturbation(evaluation.x_adv, evaluation.x, norm=attack.norm, eps=eps)
    artifacts = {}
    for i, (image, file) in enumerate(zip(saved, artifact_names(data.names))):
        per_image[i]["file"] = f"adversarial/{file}"
        per_image[i]["linf_saved"] = round((image - evaluation.x[i]).abs().max().item(), 6)
        artifacts[f"adversarial/{file}"] = (lambda path, image=image: save_png(path, image))
        if print_width is not None:
            artifacts[f"printable/{file}"] = (
                lambda path, image=image, mask=evaluation.mask[i]:
                write_printable(path, image, mask, print_width, args.print_dpi)
            )
    artifacts["images.csv"] = csv_writer(per_image)
    return write_run(
        args.out,
        RunRecord(config=config, metrics={**summary, "images": per_image}, artifacts=artifacts),
    )
