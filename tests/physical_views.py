"""What the physical attacks' tests and benches share: held-out views of a built-in model's
generator with their landmarks, templates fitted to them, and the physical changes a worn
frame or a sign seen from a car goes through."""
from __future__ import annotations

import torch

from workbench.attacks.transforms import PhysicalChanges
from workbench.core.landmarks import fit_template

WORN = PhysicalChanges(shift=0.03, rotation=5, scale=0.05, brightness=0.15)  # a face moving
SEEN = PhysicalChanges(shift=0.05, rotation=8, scale=0.15, perspective=0.06, brightness=0.3)  # a sign from a car


def views(render, model, n, start=0, **options):
    """``n`` held-out images of the model's generator as tensors, labels and landmarks."""
    images, labels, marks = render(n, model.card["metrics"]["held_out_seed"], start=start, **options)
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(labels), marks


def fitted(template, marks, model):
    """The template fitted to each image's landmarks: N×1×H×W masks."""
    return torch.cat([fit_template(template, m, (model.spec.height, model.spec.width)) for m in marks])


def printed(x):
    """As printed: 8 bits per colour."""
    return (x * 255).round() / 255
