"""``workbench predict``: classify images with a model."""
from __future__ import annotations

import argparse

from workbench.cli.options import (
    add_data_arguments, add_json_argument, add_model_arguments, load_data_from_args, load_model_from_args,
)
from workbench.cli.output import EXIT_OK, emit

NAME = "predict"


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(NAME, help="classify images with a model")
    add_model_arguments(parser)
    add_data_arguments(parser)
    add_json_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
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
    emit(result, args.json, table)
    return EXIT_OK
