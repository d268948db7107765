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

import hashlib
import json
import math
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np
import safetensors.torch
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

import workbench.zoo.architectures  # noqa: F401  (registers "small-cnn")
from workbench.core.architectures import build_architecture
from workbench.core.device import choose_device
from workbench.core.errors import DataLoadError, ParameterError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.core.idx import read_idx
from workbench.core.model import Normalized
from workbench.core.resources import resource_path

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
EVAL_BATCH = 1000


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
    x_train, y_train = load_fashion_mnist("train")
    x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    x_test, y_test = load_fashion_mnist("test")
    x_test, y_test = x_test[:test_limit], y_test[:test_limit]
    mean, std = normalization(x_train)
    with _deterministic():
        inner = _seeded_model(seed)
        model = Normalized(inner, [mean], [std]).to(device, memory_format=torch.channels_last)
        optimizer, schedule = _optimizer(model, epochs * math.ceil(len(x_train) / BATCH_SIZE))
    shuffle = torch.Generator().manual_seed(seed)
    dropout_rng = _OwnRng(device, seed)
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        with _deterministic(), dropout_rng.active():
            loss, train_accuracy = _train_epoch(
                model, optimizer, schedule, x_train, y_train, shuffle
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
    weights_path, card_path = save_model(
        inner,
        out_dir,
        mean=mean,
        std=std,
        metrics=metrics,
        training=training,
        command=_command(seed=seed, epochs=epochs, train_limit=train_limit, test_limit=test_limit),
    )
    yield TrainResult(MODEL_ID, str(weights_path), str(card_path), metrics)


def _seeded_model(seed: int) -> nn.Module:
    """A fresh ``small-cnn``, initialised from ``seed`` without touching the global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_architecture(ARCHITECTURE, num_classes=len(FASHION_LABELS), in_channels=1)


def _optimizer(model: nn.Module, total_steps: int) -> tuple[torch.optim.Optimizer, LRScheduler]:
    """AdamW under a one-cycle schedule (warm-up over 30 % of the steps, then cosine decay)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=MAX_LR, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=MAX_LR, total_steps=total_steps
    )
    return optimizer, schedule


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: LRScheduler,
    x: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
) -> tuple[float, float]:
    """One pass over shuffled, augmented batches; the mean loss and accuracy seen."""
    device = next(model.parameters()).device
    model.train()
    total_loss = torch.zeros((), dtype=torch.float64)
    correct = 0
    for batch in torch.randperm(len(x), generator=generator).split(BATCH_SIZE):
        xb = augment(x[batch], generator).to(device, memory_format=torch.channels_last)
        yb = y[batch].to(device)
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        total_loss += loss.detach().double().cpu() * len(batch)
        correct += int((logits.argmax(1) == yb).sum())
    return total_loss.item() / len(x), correct / len(x)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of ``model`` (in eval mode, on pixel-space inputs) on images ``x``, labels ``y``."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = 0
    for xb, yb in zip(x.split(EVAL_BATCH), y.split(EVAL_BATCH)):
        logits = model(xb.to(device, memory_format=torch.channels_last))
        correct += int((logits.argmax(1).cpu() == yb).sum())
    model.train(was_training)
    return correct / max(len(x), 1)


@contextmanager
def _deterministic() -> Iterator[None]:
    """Deterministic kernels (and no cuDNN autotuning) for the duration of the block; the
    previous settings come back afterwards, so nothing leaks while the generator is paused."""
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]


class _OwnRng:
    """A private, seeded state for torch's global RNG on ``device``, which dropout draws from.

    Inside :meth:`active` the global RNG runs on this state; afterwards the caller's state is
    restored, so code that runs between the generator's steps (in the same thread) neither
    disturbs the training's random draws nor is disturbed by them.
    """

    def __init__(self, device: torch.device, seed: int) -> None:
        self.device = device
        self.state = torch.Generator(device=device).manual_seed(seed).get_state()

    @contextmanager
    def active(self) -> Iterator[None]:
        cuda = self.device.type == "cuda"
        index = None
        if cuda:
            index = (
                self.device.index if self.device.index is not None else torch.cuda.current_device()
            )
        with torch.random.fork_rng(devices=[index] if cuda else []):
            if cuda:
                torch.cuda.set_rng_state(self.state, index)
            else:
                torch.set_rng_state(self.state)
            try:
                yield
            finally:
                self.state = torch.cuda.get_rng_state(index) if cuda else torch.get_rng_state()


def _command(*, seed: int, epochs: int, train_limit: int | None, test_limit: int | None) -> str:
    """The command line that reproduces a training run."""
    command = f"workbench zoo train {MODEL_ID} --seed {seed}"
    if epochs != EPOCHS:
        command += f" --epochs {epochs}"
    if train_limit is not None:
        command += f" --train-limit {train_limit}"
    if test_limit is not None:
        command += f" --test-limit {test_limit}"
    return command


# -- saving ---------------------------------------------------------------------------------------
def save_model(
    inner: nn.Module,
    out_dir: Path,
    *,
    mean: float,
    std: float,
    metrics: dict[str, Any],
    training: dict[str, Any],
    command: str,
) -> tuple[Path, Path]:
    """Write the architecture's weights (safetensors) and the model card, each atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / f"{MODEL_ID}.safetensors"
    card_path = out_dir / f"{MODEL_ID}.json"
    tensors = {name: t.detach().cpu().contiguous() for name, t in inner.state_dict().items()}
    # No safetensors metadata: it is written in hash-map order, so two or more keys would make
    # the file's bytes, and so the card's sha256, differ between identical runs.
    digest = _write_atomic(weights_path, lambda p: safetensors.torch.save_file(tensors, p))
    card = {
        "id": MODEL_ID,
        "title": "Fashion-MNIST CNN",
        "description": (
            "A small convolutional network that tells apart the ten kinds of clothing in "
            "Fashion-MNIST's 28×28 grey images; trained by the workbench's zoo recipe."
        ),
        "architecture": ARCHITECTURE,
        "weights": weights_path.name,
        "sha256": digest,
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
        "parameters": sum(p.numel() for p in inner.parameters()),
        "training": training,
        "trained_with": command,
    }
    text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    _write_atomic(card_path, lambda p: Path(p).write_text(text, encoding="utf-8"))
    return weights_path, card_path


def _write_atomic(path: Path, write: Callable[[str], Any]) -> str:
    """Let ``write`` fill a temporary file beside ``path``, then rename it over ``path``
    (ARCHITECTURE.md, contract 6). Returns the sha256 of the bytes written."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(temp)
        digest = hashlib.sha256(Path(temp).read_bytes()).hexdigest()
        os.chmod(temp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return digest


# -- samples --------------------------------------------------------------------------------------
def folder_name(label: str) -> str:
    """A file-system-safe folder name for a class label ("T-shirt/top" → "T-shirt-top")."""
    return label.replace("/", "-")


def export_samples(out_dir: str | Path | None = None, per_class: int = 10) -> Path:
    """Write the first ``per_class`` test images of each class as 8-bit grey PNGs,
    ``<out_dir>/<folder>/<n>.png``, and ``labels.json`` mapping class indices to labels and
    folders. ``out_dir`` defaults to the shipped ``resources/samples/fashion-mnist``."""
    out_dir = Path(out_dir) if out_dir is not None else resource_path("samples", "fashion-mnist")
    images, labels = load_fashion_mnist("test")
    pixels = (images[:, 0] * 255).round().to(torch.uint8).numpy()
    classes = []
    for index, label in enumerate(FASHION_LABELS):
        folder = out_dir / folder_name(label)
        folder.mkdir(parents=True, exist_ok=True)
        for n, i in enumerate(torch.nonzero(labels == index).flatten()[:per_class].tolist()):
            if not cv2.imwrite(str(folder / f"{n}.png"), pixels[i]):
                raise DataLoadError(f"{folder / f'{n}.png'}: cannot write the PNG file")
        classes.append({"index": index, "label": label, "folder": folder_name(label)})
    index_text = json.dumps({"dataset": "fashion-mnist", "classes": classes}, indent=2) + "\n"
    _write_atomic(
        out_dir / "labels.json", lambda p: Path(p).write_text(index_text, encoding="utf-8")
    )
    return out_dir
