"""Training recipes of the built-in models, by model id (``workbench zoo train <id>``)."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterator

from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.zoo.fashion import train_fashion_cnn

# model id → generator function of TrainEpoch events and a final TrainResult
RECIPES: dict[str, Callable[..., Iterator[TrainEpoch | TrainResult]]] = {
    "fashion-cnn": train_fashion_cnn,
}


def recipe_ids() -> list[str]:
    return sorted(RECIPES)


def train(model_id: str, **kwargs: Any) -> Iterator[TrainEpoch | TrainResult]:
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
