"""Robust variants of ``fashion-cnn``, fine-tuned from its shipped weights:

* ``fashion-cnn-noise-<σ>`` for σ ∈ {0.12, 0.25, 0.5}: trained on inputs with Gaussian noise of
  standard deviation σ, the base classifiers of randomized smoothing (Cohen, Rosenfeld and
  Kolter, "Certified Adversarial Robustness via Randomized Smoothing", ICML 2019, section 4).
* ``fashion-cnn-pgd``: adversarial training (Madry et al., "Towards Deep Learning Models
  Resistant to Adversarial Attacks", ICLR 2018): every batch is replaced by its PGD adversarial
  version (L∞, ε = 0.1, random start) before the update.

Madry et al. and Cohen et al. train from scratch for many epochs; to keep the recipes runnable on
a laptop CPU these fine-tune the shipped ``fashion-cnn``: the noise recipes for one epoch over
20,000 images, the PGD recipe for five epochs over all 60,000 with 7 attack steps (Madry et al.
use 40 on MNIST). The model cards say so and carry the measured figures.
"""
from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn

from workbench.attacks.balls import LinfBall
from workbench.core.device import choose_device
from workbench.core.errors import ParameterError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.core.loaders import load_model
from workbench.core.resources import resource_path
from workbench.zoo.fashion import augment, model_card, training_split
from workbench.zoo.training import (
    OwnRng, deterministic, evaluate, one_cycle_adamw, save_model, train_command, train_epoch,
)

NOISE_LEVELS = (0.12, 0.25, 0.5)
PGD_EPS = 0.1
PGD_STEPS = 7
NOISE_EPOCHS = 1
PGD_EPOCHS = 5
NOISE_TRAIN_IMAGES = 20000  # the first 20,000 training images
PGD_TRAIN_IMAGES = None  # all 60,000
BATCH_SIZE = 256
MAX_LR = 2e-3
WEIGHT_DECAY = 5e-4


Prepare = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def noisy(sigma: float) -> Prepare:
    """Batch preparation: the fashion recipe's augmentation, then N(0, σ²) noise (not clipped,
    as in Cohen et al.)."""
    def prepare(x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = augment(x, generator)
        return x + sigma * torch.randn(x.shape, generator=generator)
    return prepare


def adversarial(model: nn.Module, eps: float, steps: int) -> Prepare:
    """Batch preparation: augmentation, then PGD within the L∞ ball of ``eps`` on the model as it
    is now (in eval mode, so the attack does not move the batch-norm statistics), from a random
    start, with step 2.5·ε/steps."""
    ball = LinfBall(eps)
    step = 2.5 * eps / steps

    def prepare(x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = augment(x, generator)
        device = next(model.parameters()).device
        labels = labels.to(device)
        x = x.to(device)
        x_adv = (x + ball.random(x, generator)).clamp(0, 1)
        was_training = model.training
        model.eval()
        for _ in range(steps):
            x_var = x_adv.detach().requires_grad_(True)
            loss = nn.functional.cross_entropy(model(x_var), labels)
            (grad,) = torch.autograd.grad(loss, x_var)
            x_adv = (x + ball.project(x_var.detach() + step * ball.ascent(grad) - x)).clamp(0, 1)
        model.train(was_training)
        return x_adv.detach()
    return prepare


def train_robust_fashion(
    model_id: str,
    *,
    sigma: float | None = None,
    seed: int = 0,
    epochs: int | None = None,
    out_dir: str | Path | None = None,
    device: str | torch.device | None = None,
    train_limit: int | None = NOISE_TRAIN_IMAGES,
    test_limit: int | None = None,
) -> Iterator[TrainEpoch | TrainResult]:
    """Fine-tune the shipped ``fashion-cnn`` into ``model_id``: with Gaussian noise of ``sigma``
    or, when ``sigma`` is None, adversarially with PGD. Yields a :class:`TrainEpoch` per epoch
    (test accuracy under the same noise, or clean for PGD) and a final :class:`TrainResult`."""
    default_epochs = PGD_EPOCHS if sigma is None else NOISE_EPOCHS
    epochs = default_epochs if epochs is None else epochs
    if epochs < 1:
        raise ParameterError(f"epochs must be at least 1, not {epochs}")
    started = time.perf_counter()
    device = choose_device(device)
    x_train, y_train, x_test, y_test = training_split(train_limit, test_limit)
    base = load_model("fashion-cnn", device=device)
    spec = base.spec
    model = base.module  # Normalized(small-cnn) in pixel space, on the device
    inner = model.inner
    for p in model.parameters():
        p.requires_grad_(True)
    prepare = adversarial(model, PGD_EPS, PGD_STEPS) if sigma is None else noisy(sigma)
    with deterministic():
        optimizer, schedule = one_cycle_adamw(
            model, epochs * math.ceil(len(x_train) / BATCH_SIZE), max_lr=MAX_LR, weight_decay=WEIGHT_DECAY,
        )
    shuffle = torch.Generator().manual_seed(seed)
    test_noise = torch.Generator().manual_seed(seed + 1)
    dropout_rng = OwnRng(device, seed)

    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        with deterministic(), dropout_rng.active():
            loss, train_accuracy = train_epoch(model, optimizer, schedule, x_train, y_train, shuffle,
                                               batch_size=BATCH_SIZE, prepare=prepare)
            x_eval = x_test if sigma is None else x_test + sigma * torch.randn(x_test.shape, generator=test_noise)
            test_accuracy = evaluate(model, x_eval, y_test)
        yield TrainEpoch(epoch, epochs, loss, train_accuracy, test_accuracy, time.perf_counter() - epoch_start)
    metrics = {
        ("test_accuracy_under_noise" if sigma is not None else "test_accuracy"): round(test_accuracy, 4),
        "clean_test_accuracy": round(evaluate(model, x_test, y_test), 4),
        "test_images": len(x_test),
    }
    method = (f"Gaussian noise σ = {sigma} on every training input" if sigma is not None
              else f"PGD adversarial training, L∞ ε = {PGD_EPS}, {PGD_STEPS} steps, random start")
    training = {
        "seed": seed,
        "epochs": epochs,
        "fine_tuned_from": f"fashion-cnn ({base.weight_hash[:12]})",
        "method": method,
        "optimizer": f"AdamW (weight decay {WEIGHT_DECAY}), one-cycle lr ≤ {MAX_LR}, batch {BATCH_SIZE}",
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
    }
    default_images = NOISE_TRAIN_IMAGES if sigma is not None else PGD_TRAIN_IMAGES
    command = train_command(model_id, {"epochs": default_epochs, "train_limit": default_images}, seed=seed,
                            epochs=epochs, train_limit=train_limit, test_limit=test_limit)
    title = (f"Fashion-MNIST CNN, noise-trained (σ = {sigma})" if sigma is not None
             else "Fashion-MNIST CNN, PGD adversarially trained")
    description = (
        f"fashion-cnn fine-tuned under Gaussian input noise of σ = {sigma}: the base classifier "
        "for randomized smoothing at that σ." if sigma is not None else
        f"fashion-cnn fine-tuned on PGD adversarial examples (L∞ ε = {PGD_EPS}): robust to "
        "small L∞ perturbations at some cost in clean accuracy."
    )
    out_dir = Path(out_dir) if out_dir is not None else resource_path("models")

    def card(weights: str, sha256: str) -> dict:
        content = model_card(weights, sha256, mean=spec.mean[0], std=spec.std[0],
                             parameters=sum(p.numel() for p in inner.parameters()),
                             metrics=metrics, training=training, command=command)
        return {**content, "id": model_id, "title": title, "description": description,
                **({"noise_sigma": sigma} if sigma is not None else {"adversarial_eps": PGD_EPS}),
                "base_model": "fashion-cnn"}

    weights_path, card_path = save_model(inner, out_dir, model_id, card)
    yield TrainResult(model_id, str(weights_path), str(card_path), metrics)


RECIPES = {
    **{f"fashion-cnn-noise-{sigma}": partial(train_robust_fashion, f"fashion-cnn-noise-{sigma}", sigma=sigma)
       for sigma in NOISE_LEVELS},
    "fashion-cnn-pgd": partial(train_robust_fashion, "fashion-cnn-pgd", train_limit=PGD_TRAIN_IMAGES),
}
