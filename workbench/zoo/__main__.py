"""``python -m workbench.zoo``: train the built-in models and export their sample images.

    python -m workbench.zoo train fashion-cnn [--seed 0] [--epochs E] [--out DIR]
        [--device cpu|cuda] [--train-limit N] [--test-limit N]
    python -m workbench.zoo samples [--out DIR]

Progress goes to stderr, the final result as JSON to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.core.errors import WorkbenchError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.zoo import recipes
from workbench.zoo.fashion import export_samples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.zoo", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train a built-in model and write its weights and card"
    )
    train.add_argument("model", choices=recipes.recipe_ids())
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int)
    train.add_argument("--train-limit", type=int, help="train on the first N training images only")
    train.add_argument("--test-limit", type=int, help="evaluate on the first N test images only")
    train.add_argument("--out", dest="out_dir", help="folder for the weights and card")
    train.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    samples = commands.add_parser("samples", help="export the Fashion-MNIST sample images")
    samples.add_argument("--out", dest="out_dir", help="folder for the samples")
    return parser


def _train(args: argparse.Namespace) -> dict:
    options = {
        k: v for k, v in vars(args).items() if k not in ("command", "model") and v is not None
    }
    for event in recipes.train(args.model, **options):
        if isinstance(event, TrainEpoch):
            print(
                f"epoch {event.epoch}/{event.epochs}: loss {event.train_loss:.4f}, "
                f"train {event.train_accuracy:.4f}, test {event.test_accuracy:.4f}, "
                f"{event.seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        elif isinstance(event, TrainResult):
            return {
                "model": event.model_id,
                "weights": event.weights_path,
                "card": event.card_path,
                "metrics": event.metrics,
            }
    raise WorkbenchError(f"training {args.model} ended without a result")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            result = _train(args)
        else:
            result = {"samples": str(export_samples(args.out_dir))}
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
