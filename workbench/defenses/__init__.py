"""Defenses: input transforms composed with a model, the adaptive attacks that break them,
randomized smoothing and stateful query monitoring (ARCHITECTURE.md, ``defenses/``)."""
from workbench.defenses import jpeg, noise, resize_pad, squeezing, thermometer  # noqa: F401  (register)
from workbench.defenses.base import Adaptive, DefendedModel, Defense
from workbench.defenses.registry import DEFENSES

__all__ = ["Adaptive", "DEFENSES", "DefendedModel", "Defense"]
