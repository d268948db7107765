"""Training recipes of the built-in models, by model id (``workbench zoo train <id>``), and
the exporters of their sample sets, by set name (``workbench zoo samples [<set> …]``)."""

from __future__ import annotations

import inspect
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.events import Progress, TrainEpoch, TrainResult
from workbench.zoo.faces import FACES_CNN
from workbench.zoo.fashion import export_samples, train_fashion_cnn
from workbench.zoo.robust import RECIPES as ROBUST_RECIPES
from workbench.zoo.signs import SIGNS_CNN
from workbench.zoo.synthetic import export_synthetic_samples, train_synthetic

# model id → generator function of (Progress,) TrainEpoch events and a final TrainResult
RECIPES: dict[str, Callable[..., Iterator[Progress | TrainEpoch | TrainResult]]] = {
    "fashion-cnn": train_fashion_cnn,
    "signs-cnn": partial(train_synthetic, SIGNS_CNN),
    "faces-cnn": partial(train_synthetic, FACES_CNN),
    **ROBUST_RECIPES,
}

# sample set name (samples:<name>) → function(out_dir or None) writing it, returning its folder
SAMPLE_SETS: dict[str, Callable[[str | Path | None], Path]] = {
    "fashion-mnist": export_samples,
    "signs": partial(export_synthetic_samples, SIGNS_CNN),
    "faces": partial(export_synthetic_samples, FACES_CNN),
}


def recipe_ids() -> list[str]:
    return sorted(RECIPES)


def train(model_id: str, **kwargs: Any) -> Iterator[Progress | TrainEpoch | TrainResult]:
    """The training generator of ``model_id`` with the recipe's keyword arguments
    (e.g. ``seed``, ``epochs``, ``out_dir``, ``device``)."""
    if model_id not in RECIPES:
        raise WorkbenchError(
            f"no training recipe for '{model_id}' (recipes: {', '.join(recipe_ids())})"
        )
    recipe = RECIPES[model_id]
    accepted = inspect.signature(recipe).parameters
    for key in kwargs:
        if key not in accepted:
            raise ParameterError(
                f"unknown option '{key}' for training {model_id} (options: {', '.join(accepted)})"
            )
    return recipe(**kwargs)


def export_sample_sets(
    names: Sequence[str] | None = None, out_root: str | Path | None = None
) -> dict[str, Path]:
    """Write the named sample sets (all by default), each into ``<out_root>/<name>`` or, by
    default, the shipped ``resources/samples/<name>``; their folders by name."""
    names = list(SAMPLE_SETS) if names is None else list(names)
    unknown = [name for name in names if name not in SAMPLE_SETS]
    if unknown:
        raise ParameterError(
            f"unknown sample set '{unknown[0]}' (sample sets: {', '.join(SAMPLE_SETS)})"
        )
    return {
        name: SAMPLE_SETS[name](None if out_root is None else Path(out_root) / name)
        for name in names
    }
