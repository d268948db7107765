"""The machinery that the zoo's training recipes share: seeded and deterministic training
under a private RNG, AdamW with a one-cycle schedule, epochs and evaluation, and writing
weights and model cards atomically.

A recipe built from these parts gives the same weights for the same seed on the same device
and thread count, whatever the caller does with torch's global RNG between its events.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import safetensors.torch
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

import workbench.zoo.architectures  # noqa: F401  (registers the zoo's architectures)
from workbench.core.architectures import build_architecture

EVAL_BATCH = 1000


def seeded_model(architecture: str, seed: int, *, num_classes: int, in_channels: int) -> nn.Module:
    """A fresh network of ``architecture``, initialised from ``seed`` without touching the
    global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_architecture(architecture, num_classes=num_classes, in_channels=in_channels)


def one_cycle_adamw(
    model: nn.Module, total_steps: int, *, max_lr: float, weight_decay: float
) -> tuple[torch.optim.Optimizer, LRScheduler]:
    """AdamW (Loshchilov and Hutter, 2019) under a one-cycle schedule (Smith and Topin, 2018:
    warm-up over 30 % of the steps, then cosine decay)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps)
    return optimizer, schedule


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: LRScheduler,
    x: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
    *,
    batch_size: int,
    prepare: Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor],
) -> tuple[float, float]:
    """One pass over shuffled batches (order drawn from ``generator``), each turned into
    pixel-space inputs by ``prepare(images, labels, generator)`` (augmentation, type
    conversion, adversarial examples); the mean loss and accuracy seen."""
    device = next(model.parameters()).device
    model.train()
    total_loss = torch.zeros((), dtype=torch.float64)
    correct = 0
    for batch in torch.randperm(len(x), generator=generator).split(batch_size):
        xb = prepare(x[batch], y[batch], generator).to(device, memory_format=torch.channels_last)
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
    """Accuracy of ``model`` (in eval mode, on pixel-space inputs) on images ``x``, labels
    ``y``; uint8 images are scaled to [0, 1] first."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = 0
    for xb, yb in zip(x.split(EVAL_BATCH), y.split(EVAL_BATCH)):
        xb = xb.float().div_(255) if xb.dtype == torch.uint8 else xb
        logits = model(xb.to(device, memory_format=torch.channels_last))
        correct += int((logits.argmax(1).cpu() == yb).sum())
    model.train(was_training)
    return correct / max(len(x), 1)


@contextmanager
def deterministic() -> Iterator[None]:
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


class OwnRng:
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


def train_command(model_id: str, defaults: dict[str, Any], **options: Any) -> str:
    """The command line that reproduces a training run: ``--seed`` always, the other
    options where they differ from the recipe's ``defaults`` (None = not given)."""
    command = f"workbench zoo train {model_id} --seed {options.pop('seed')}"
    for name, value in options.items():
        if value is not None and value != defaults.get(name):
            command += f" --{name.replace('_', '-')} {value}"
    return command


def save_model(
    inner: nn.Module, out_dir: Path, model_id: str, card: Callable[[str, str], dict[str, Any]]
) -> tuple[Path, Path]:
    """Write the network's weights (safetensors) and its model card, each atomically;
    ``card(weights_file_name, sha256)`` gives the card's content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / f"{model_id}.safetensors"
    card_path = out_dir / f"{model_id}.json"
    tensors = {name: t.detach().cpu().contiguous() for name, t in inner.state_dict().items()}
    # No safetensors metadata: it is written in hash-map order, so two or more keys would make
    # the file's bytes, and so the card's sha256, differ between identical runs.
    digest = write_atomic(weights_path, lambda p: safetensors.torch.save_file(tensors, p))
    write_json_atomic(card_path, card(weights_path.name, digest))
    return weights_path, card_path


def write_json_atomic(path: Path, content: Any) -> None:
    """``content`` as indented UTF-8 JSON, written atomically and readable by everyone (a
    shipped resource, unlike the private run records of ``workbench.core.files``)."""
    text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, lambda p: Path(p).write_text(text, encoding="utf-8"))


def write_atomic(path: Path, write: Callable[[str], Any]) -> str:
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
