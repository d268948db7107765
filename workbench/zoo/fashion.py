"""The built-in ``fashion-cnn`` model: Fashion-MNIST data, training recipe, model card, samples.

Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, https://github.com/zalandoresearch/fashion-mnist)
is read from Debian's ``dataset-fashion-mnist`` package: 60,000 training and 10,000 test images
of 28×28 grey pixels in the IDX format of MNIST, ten clothing classes.

The recipe trains the ``small-cnn`` architecture with AdamW (Loshchilov and Hutter, 2019) under a
one-cycle learning-rate schedule (Smith and Topin, 2018), with random shifts and horizontal flips
as augmentation. Like every long computation in the workbench it is a generator of events
(ARCHITECTURE.md, "The one idea"): one :class:`TrainEpoch` per epoch, then one
:class:`TrainResult` once the weights and the model card are written.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from workbench.core.device import choose_device
from workbench.core.errors import DataLoadError, ParameterError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.core.idx import read_idx
from workbench.core.model import Normalized
from workbench.core.resources import resource_path
from workbench.zoo.samples import write_sample_set
from workbench.zoo.training import (
    OwnRng,
    deterministic,
    evaluate,
    one_cycle_adamw,
    save_model,
    seeded_model,
    train_command,
    train_epoch,
)

MODEL_ID = "fashion-cnn"
ARCHITECTURE = "small-cnn"
FASHION_LABELS = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_NOT_INSTALLED = (
    "Fashion-MNIST is not installed: run `apt-get install dataset-fashion-mnist` (or `make zoo`)"
)

# The recipe's hyper-parameters.
EPOCHS = 6
BATCH_SIZE = 256
MAX_LR = 4e-3
WEIGHT_DECAY = 5e-4
SHIFT = 1  # random shifts of up to ±SHIFT pixels (zero padding, the images' background)


# -- data -----------------------------------------------------------------------------------------
def load_fashion_mnist(
    split: str = "test", root: Path = FASHION_DIR
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (float32, N×1×28×28, values in [0, 1]) and labels (int64, N) of one split,
    ``"train"`` or ``"test"``. Raises :class:`DataLoadError` when the data set is missing or
    its files are corrupt."""
    if split not in _FILES:
        raise DataLoadError(f"unknown Fashion-MNIST split '{split}' (use 'train' or 'test')")
    image_file, label_file = (_find(Path(root), name) for name in _FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataLoadError(
            f"{image_file}: expected N×28×28 bytes, got {images.dtype} {images.shape}"
        )
    if labels.shape != images.shape[:1] or labels.dtype != np.uint8 or labels.max(initial=0) > 9:
        raise DataLoadError(
            f"{label_file}: expected {len(images)} labels in 0..9, "
            f"got {labels.dtype} {labels.shape}"
        )
    x = torch.from_numpy(images).unsqueeze(1).float().div_(255)
    return x, torch.from_numpy(labels).long()


def training_split(
    train_limit: int | None = None, test_limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train, y_train, x_test, y_test)``: the first ``train_limit`` training and
    ``test_limit`` test images (all where None) and their labels, as recipes train on them."""
    x_train, y_train = load_fashion_mnist("train")
    x_test, y_test = load_fashion_mnist("test")
    return x_train[:train_limit], y_train[:train_limit], x_test[:test_limit], y_test[:test_limit]


def _find(root: Path, name: str) -> Path:
    """``root/name.gz`` (as Debian ships it) or ``root/name``."""
    for candidate in (root / f"{name}.gz", root / name):
        if candidate.is_file():
            return candidate
    raise DataLoadError(_NOT_INSTALLED)


def normalization(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of the pixels, rounded to 4 decimals (the model card's
    figures; training uses the same rounded values)."""
    return round(images.mean().item(), 4), round(images.std().item(), 4)


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image shifted by up to ±SHIFT pixels (filled with 0) and flipped left–right with
    probability ½, drawn from ``generator``."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (SHIFT,) * 4)
    dy, dx = torch.randint(0, 2 * SHIFT + 1, (2, n, 1, 1), generator=generator)
    rows = dy + torch.arange(h).view(1, h, 1)
    cols = dx + torch.arange(w).view(1, 1, w)
    shifted = padded[torch.arange(n).view(n, 1, 1), 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip.view(n, 1, 1, 1), shifted.flip(-1), shifted)


# -- training -------------------------------------------------------------------------------------
def train_fashion_cnn(
    *,
    seed: int = 0,
    epochs: int = EPOCHS,
    out_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> Iterator[TrainEpoch | TrainResult]:
    """Train ``fashion-cnn`` and write ``<out_dir>/fashion-cnn.safetensors`` and ``.json``.

    Yields a :class:`TrainEpoch` per epoch (test accuracy on the 10,000 test images) and finally
    a :class:`TrainResult`. ``out_dir`` defaults to the shipped ``resources/models``.
    ``train_limit`` and ``test_limit`` use the first N training or test images only (for quick
    checks). The same seed gives the same weights on the same device and thread count.
    Closing the generator early writes nothing.
    """
    for name, value in (
        ("epochs", epochs),
        ("train_limit", train_limit),
        ("test_limit", test_limit),
    ):
        if value is not None and value < 1:
            raise ParameterError(f"{name} must be at least 1, not {value}")
    started = time.perf_counter()
    device = choose_device(device)
    x_train, y_train, x_test, y_test = training_split(train_limit, test_limit)
    mean, std = normalization(x_train)
    with deterministic():
        inner = seeded_model(ARCHITECTURE, seed, num_classes=len(FASHION_LABELS), in_channels=1)
        model = Normalized(inner, [mean], [std]).to(device, memory_format=torch.channels_last)
        optimizer, schedule = one_cycle_adamw(
            model,
            epochs * math.ceil(len(x_train) / BATCH_SIZE),
            max_lr=MAX_LR,
            weight_decay=WEIGHT_DECAY,
        )
    shuffle = torch.Generator().manual_seed(seed)
    dropout_rng = OwnRng(device, seed)
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        with deterministic(), dropout_rng.active():
            loss, train_accuracy = train_epoch(
                model, optimizer, schedule, x_train, y_train, shuffle,
                batch_size=BATCH_SIZE, prepare=lambda images, labels, rng: augment(images, rng),
            )
            test_accuracy = evaluate(model, x_test, y_test)
        yield TrainEpoch(
            epoch=epoch,
            epochs=epochs,
            train_loss=loss,
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
            seconds=time.perf_counter() - epoch_start,
        )
    metrics = {
        "test_accuracy": round(test_accuracy, 4),
        "test_images": len(x_test),
        "train_accuracy": round(evaluate(model, x_train, y_train), 4),
    }
    training = {
        "seed": seed,
        "epochs": epochs,
        "optimizer": f"AdamW (weight decay {WEIGHT_DECAY}), one-cycle lr ≤ {MAX_LR}, "
        f"batch {BATCH_SIZE}",
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
    }
    out_dir = Path(out_dir) if out_dir is not None else resource_path("models")
    command = train_command(
        MODEL_ID, {"epochs": EPOCHS},
        seed=seed, epochs=epochs, train_limit=train_limit, test_limit=test_limit,
    )  # fmt: skip
    weights_path, card_path = save_model(
        inner,
        out_dir,
        MODEL_ID,
        lambda weights, sha256: model_card(
            weights, sha256, mean=mean, std=std, parameters=sum(p.numel() for p in inner.parameters()),
            metrics=metrics, training=training, command=command,
        ),  # fmt: skip
    )
    yield TrainResult(MODEL_ID, str(weights_path), str(card_path), metrics)


# -- saving ---------------------------------------------------------------------------------------
def model_card(
    weights: str,
    sha256: str,
    *,
    mean: float,
    std: float,
    parameters: int,
    metrics: dict[str, Any],
    training: dict[str, Any],
    command: str,
) -> dict[str, Any]:
    """The model card of a trained ``fashion-cnn`` whose weights file is ``weights``."""
    return {
        "id": MODEL_ID,
        "title": "Fashion-MNIST CNN",
        "description": (
            "A small convolutional network that tells apart the ten kinds of clothing in "
            "Fashion-MNIST's 28×28 grey images; trained by the workbench's zoo recipe."
        ),
        "architecture": ARCHITECTURE,
        "weights": weights,
        "sha256": sha256,
        "input": {
            "channels": 1,
            "height": 28,
            "width": 28,
            "mean": [mean],
            "std": [std],
            "resize": "resize",
        },
        "labels": list(FASHION_LABELS),
        "dataset": "fashion-mnist",
        "metrics": metrics,
        "parameters": parameters,
        "training": training,
        "trained_with": command,
    }


# -- samples --------------------------------------------------------------------------------------
def export_samples(out_dir: str | Path | None = None, per_class: int = 10) -> Path:
    """Write the first ``per_class`` test images of each class as 8-bit grey PNGs,
    ``<out_dir>/<folder>/<n>.png``, and ``labels.json`` mapping class indices to labels and
    folders. ``out_dir`` defaults to the shipped ``resources/samples/fashion-mnist``."""
    out_dir = Path(out_dir) if out_dir is not None else resource_path("samples", "fashion-mnist")
    images, labels = load_fashion_mnist("test")
    chosen = torch.cat(
        [torch.nonzero(labels == k).flatten()[:per_class] for k in range(len(FASHION_LABELS))]
    )
    pixels = (images[chosen, 0] * 255).round().to(torch.uint8).numpy()
    return write_sample_set(out_dir, "fashion-mnist", FASHION_LABELS, pixels, labels[chosen].tolist())
