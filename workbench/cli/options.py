"""The options that several commands share, built from the declarations, and their readers:
the model (built-in id or file, its input spec, device), the data (source and ``--limit``), the
mask (file, rectangle or template), the oracle of black-box attacks (from ``OracleParams``), the
printable, ``--seed``, ``--json`` and ``--quiet``.

A reader turns the parsed options into engine objects or raises :class:`UsageError` (exit 2,
one line naming the option). Notes for the user (skipped files, clipped rectangles) go to the
command's progress printer, ``args.progress``.
"""
from __future__ import annotations

import argparse

from workbench.cli.checks import UsageError, labelling_notes, parse_rect


def add_common_arguments(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``--quiet``, on the top-level parser and (without overriding it) on every command."""
    parser.add_argument("-q", "--quiet", action="store_true", default=False if top_level else argparse.SUPPRESS,
                        help="print no progress and no notes on stderr (errors still)")


def add_seed_argument(parser: argparse.ArgumentParser, help: str = "random seed (default 0)") -> None:
    parser.add_argument("--seed", type=int, default=0, help=help)


def add_json_argument(parser: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_params_argument(parser: argparse.ArgumentParser, option: str = "--param",
                        help: str = "an attack parameter; repeat for several") -> None:
    parser.add_argument(option, action="append", default=[], metavar="KEY=VALUE", help=help)


def defense_ids() -> list[str]:
    from workbench.defenses import DEFENSES

    return DEFENSES.ids()


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
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


def add_print_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "printable", "the perturbed mask region as a PNG that prints at a physical size (with --out: every image's)"
    )
    group.add_argument("--print-out", metavar="FILE.png", help="write the first image's printable here")
    group.add_argument("--print-width-mm", type=float, metavar="W", help="printed width in millimetres")
    group.add_argument("--print-dpi", type=float, default=300.0, metavar="D", help="printer resolution (default 300)")


def print_width(args: argparse.Namespace) -> float | None:
    """The printed width asked for (None without printables); checks the print options."""
    if args.print_width_mm is None:
        if args.print_out:
            raise UsageError("--print-out needs --print-width-mm")
        return None
    if args.print_width_mm <= 0 or args.print_dpi <= 0:
        raise UsageError("--print-width-mm and --print-dpi must be positive")
    return args.print_width_mm


def add_oracle_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "oracle", "what a black-box attack's prediction API reveals and allows (not for white-box attacks)"
    )
    group.add_argument("--top-k", type=int, metavar="K", help="answer the K most likely classes (default: all)")
    group.add_argument("--round", type=int, metavar="D", help="round confidences to D decimals")
    group.add_argument("--label-only", action="store_true", help="answer labels without confidences")
    group.add_argument("--budget", type=int, metavar="Q", help="queries allowed per image (default: unlimited)")
    group.add_argument("--latency", type=float, metavar="MS", help="artificial delay per query call, in ms")


# Oracle settings (OracleParams fields) ← their command-line options.
ORACLE_OPTIONS = {"top_k": "--top-k", "decimals": "--round", "label_only": "--label-only",
                   "budget": "--budget", "latency_ms": "--latency"}


def oracle_from_args(args: argparse.Namespace, attack_class, model):
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
            raise UsageError(f"{ORACLE_OPTIONS[next(iter(given))]} applies to black-box attacks; "
                             f"{attack_class.id} is white-box and uses the model itself")
        return None
    try:
        return Oracle(model, build(OracleParams, given))
    except ParameterError as error:
        message = str(error)
        for key, option in ORACLE_OPTIONS.items():
            message = message.replace(f"parameter '{key}'", option)
        raise UsageError(message) from None


def add_data_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=required,
                       help="samples:fashion-mnist, fashion-mnist:test, a folder or an image file")
    group.add_argument("--limit", type=int, metavar="N",
                       help="use N images: from class folders and sample sets taken round-robin over "
                       "the classes (20 on ten classes: two of each, each class's first files); "
                       "from IDX files and Fashion-MNIST the first N")


def floats(text: str | None, option: str) -> tuple[float, ...] | None:
    """Comma-separated numbers given to ``option`` (None when not given)."""
    from workbench.core.errors import ParameterError
    from workbench.core.source import parse_floats

    try:
        return parse_floats(text, option)
    except ParameterError as error:
        raise UsageError(str(error)) from None


def model_source_from_args(args: argparse.Namespace):
    """The :class:`~workbench.core.source.ModelSource` the model options name."""
    from workbench.core.errors import ParameterError
    from workbench.core.source import ModelSource

    try:
        return ModelSource.from_cli_args(args)
    except ParameterError as error:
        raise UsageError(str(error)) from None


def load_model_from_args(args: argparse.Namespace):
    """The model the options name, loaded as the GUI loads it (:meth:`ModelSource.load`)."""
    return model_source_from_args(args).load()


def load_data_from_args(args: argparse.Namespace, model):
    from workbench.core.datasets import open_data

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    data = open_data(args.data, model.spec, model.labels, limit=args.limit)
    for name, reason in data.skipped:
        args.progress.note(f"skipped {name}: {reason}")
    for note in labelling_notes(data, model.labels, model.model_id, bool(args.labels)):
        args.progress.note(note)
    return data


def mask_from_args(args: argparse.Namespace, model, data):
    from workbench.core.masks import load_mask_png, rect_mask, require_nonempty

    size = (model.spec.height, model.spec.width)
    if args.mask_template:
        return template_masks(args.mask_template, data, size)
    if args.mask:
        return require_nonempty(load_mask_png(args.mask, size), args.mask)
    if args.mask_rect:
        rect, note = parse_rect(args.mask_rect, size)
        if note:
            args.progress.note(note)
        return rect_mask(*rect, size)
    return None


def template_masks(template: str, data, size: tuple[int, int]):
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
