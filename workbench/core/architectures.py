"""Architectures by name: the built-in ones (registered by ``workbench.zoo``) and every
torchvision classification model.

Loaders build an architecture by name and then load weights into it, so that a weights file
never carries code (ARCHITECTURE.md, contract 7).
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from workbench.core.errors import ModelLoadError

# name → factory(num_classes, in_channels) → nn.Module
_BUILTIN: dict[str, Callable[[int, int], nn.Module]] = {}


def register_architecture(name: str):
    """Decorator registering ``factory(num_classes, in_channels)`` under ``name``."""

    def decorate(factory: Callable[[int, int], nn.Module]):
        _BUILTIN[name] = factory
        return factory

    return decorate


def builtin_architectures() -> list[str]:
    return sorted(_BUILTIN)


def torchvision_architectures() -> list[str]:
    from torchvision import models

    return sorted(models.list_models(module=models))


def build_architecture(name: str, *, num_classes: int, in_channels: int = 3) -> nn.Module:
    """A freshly initialised (untrained) network of the named architecture."""
    if name in _BUILTIN:
        return _BUILTIN[name](num_classes, in_channels)
    from torchvision import models

    if name in models.list_models(module=models):
        if in_channels != 3:
            raise ModelLoadError(
                f"torchvision architecture '{name}' takes 3-channel input, not {in_channels}"
            )
        return models.get_model(name, weights=None, num_classes=num_classes)
    raise ModelLoadError(
        f"unknown architecture '{name}' (built-in: {', '.join(builtin_architectures())}; "
        "or any torchvision classification model, e.g. resnet18)"
    )
