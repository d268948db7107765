"""Writing a sample set: the shipped demo images of a built-in model's classes.

A sample set is a class-folder set (``resources/samples/<set>/<folder>/<n>.png``) with a
``labels.json`` index ``{"dataset": …, "classes": [{"index", "label", "folder"}, …]}`` that
``workbench.core.datasets`` reads to name the classes, and — for the synthetic sets whose
generators know where things are — a ``landmarks.json`` keyed by each image's path in the set
(``"<folder>/<n>.png"``), read by ``workbench.core.landmarks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from workbench.core.errors import DataLoadError
from workbench.zoo.training import write_json_atomic


def folder_name(label: str) -> str:
    """A file-system-safe folder name for a class label ("T-shirt/top" → "T-shirt-top")."""
    return label.replace("/", "-")


def write_sample_set(
    out_dir: Path,
    dataset: str,
    labels: Sequence[str],
    images: np.ndarray,
    targets: Sequence[int],
    annotations: Sequence[dict] | None = None,
    folder: Callable[[str], str] = folder_name,
) -> Path:
    """Write uint8 ``images`` (N×H×W grey or N×H×W×3 RGB) as PNGs, image ``i`` as
    ``<out_dir>/<folder(label)>/<n>.png`` with ``n`` counting the images of its class
    ``targets[i]`` in order; then ``labels.json`` for every class in ``labels`` and, when
    ``annotations`` are given (one dict per image), ``landmarks.json``."""
    counts = [0] * len(labels)
    landmarks = {}
    for i, (pixels, target) in enumerate(zip(images, targets)):
        name = f"{folder(labels[target])}/{counts[target]}.png"
        counts[target] += 1
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), pixels):
            raise DataLoadError(f"{path}: cannot write the PNG file")
        if annotations is not None:
            landmarks[name] = annotations[i]
    classes = [{"index": k, "label": label, "folder": folder(label)} for k, label in enumerate(labels)]
    write_json_atomic(out_dir / "labels.json", {"dataset": dataset, "classes": classes})
    if annotations is not None:
        write_json_atomic(out_dir / "landmarks.json", landmarks)
    return out_dir
