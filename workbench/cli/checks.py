"""Checks and messages of the ``workbench`` command line that are not argument parsing itself:
negative option values, the output locations checked before any work, notes on how the data
was labelled, class names for ``--target`` and the out-of-memory message.

Every check raises :class:`UsageError` (exit 2, one line) with a message naming the option.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Sequence

# Options whose value may start with a minus sign (a negative coordinate or number list).
NEGATIVE_VALUE_OPTIONS = ("--mask-rect", "--mean")
_NUMBER_LIST = re.compile(r"^-\d[\d.,\s-]*$")


class UsageError(Exception):
    """A command-line value that cannot be used; the message names it."""


def join_negative_values(argv: Sequence[str], options: Sequence[str] = NEGATIVE_VALUE_OPTIONS) -> list[str]:
    """``argv`` with ``--option -5,0,10,10`` written as ``--option=-5,0,10,10`` for the
    ``options`` whose values may be negative numbers, which argparse would otherwise read as an
    unknown option."""
    result: list[str] = []
    for token in argv:
        if result and result[-1] in options and _NUMBER_LIST.match(token):
            result[-1] = f"{result[-1]}={token}"
        else:
            result.append(token)
    return result


def parse_rect(text: str, size: tuple[int, int]) -> tuple[tuple[int, int, int, int], str | None]:
    """``--mask-rect`` X,Y,W,H in whole model pixels, clipped to an image of ``size`` = (H, W):
    the rectangle and a note saying how it was clipped (None when it lies inside)."""
    from workbench.core.errors import MaskError
    from workbench.core.masks import clip_rect

    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--mask-rect: '{text}' is not X,Y,W,H in whole pixels") from None
    try:
        clipped = clip_rect(x, y, w, h, size)
    except MaskError as error:
        raise UsageError(f"--mask-rect: {error}") from None
    if clipped == (x, y, w, h):
        return clipped, None
    return clipped, (f"--mask-rect {text} reaches outside the {size[1]}×{size[0]} image: "
                     f"clipped to {','.join(map(str, clipped))}")


def check_outputs(args: argparse.Namespace) -> None:
    """Check ``--out`` and ``--print-out`` before any work, so that no result is computed that
    cannot be written."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs import check_run_parent

    try:
        if getattr(args, "out", None):
            check_run_parent(args.out, "--out")
        printout = getattr(args, "print_out", None)
        if printout:
            path = Path(printout)
            if path.is_dir():
                raise UsageError(f"--print-out {printout} is a folder, not a PNG file name")
            check_run_parent(path.parent if str(path.parent) else Path("."), "--print-out's folder")
    except WorkbenchError as error:
        raise UsageError(str(error)) from None


def target_index(text: str, labels: Sequence[str]) -> int:
    """The class that ``--target`` names: spelled as a class folder may be (case, spaces,
    ``_``, ``-`` and ``/`` ignored, so ``T-shirt-top`` is "T-shirt/top") or as its index."""
    from workbench.core.datasets import class_index

    index = class_index(text.strip(), labels)
    if index is None:
        raise UsageError(f"--target: unknown class '{text}' (classes: {', '.join(labels)}; "
                         f"or an index 0..{len(labels) - 1})")
    return index


def labelling_notes(data, labels: Sequence[str], model_id: str, labels_given: bool) -> list[str]:
    """Lines for stderr saying why images carry no label: class folders that match no class
    of the model, and how many images are labelled (nothing when all are)."""
    known = int((data.labels >= 0).sum())
    notes = []
    if data.unknown_classes:
        shown = ", ".join(data.unknown_classes[:8]) + (" …" if len(data.unknown_classes) > 8 else "")
        notes.append(f"folders matching no class of {model_id}: {shown} "
                     f"(classes: {', '.join(labels[:12])}{' …' if len(labels) > 12 else ''})")
    if known < len(data):
        hint = "" if labels_given or not data.unknown_classes else "; name the classes with --labels FILE"
        notes.append(f"{known} of {len(data)} images are labelled: accuracy counts only those{hint}")
    return notes


def out_of_memory_message(args: argparse.Namespace) -> str:
    """The one line for an out-of-memory error, with the option that lowers memory use."""
    device = getattr(args, "device", None) or "the default device"
    batch = getattr(args, "batch_size", None)
    advice = (f"try a smaller --batch-size (now {batch})" if batch is not None
              else "try fewer images (--limit) or a smaller model input")
    return f"out of memory on {device}: {advice}"
