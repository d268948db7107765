"""Per-sample perturbation norms, used by attacks, metrics and views."""
from __future__ import annotations

import torch


def flat(delta: torch.Tensor) -> torch.Tensor:
    return delta.reshape(delta.shape[0], -1)


def linf(delta: torch.Tensor) -> torch.Tensor:
    """L∞ norm of each sample of an N×… batch."""
    return flat(delta).abs().amax(dim=1)


def l2(delta: torch.Tensor) -> torch.Tensor:
    """L2 norm of each sample of an N×… batch."""
    return flat(delta).norm(p=2, dim=1)


def l0(delta: torch.Tensor, *, per_pixel: bool = True) -> torch.Tensor:
    """Number of changed entries of each sample; with ``per_pixel``, a pixel counts once however
    many of its channels changed (N×C×H×W input)."""
    changed = delta != 0
    if per_pixel and delta.dim() == 4:
        changed = changed.any(dim=1)
    return flat(changed).sum(dim=1)


def all_norms(delta: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"linf": linf(delta), "l2": l2(delta), "l0": l0(delta)}
