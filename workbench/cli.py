"""The ``workbench`` command: the engine in batch, progress on stderr, results on stdout.

Every subcommand consumes the same engine generators as the GUI. Bad arguments, unknown
parameters, out-of-range values and unreadable files end with exit code 2 and a one-line
message naming the problem — never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from workbench.cli_checks import (
    UsageError, check_outputs, join_negative_values, labelling_notes, out_of_memory_message, parse_rect, target_index,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# -- argument parsing ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Adversarial Workbench: attack and defend models and watch it happen. "
        "Without a subcommand, starts the desktop application.",
    )
    parser.add_argument("--smoke", action="store_true",
                        help="self-test of an installation: open the window (offscreen without a "
                        "display), run a short attack on the built-in model, print one line, exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("gui", help="start the desktop application (the default)")

    models = sub.add_parser("models", help="list the built-in models with their card metrics")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")

    attacks = sub.add_parser("attacks", help="list the attacks with their declared parameters")
    attacks.add_argument("--json", action="store_true", help="print JSON instead of a table")

    predict = sub.add_parser("predict", help="classify images with a model")
    _add_model_arguments(predict)
    _add_data_arguments(predict)
    predict.add_argument("--json", action="store_true", help="print one JSON object")

    attack = sub.add_parser("attack", help="run an evasion attack on images")
    _add_model_arguments(attack)
    _add_data_arguments(attack)
    attack.add_argument("--attack", required=True, help="attack id (see `workbench attacks`)")
    attack.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="an attack parameter; repeat for several")
    attack.add_argument("--target", help="target class (name or index) for a targeted attack")
    masks = attack.add_mutually_exclusive_group()
    masks.add_argument("--mask", metavar="FILE.png", help="mask PNG: white where pixels may change")
    masks.add_argument("--mask-rect", metavar="X,Y,W,H",
                       help="rectangular mask in model pixel coordinates (clipped to the image; "
                       "a negative X or Y works: --mask-rect -5,0,10,10)")
    masks.add_argument("--mask-template", metavar="NAME",
                       help="mask template fitted to each image's landmarks (the data's landmarks.json, "
                       "else eyes detected): eyeglasses, stop-stickers or a PNG with its anchor JSON")
    attack.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    attack.add_argument("--batch-size", type=int, default=256, help="images per batch (default 256)")
    attack.add_argument("--out", metavar="DIR", help="write the run record and adversarial PNGs here")
    attack.add_argument("--json", action="store_true", help="print one JSON summary object")
    _add_print_arguments(attack)
    _add_oracle_arguments(attack)

    certify = sub.add_parser("certify", help="randomized smoothing: certified L2 radius per image (Cohen et al. 2019)")
    _add_model_arguments(certify)
    _add_data_arguments(certify)
    certify.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                         help="a smoothing parameter (sigma, n0, n, alpha, batch_size); repeat for several. "
                         "sigma defaults to the model card's training noise")
    certify.add_argument("--radii", default="0,0.25,0.5,0.75,1", metavar="R,R,…",
                         help="radii at which to report certified accuracy")
    certify.add_argument("--predict", action="store_true", help="run PREDICT (with abstention) instead of CERTIFY")
    certify.add_argument("--seed", type=int, default=0, help="random seed of the noise (default 0)")
    certify.add_argument("--json", action="store_true", help="print one JSON object")

    tradeoff = sub.add_parser("tradeoff", help="sweep a defense's strength: clean, robust (naive and adaptive) "
                              "and certified accuracy")
    _add_model_arguments(tradeoff)
    _add_data_arguments(tradeoff)
    tradeoff.add_argument("--defense", required=True, help="defense id: " + ", ".join(_defense_ids()))
    tradeoff.add_argument("--strengths", required=True, metavar="S,S,…",
                          help="values of the defense's strength parameter to sweep")
    tradeoff.add_argument("--defense-param", action="append", default=[], metavar="KEY=VALUE",
                          help="another parameter of the defense, fixed over the sweep")
    tradeoff.add_argument("--attack", default="pgd", help="white-box attack id (default pgd)")
    tradeoff.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                          help="an attack parameter; repeat for several")
    tradeoff.add_argument("--eot", type=int, default=16, help="EOT draws of the adaptive attack (default 16)")
    tradeoff.add_argument("--radius", type=float, default=0.5,
                          help="L2 radius of the certified accuracy (Gaussian noise only; default 0.5)")
    tradeoff.add_argument("--smoothing-param", action="append", default=[], metavar="KEY=VALUE",
                          help="a smoothing parameter for the certified curve (n0, n, alpha, batch_size)")
    tradeoff.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    tradeoff.add_argument("--csv", metavar="FILE.csv", help="also write the points as CSV")
    tradeoff.add_argument("--json", action="store_true", help="print one JSON object")

    zoo = sub.add_parser("zoo", help="built-in model recipes")
    zoo_sub = zoo.add_subparsers(dest="zoo_command", metavar="ACTION", required=True)
    train = zoo_sub.add_parser("train", help="retrain a built-in model from its recipe")
    train.add_argument("model_id", help="built-in model id: fashion-cnn, signs-cnn or faces-cnn")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int, help="epochs (default: the recipe's)")
    train.add_argument("--train-limit", type=int,
                       help="train on the first N training images only (synthetic data: render N)")
    train.add_argument("--test-limit", type=int,
                       help="evaluate on the first N test images only (synthetic data: render N held-out)")
    train.add_argument("--out", dest="out_dir", help="folder for the weights and card (default: the shipped ones)")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: CUDA when available)")
    samples = zoo_sub.add_parser("samples", help="export the shipped sample images (Fashion-MNIST, signs, faces)")
    samples.add_argument("sets", nargs="*", metavar="SET",
                         help="sample sets to write: fashion-mnist, signs, faces (default: all)")
    samples.add_argument("--out", dest="out_dir",
                         help="write each set into DIR/<set> (default: the shipped resources/samples/<set>)")
    return parser


def _defense_ids() -> list[str]:
    from workbench.defenses import DEFENSES

    return DEFENSES.ids()


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", required=True, help="built-in model id or a model file")
    group.add_argument("--arch", help="architecture of a weights file (zoo name or torchvision name)")
    group.add_argument("--input-size", metavar="HxW", help="input size of a model file, e.g. 224x224")
    group.add_argument("--channels", type=int, choices=(1, 3), help="input channels of a model file")
    group.add_argument("--mean", metavar="M[,M,M]", help="normalization mean of a model file")
    group.add_argument("--std", metavar="S[,S,S]", help="normalization std of a model file")
    group.add_argument("--labels", metavar="FILE", help="class names, one per line (or a JSON list)")
    group.add_argument("--trust-pickle", action="store_true",
                       help="allow loading a pickled model, which can run code: only for trusted files")
    group.add_argument("--device", default=None,
                       help="cpu, cuda, cuda:N or mps, any case (default: CUDA when available)")


def _add_print_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "printable", "the perturbed mask region as a PNG that prints at a physical size (with --out: every image's)"
    )
    group.add_argument("--print-out", metavar="FILE.png", help="write the first image's printable here")
    group.add_argument("--print-width-mm", type=float, metavar="W", help="printed width in millimetres")
    group.add_argument("--print-dpi", type=float, default=300.0, metavar="D", help="printer resolution (default 300)")


def _print_width(args: argparse.Namespace) -> float | None:
    """The printed width asked for (None without printables); checks the print options."""
    if args.print_width_mm is None:
        if args.print_out:
            raise UsageError("--print-out needs --print-width-mm")
        return None
    if args.print_width_mm <= 0 or args.print_dpi <= 0:
        raise UsageError("--print-width-mm and --print-dpi must be positive")
    return args.print_width_mm


def _add_oracle_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "oracle", "what a black-box attack's prediction API reveals and allows (not for white-box attacks)"
    )
    group.add_argument("--top-k", type=int, metavar="K", help="answer the K most likely classes (default: all)")
    group.add_argument("--round", type=int, metavar="D", help="round confidences to D decimals")
    group.add_argument("--label-only", action="store_true", help="answer labels without confidences")
    group.add_argument("--budget", type=int, metavar="Q", help="queries allowed per image (default: unlimited)")
    group.add_argument("--latency", type=float, metavar="MS", help="artificial delay per query call, in ms")


# Oracle settings (OracleParams fields) ← their command-line options.
_ORACLE_OPTIONS = {"top_k": "--top-k", "decimals": "--round", "label_only": "--label-only",
                   "budget": "--budget", "latency_ms": "--latency"}


def _oracle_from_args(args: argparse.Namespace, attack_class, model):
    """The oracle over ``model`` for a black-box attack (None for a white-box one, which
    refuses the oracle options)."""
    from workbench.core.errors import ParameterError
    from workbench.core.oracle import Oracle, OracleParams
    from workbench.core.params import build

    values = {"top_k": args.top_k, "decimals": args.round, "label_only": args.label_only or None,
              "budget": args.budget, "latency_ms": args.latency}
    given = {key: value for key, value in values.items() if value is not None}
    if attack_class.access == "white-box":
        if given:
            raise UsageError(f"{_ORACLE_OPTIONS[next(iter(given))]} applies to black-box attacks; "
                             f"{attack_class.id} is white-box and uses the model itself")
        return None
    try:
        return Oracle(model, build(OracleParams, given))
    except ParameterError as error:
        message = str(error)
        for key, option in _ORACLE_OPTIONS.items():
            message = message.replace(f"parameter '{key}'", option)
        raise UsageError(message) from None


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=True,
                       help="samples:fashion-mnist, fashion-mnist:test, a folder or an image file")
    group.add_argument("--limit", type=int, metavar="N",
                       help="use N images: from class folders and sample sets taken round-robin over "
                       "the classes (20 on ten classes: two of each, each class's first files); "
                       "from IDX files and Fashion-MNIST the first N")


# -- helpers -------------------------------------------------------------------------------------


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{option}: '{text}' is not a comma-separated list of numbers") from None


def _input_spec(args: argparse.Namespace):
    from workbench.core.spec import InputSpec

    given = [args.input_size, args.channels, args.mean, args.std]
    if all(v is None for v in given):
        return None
    if args.input_size is None:
        raise UsageError("--input-size is needed with --channels/--mean/--std")
    try:
        parts = [int(v) for v in args.input_size.lower().replace("×", "x").split("x")]
    except ValueError:
        raise UsageError(f"--input-size: '{args.input_size}' is not of the form HxW") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise UsageError(f"--input-size: '{args.input_size}' is not of the form HxW")
    channels = args.channels or 3
    try:
        return InputSpec(
            channels=channels, height=parts[0], width=parts[1],
            mean=_floats(args.mean, "--mean") or (0.0,),
            std=_floats(args.std, "--std") or (1.0,),
        )
    except ValueError as error:
        raise UsageError(f"input spec: {error}") from None


def load_model_from_args(args: argparse.Namespace):
    from workbench.core.device import choose_device
    from workbench.core.loaders import load_labels_file, load_model

    device = choose_device(args.device)  # an unknown or absent device is refused before loading
    labels = load_labels_file(args.labels) if args.labels else None
    return load_model(
        args.model, arch=args.arch, input_spec=_input_spec(args), labels=labels,
        device=device, trust_pickle=args.trust_pickle,
    )


def load_data_from_args(args: argparse.Namespace, model):
    from workbench.core.datasets import open_data

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    data = open_data(args.data, model.spec, model.labels, limit=args.limit)
    for name, reason in data.skipped:
        _progress(f"skipped {name}: {reason}")
    for note in labelling_notes(data, model.labels, model.model_id, bool(args.labels)):
        _progress(note)
    return data


def _mask_from_args(args: argparse.Namespace, model, data):
    from workbench.core.masks import load_mask_png, rect_mask, require_nonempty

    size = (model.spec.height, model.spec.width)
    if args.mask_template:
        return _template_masks(args.mask_template, data, size)
    if args.mask:
        return require_nonempty(load_mask_png(args.mask, size), args.mask)
    if args.mask_rect:
        rect, note = parse_rect(args.mask_rect, size)
        if note:
            _progress(note)
        return rect_mask(*rect, size)
    return None


def _template_masks(template: str, data, size: tuple[int, int]):
    """The template fitted to each image: to its landmarks, else to the eyes detected in it."""
    import torch

    from workbench.core.errors import WorkbenchError
    from workbench.core.images import to_uint8_hwc
    from workbench.core.landmarks import detect_eyes, fit_template, landmarks_for, template_files

    try:
        template_files(template)
    except WorkbenchError as error:
        raise UsageError(f"--mask-template: {error}") from None
    masks = []
    for index, name in enumerate(data.names):
        try:
            marks = landmarks_for(data, index) or detect_eyes(to_uint8_hwc(data.images[index]))
            if marks is None:
                raise UsageError(f"--mask-template: {name} has no landmarks and no eyes were detected in it")
            masks.append(fit_template(template, marks, size))
        except WorkbenchError as error:
            raise UsageError(f"--mask-template: {name}: {error}") from None
    return torch.cat(masks)


def _progress(message: str, *, final: bool = True) -> None:
    stream = sys.stderr
    if stream.isatty() and not final:
        stream.write("\r" + message[:120].ljust(120))
    elif final:
        stream.write(("\r" if stream.isatty() else "") + message + "\n")
    stream.flush()


def _emit(data: Any, as_json: bool, table: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else table)


# -- subcommands ---------------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    from workbench.gui.app import main as gui_main

    return gui_main(["--smoke"] if args.smoke else [])


def cmd_models(args: argparse.Namespace) -> int:
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
    _emit(rows, args.json, "\n".join(lines))
    return EXIT_OK


def cmd_attacks(args: argparse.Namespace) -> int:
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
    _emit(infos, args.json, "\n".join(lines))
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    probs = model.predict(data.images)
    confidence, predicted = probs.max(dim=1)
    known = data.labels >= 0
    correct = (predicted == data.labels)[known]
    items = [
        {
            "name": name,
            "label": model.labels[int(label)] if label >= 0 else None,
            "predicted": model.labels[int(p)],
            "confidence": round(float(c), 6),
        }
        for name, label, p, c in zip(data.names, data.labels, predicted, confidence)
    ]
    result = {
        "model": model.model_id,
        "n": len(items),
        "accuracy": round(correct.float().mean().item(), 6) if correct.numel() else None,
        "skipped": [{"name": n, "reason": r} for n, r in data.skipped],
        "predictions": items,
    }
    table = "\n".join(
        f"{i['name']}: {i['predicted']} ({i['confidence'] * 100:.1f} %)"
        + (f"  [true: {i['label']}]" if i["label"] is not None else "")
        for i in items
    )
    if result["accuracy"] is not None:
        table += f"\naccuracy {result['accuracy'] * 100:.2f} % on {int(known.sum())} labelled images"
    _emit(result, args.json, table)
    return EXIT_OK


def cmd_attack(args: argparse.Namespace) -> int:
    from workbench.attacks import ATTACKS
    from workbench.attacks.evaluate import BatchStep, evaluate_attack
    from workbench.core.events import AttackResult
    from workbench.core.params import as_dict, parse_assignments

    attack_class = ATTACKS.get(args.attack)
    attack = attack_class(**parse_assignments(args.param))
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_outputs(args)
    model = load_model_from_args(args)
    oracle = _oracle_from_args(args, attack_class, model)
    print_width = _print_width(args)
    data = load_data_from_args(args, model)
    mask = _mask_from_args(args, model, data)
    target = None if args.target is None else target_index(args.target, model.labels)
    events = evaluate_attack(
        attack, model, data.images, data.labels, mask=mask, target=target,
        seed=args.seed, batch_size=args.batch_size, oracle=oracle,
    )
    evaluation = None
    for event in events:
        if isinstance(event, BatchStep):
            step = event.event
            if isinstance(step, AttackResult):
                _progress(f"batch {event.batch}/{event.batches}: success "
                          f"{int(step.success.sum())}/{step.success.numel()}", final=True)
            else:
                queries = f"  queries {step.queries}" if step.queries else ""
                _progress(f"batch {event.batch}/{event.batches}  step {step.iteration}/{step.total}  "
                          f"success {int(step.success.sum())}/{step.success.numel()}{queries}", final=False)
        else:
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
    failure = _write_attack_outputs(args, model, data, attack, evaluation, summary, print_width)
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


def cmd_zoo(args: argparse.Namespace) -> int:
    from workbench.core.events import Progress, TrainEpoch, TrainResult
    from workbench.zoo.recipes import export_sample_sets, train

    if args.zoo_command == "samples":
        written = export_sample_sets(args.sets or None, args.out_dir)
        print(json.dumps({"samples": {name: str(path) for name, path in written.items()}}, indent=2))
        return EXIT_OK
    options = {
        key: value
        for key, value in vars(args).items()
        if key in ("seed", "epochs", "train_limit", "test_limit", "out_dir", "device") and value is not None
    }
    for event in train(args.model_id, **options):
        if isinstance(event, Progress):
            _progress(f"{event.message}: {event.done}/{event.total}", final=event.done == event.total)
        elif isinstance(event, TrainEpoch):
            test = "" if event.test_accuracy is None else f"  test accuracy {event.test_accuracy * 100:.2f} %"
            _progress(f"epoch {event.epoch}/{event.epochs}  loss {event.train_loss:.4f}  "
                      f"train accuracy {event.train_accuracy * 100:.2f} %{test}  ({event.seconds:.0f} s)")
        elif isinstance(event, TrainResult):
            print(json.dumps({"model": event.model_id, "weights": event.weights_path,
                              "card": event.card_path, **event.metrics}, indent=2))
    return EXIT_OK


def cmd_certify(args: argparse.Namespace) -> int:
    from workbench.core.events import CertifyProgress, CertifyResult
    from workbench.core.params import as_dict, build, parse_assignments
    from workbench.defenses.smoothing import Smoothing, SmoothingParams

    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    values = parse_assignments(args.param)
    if "sigma" not in values and "noise_sigma" in model.card:
        values["sigma"] = model.card["noise_sigma"]
    params = build(SmoothingParams, values)
    radii = _floats(args.radii, "--radii")
    smoothing = Smoothing(model, params, seed=args.seed)
    run = smoothing.predict if args.predict else smoothing.certify
    result = None
    for event in run(data.images, data.labels):
        if isinstance(event, CertifyProgress):
            _progress(f"image {event.image + 1}/{event.images}  {event.phase} {event.done}/{event.total}",
                      final=False)
        elif isinstance(event, CertifyResult):
            result = event
    known = result.labels >= 0
    answered = result.predictions >= 0
    summary = {
        "model": model.model_id,
        "data": data.source,
        "images": len(data),
        **as_dict(params),
        "mode": "predict" if args.predict else "certify",
        "abstained": int((~answered).sum()),
        "accuracy": round(float(((result.predictions == result.labels) & known).sum()) / max(int(known.sum()), 1), 6),
        "certified_accuracy": {f"{r:g}": round(result.certified_accuracy(r), 6) for r in radii} if not args.predict else None,
        "median_radius": round(float(result.radii[answered].median()), 6) if answered.any() and not args.predict else None,
        "seconds": round(result.seconds, 3),
        "samples_per_second": round(len(data) * ((params.n0 if not args.predict else 0) + params.n) / max(result.seconds, 1e-9)),
    }
    lines = [f"{summary['mode']}: {model.model_id}, σ = {params.sigma:g}, n = {params.n}, α = {params.alpha:g}, "
             f"{len(data)} images, {summary['abstained']} abstained, accuracy {summary['accuracy'] * 100:.1f} %"]
    for radius, value in (summary["certified_accuracy"] or {}).items():
        lines.append(f"  certified accuracy at radius {radius}: {value * 100:.1f} %")
    _emit(summary, args.json, "\n".join(lines))
    return EXIT_OK


def cmd_tradeoff(args: argparse.Namespace) -> int:
    import csv

    from workbench.attacks import ATTACKS
    from workbench.core.params import build, parse_assignments
    from workbench.defenses import DEFENSES
    from workbench.defenses.evaluation import Tradeoff, TradeoffPoint, TradeoffStage, sweep_tradeoff
    from workbench.defenses.smoothing import SmoothingParams

    model = load_model_from_args(args)
    data = load_data_from_args(args, model)
    attack_class = ATTACKS.get(args.attack)
    if attack_class.access != "white-box":
        raise UsageError(f"--attack: {attack_class.title} is black-box; the trade-off sweeps a white-box attack")
    attack = attack_class(**parse_assignments(args.param))
    DEFENSES.get(args.defense)
    strengths = _floats(args.strengths, "--strengths")
    smoothing = build(SmoothingParams, parse_assignments(args.smoothing_param))
    outcome = None
    for event in sweep_tradeoff(
        model, args.defense, strengths, attack, data.images, data.labels,
        defense_params=parse_assignments(args.defense_param), eot=args.eot, radius=args.radius,
        smoothing=smoothing, seed=args.seed,
    ):
        if isinstance(event, TradeoffStage):
            _progress(f"strength {event.strength:g} ({event.index + 1}/{event.count}): {event.stage}", final=False)
        elif isinstance(event, TradeoffPoint):
            _progress(f"strength {event.strength:g}: clean {_percent(event.clean_accuracy)}, robust naive "
                      f"{_percent(event.robust_naive)}, adaptive {_percent(event.robust_adaptive)}, certified "
                      f"{_percent(event.certified)}")
        elif isinstance(event, Tradeoff):
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
        f"{row[outcome.parameter]:>10g}  {_percent(row['clean_accuracy']):>7}  {_percent(row['robust_naive']):>7}  "
        f"{_percent(row['robust_adaptive']):>8}  {_percent(row['certified_accuracy']):>9}" for row in rows
    ]
    _emit(summary, args.json, "\n".join(table))
    return EXIT_OK


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


COMMANDS = {
    None: cmd_gui,
    "gui": cmd_gui,
    "models": cmd_models,
    "attacks": cmd_attacks,
    "predict": cmd_predict,
    "attack": cmd_attack,
    "certify": cmd_certify,
    "tradeoff": cmd_tradeoff,
    "zoo": cmd_zoo,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else argv))
    if args.smoke and args.command not in (None, "gui"):
        parser.error("--smoke starts the window; it takes no subcommand")
    from workbench.core.device import is_out_of_memory
    from workbench.core.errors import WorkbenchError

    started = time.perf_counter()
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        parser.exit(EXIT_INTERRUPTED, f"workbench: interrupted after {time.perf_counter() - started:.1f} s\n")
    except Exception as error:  # noqa: BLE001 - sorted below; anything else keeps its traceback
        if is_out_of_memory(error):
            parser.exit(EXIT_FAILED, f"workbench: error: {out_of_memory_message(args)}\n")
        if not isinstance(error, (UsageError, WorkbenchError, OSError, ValueError)):
            raise
        parser.exit(EXIT_USAGE, f"workbench: error: {error}\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
