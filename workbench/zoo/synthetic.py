"""The training recipe of the built-in models whose data is drawn in code (``signs-cnn``,
``faces-cnn``), and the export of their sample sets.

A recipe renders a training set from its generator's stream ``seed`` (images 0 … N−1) and a
held-out set from the stream ``seed + HELD_OUT_OFFSET``, so the two never share an image; the
model card records the held-out seed, and anyone can re-render the held-out set from it. The
network is trained like ``fashion-cnn`` (``workbench.zoo.training``): AdamW under a one-cycle
schedule, deterministic under the seed. The shipped sample images come from a third stream,
:data:`SAMPLES_SEED`.

Like every long computation in the workbench the recipe is a generator of events: a
:class:`Progress` per chunk of images rendered, a :class:`TrainEpoch` per epoch (accuracy on
the held-out set), and a :class:`TrainResult` once the weights and the card are written.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Sequence

import numpy as np
import torch

from workbench.core.device import choose_device
from workbench.core.errors import ParameterError
from workbench.core.events import Progress, TrainEpoch, TrainResult
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

HELD_OUT_OFFSET = 1_000_000  # training seeds are below it; held-out seed = seed + offset
SAMPLES_SEED = 2_000_000  # the stream the shipped sample images come from
RENDER_CHUNK = 500  # images rendered between two Progress events

# render(n, seed, classes=None, *, start=0) → (uint8 N×H×W×3 images, int64 labels, annotations)
Renderer = Callable[..., tuple[np.ndarray, np.ndarray, list[dict]]]


@dataclass(frozen=True)
class SyntheticRecipe:
    """A built-in model trained on a generator's images, and its training settings."""

    model_id: str
    title: str
    description: str
    dataset: str  # the sample set's name: samples:<dataset>
    generator: str  # the rendering function, for the card
    render: Renderer
    labels: Sequence[str]
    size: int  # images are size × size RGB
    architecture: str
    train_images: int
    held_out_images: int
    epochs: int
    batch_size: int
    max_lr: float
    weight_decay: float
    folder: Callable[[str], str]  # class label → sample folder name


def train_synthetic(
    recipe: SyntheticRecipe,
    *,
    seed: int = 0,
    epochs: int | None = None,
    out_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> Iterator[Progress | TrainEpoch | TrainResult]:
    """Train ``recipe``'s model and write ``<out_dir>/<model id>.safetensors`` and ``.json``.

    ``train_limit`` and ``test_limit`` render that many training and held-out images instead
    of the recipe's numbers (for quick checks). The same seed gives the same weights on the
    same device and thread count. Closing the generator early writes nothing.
    """
    epochs = recipe.epochs if epochs is None else epochs
    for name, value in (("epochs", epochs), ("train_limit", train_limit), ("test_limit", test_limit)):
        if value is not None and value < 1:
            raise ParameterError(f"{name} must be at least 1, not {value}")
    if not 0 <= seed < HELD_OUT_OFFSET:
        raise ParameterError(f"the seed must be in 0 … {HELD_OUT_OFFSET - 1}, not {seed}")
    started = time.perf_counter()
    device = choose_device(device)
    train_count = train_limit or recipe.train_images
    held_out_seed = seed + HELD_OUT_OFFSET
    x_train, y_train = yield from _render(recipe, train_count, seed, "training images")
    x_test, y_test = yield from _render(recipe, test_limit or recipe.held_out_images, held_out_seed, "held-out images")
    mean, std = channel_normalization(x_train)
    with deterministic():
        inner = seeded_model(recipe.architecture, seed, num_classes=len(recipe.labels), in_channels=3)
        model = Normalized(inner, mean, std).to(device, memory_format=torch.channels_last)
        optimizer, schedule = one_cycle_adamw(
            model, epochs * math.ceil(train_count / recipe.batch_size),
            max_lr=recipe.max_lr, weight_decay=recipe.weight_decay,
        )  # fmt: skip
    shuffle = torch.Generator().manual_seed(seed)
    dropout_rng = OwnRng(device, seed)
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        with deterministic(), dropout_rng.active():
            loss, train_accuracy = train_epoch(
                model, optimizer, schedule, x_train, y_train, shuffle,
                batch_size=recipe.batch_size, prepare=_to_pixels,
            )  # fmt: skip
            test_accuracy = evaluate(model, x_test, y_test)
        yield TrainEpoch(
            epoch=epoch,
            epochs=epochs,
            train_loss=loss,
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
            seconds=time.perf_counter() - epoch_start,
        )
    with deterministic():
        train_accuracy = evaluate(model, x_train, y_train)
    metrics = {
        "test_accuracy": round(test_accuracy, 4),
        "test_images": len(x_test),
        "held_out_seed": held_out_seed,
        "train_accuracy": round(train_accuracy, 4),
    }
    training = {
        "seed": seed,
        "epochs": epochs,
        "train_images": train_count,
        "optimizer": f"AdamW (weight decay {recipe.weight_decay}), one-cycle lr ≤ {recipe.max_lr}, "
        f"batch {recipe.batch_size}",
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
    }
    command = train_command(
        recipe.model_id, {"epochs": recipe.epochs},
        seed=seed, epochs=epochs, train_limit=train_limit, test_limit=test_limit,
    )  # fmt: skip
    parameters = sum(p.numel() for p in inner.parameters())
    weights_path, card_path = save_model(
        inner,
        Path(out_dir) if out_dir is not None else resource_path("models"),
        recipe.model_id,
        lambda weights, sha256: _card(recipe, weights, sha256, mean, std, parameters, metrics, training, command),
    )
    yield TrainResult(recipe.model_id, str(weights_path), str(card_path), metrics)


def _render(
    recipe: SyntheticRecipe, count: int, seed: int, what: str
) -> Generator[Progress, None, tuple[torch.Tensor, torch.Tensor]]:
    """Images 0 … count−1 of the stream ``seed`` as uint8 N×3×H×W and their labels, a chunk
    at a time with a :class:`Progress` event after each."""
    images = torch.empty((count, 3, recipe.size, recipe.size), dtype=torch.uint8)
    labels = torch.empty(count, dtype=torch.int64)
    for start in range(0, count, RENDER_CHUNK):
        n = min(RENDER_CHUNK, count - start)
        chunk, targets, _ = recipe.render(n, seed, start=start)
        images[start : start + n] = torch.from_numpy(chunk).permute(0, 3, 1, 2)
        labels[start : start + n] = torch.from_numpy(targets)
        yield Progress(start + n, count, f"rendering {what}")
    return images, labels


def _to_pixels(batch: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 images → float pixels in [0, 1] (the rendered data needs no augmentation: every
    image is a new random view)."""
    return batch.float().div_(255)


def channel_normalization(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 N×C×H×W images in [0, 1] pixel
    units, rounded to 4 decimals (the card's figures; training uses the same values)."""
    pixels = images.permute(1, 0, 2, 3).reshape(images.shape[1], -1).double() / 255
    return [round(v, 4) for v in pixels.mean(1).tolist()], [round(v, 4) for v in pixels.std(1).tolist()]


def _card(
    recipe: SyntheticRecipe,
    weights: str,
    sha256: str,
    mean: list[float],
    std: list[float],
    parameters: int,
    metrics: dict[str, Any],
    training: dict[str, Any],
    command: str,
) -> dict[str, Any]:
    return {
        "id": recipe.model_id,
        "title": recipe.title,
        "description": recipe.description,
        "architecture": recipe.architecture,
        "weights": weights,
        "sha256": sha256,
        "input": {
            "channels": 3,
            "height": recipe.size,
            "width": recipe.size,
            "mean": mean,
            "std": std,
            "resize": "resize",
        },
        "labels": list(recipe.labels),
        "dataset": recipe.dataset,
        "generator": recipe.generator,
        "metrics": metrics,
        "parameters": parameters,
        "training": training,
        "trained_with": command,
    }


def export_synthetic_samples(
    recipe: SyntheticRecipe, out_dir: str | Path | None = None, per_class: int = 6
) -> Path:
    """Write ``per_class`` images of each class from the stream :data:`SAMPLES_SEED` as
    ``<out_dir>/<folder>/<n>.png``, with ``labels.json`` and ``landmarks.json``. ``out_dir``
    defaults to the shipped ``resources/samples/<dataset>``."""
    if per_class < 1:
        raise ParameterError(f"per_class must be at least 1, not {per_class}")
    out_dir = Path(out_dir) if out_dir is not None else resource_path("samples", recipe.dataset)
    images, labels, annotations = recipe.render(per_class * len(recipe.labels), SAMPLES_SEED)
    order = np.argsort(labels, kind="stable")  # class by class, each in stream order
    return write_sample_set(
        out_dir, recipe.dataset, recipe.labels, images[order], labels[order].tolist(),
        [annotations[i] for i in order], folder=recipe.folder,
    )  # fmt: skip
