"""What an untargeted attack moves an image away from: its label where the image has one,
else the model's own answer (images without a label carry −1).

One rule for every front end — the live run, batch runs, evaluation, monitoring, the command
line — so that an unlabelled image is attacked the same way everywhere.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch


def goal_labels(labels: Any, probs: Any | Callable[[], Any]) -> Any:
    """``labels`` where known (≥ 0), else the most probable class of ``probs``.

    ``labels`` is one int (``probs`` then has K scores) or a tensor/array of N (``probs`` N×K);
    the answer has the same kind. ``probs`` may be a function that computes them, called only
    when some label is unknown (a labelled image costs no forward pass)."""
    if isinstance(labels, (int, np.integer)):
        if int(labels) >= 0:
            return int(labels)
        scores = probs() if callable(probs) else probs
        return int(scores.argmax()) if isinstance(scores, torch.Tensor) else int(np.argmax(np.asarray(scores)))
    if isinstance(labels, torch.Tensor):
        if bool((labels >= 0).all()):
            return labels
        scores = torch.as_tensor(probs() if callable(probs) else probs)
        return torch.where(labels >= 0, labels, scores.argmax(dim=-1).to(labels.device, labels.dtype))
    labels = np.asarray(labels)
    if (labels >= 0).all():
        return labels
    scores = np.asarray(probs() if callable(probs) else probs)
    return np.where(labels >= 0, labels, np.argmax(scores, axis=-1)).astype(labels.dtype)
