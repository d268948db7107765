"""Evasion attacks, one per file, registered by id in :data:`ATTACKS`.

White-box attacks take a :class:`~workbench.core.model.ModelHandle`; black-box ones only an
oracle. Every attack is a generator of events (see :mod:`workbench.attacks.base`).
"""
from workbench.attacks import apgd, cw, deepfool, ensemble, fgsm, pgd  # noqa: F401  (registration: white-box)
from workbench.attacks import greedy_pixel, jsma  # noqa: F401  (registration: white-box pixel searches)
from workbench.attacks import eyeglasses, patch, stickers  # noqa: F401  (registration: physical)
from workbench.attacks import (  # noqa: F401  (registration: black-box, through an oracle)
    boundary_attack, hopskipjump, nes, simba, square, transfer,
)
from workbench.attacks.base import Attack, run_to_end
from workbench.attacks.registry import ATTACKS

__all__ = ["ATTACKS", "Attack", "run_to_end"]
