"""``workbench zoo``: the built-in model recipes — retrain a model (``train``) and export the
shipped sample images (``samples``)."""
from __future__ import annotations

import argparse
import json

from workbench.cli.output import EXIT_OK

NAME = "zoo"


def add_parser(sub) -> argparse.ArgumentParser:
    zoo = sub.add_parser(NAME, help="built-in model recipes")
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
    return zoo


def run(args: argparse.Namespace) -> int:
    from workbench.core.events import TrainResult
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
    for event in args.progress.track(train(args.model_id, **options)):
        if isinstance(event, TrainResult):
            print(json.dumps({"model": event.model_id, "weights": event.weights_path,
                              "card": event.card_path, **event.metrics}, indent=2))
    return EXIT_OK
