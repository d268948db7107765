"""The single-image live run: an attack on one image, through an oracle when the attack is
black-box, with decision-boundary slices computed along the way and a per-iteration history.

:func:`live_run` checks and prepares everything on the caller's thread (the attack's goal, the
mask, the oracle and its budget) and returns a :class:`LiveRun`, whose :meth:`LiveRun.events`
builds the event stream — attack ∘ boundary slices (:func:`~workbench.audit.boundary.with_boundary_slices`)
∘ tracking (:func:`~workbench.core.tracking.track`) — to be pulled on a worker thread. The
Evasion lab runs exactly this; a test can run it the same way::

    run = live_run(model, PGD(eps=0.03), image, label)
    for event in run.events():
        ...

It lives in ``audit`` because it composes the boundary slices; it needs no attack module (it
takes an attack instance), so it imports only ``workbench.core`` and ``workbench.audit``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch

from workbench.audit.boundary import with_boundary_slices
from workbench.core.errors import WorkbenchError
from workbench.core.goals import goal_labels
from workbench.core.mask_policy import effective_mask
from workbench.core.model import ModelHandle
from workbench.core.tracking import track

BOUNDARY_RESOLUTION = 31  # grid points per side of the decision-boundary slice
BOUNDARY_INTERVAL_S = 0.4  # at most this often, within a share of the run's time (live_slices.py)


@dataclass(frozen=True)
class LiveRun:
    """A prepared live run. ``x`` is 1×C×H×W, ``mask`` 1×1×H×W (None: every pixel) and
    ``mask_array`` the same H×W in NumPy; ``access`` is the model (white-box) or the oracle
    (black-box); ``x_extent`` the queries the run may spend (the curves' x axis; None: draw over
    iterations); ``budget`` the oracle's query budget (0: none)."""

    model: ModelHandle
    attack: Any
    access: Any
    x: torch.Tensor
    true_class: int
    target_class: int | None
    mask: torch.Tensor | None
    mask_array: np.ndarray | None
    probs_clean: np.ndarray
    seed: int
    black_box: bool
    x_extent: float | None
    budget: int
    resolution: int = BOUNDARY_RESOLUTION
    min_interval_s: float = BOUNDARY_INTERVAL_S

    def events(self) -> Iterator[Any]:
        """The run's events (call it on the thread that will pull them): the attack's steps and
        result, the boundary slices, and the tracked history (:class:`~workbench.core.tracking.AttackTrace`)."""
        y = torch.tensor([self.true_class])
        target = None if self.target_class is None else torch.tensor([self.target_class])
        stream = self.attack.run(self.access, self.x, y, mask=self.mask, target=target, seed=self.seed)
        stream = with_boundary_slices(
            stream, self.model, 0, self.x, self.mask, seed=self.seed, resolution=self.resolution,
            min_interval_s=self.min_interval_s,
        )
        return track(stream, self.x, self.true_class, target_class=self.target_class)


def live_run(
    model: ModelHandle,
    attack: Any,
    image: np.ndarray | torch.Tensor,
    label: int,
    *,
    clean_probs: np.ndarray | Callable[[], np.ndarray] | None = None,
    mask: np.ndarray | None = None,
    target: int | None = None,
    seed: int = 0,
    oracle_params: Mapping[str, Any] | None = None,
) -> LiveRun:
    """Prepare ``attack`` (an instance) on one C×H×W ``image`` in [0, 1].

    ``label`` −1 (unknown): the attack moves the image away from the model's own answer
    (:func:`~workbench.core.goals.goal_labels`). ``clean_probs`` are the model's K scores on the
    image when already known (else one forward pass). ``mask`` is the drawn H×W mask (None or
    empty: every pixel may change). A black-box attack gets an oracle built from
    ``oracle_params`` (``OracleParams`` values). Raises :class:`WorkbenchError` when the target is
    the image's own class."""
    x = torch.as_tensor(np.ascontiguousarray(image, dtype=np.float32)).unsqueeze(0)
    if callable(clean_probs):
        clean_probs = clean_probs()
    probs = np.asarray(model.predict(x)[0].numpy() if clean_probs is None else clean_probs, dtype=np.float32)
    true_class = goal_labels(int(label), probs)
    if target is not None and target == true_class:
        raise WorkbenchError(
            f"The target class is the image's own class ({model.labels[target]}): pick another target."
        )
    mask_array = effective_mask(mask)
    mask_t = None if mask_array is None else torch.from_numpy(mask_array)[None, None]
    access, black_box, x_extent, budget = model, attack.access != "white-box", None, 0
    if black_box:  # white-box attacks get the model itself, black-box ones an oracle
        from workbench.core.oracle import Oracle, OracleParams
        from workbench.core.params import build

        access = Oracle(model, build(OracleParams, dict(oracle_params or {})))
        planned = attack.planned_queries()
        planned = min(planned, access.budget) if access.budget else planned
        x_extent = float(planned) if planned > 1 else None  # a transfer asks once: iterations
        budget = access.budget
    return LiveRun(
        model=model, attack=attack, access=access, x=x, true_class=true_class, target_class=target,
        mask=mask_t, mask_array=mask_array, probs_clean=probs, seed=int(seed), black_box=black_box,
        x_extent=x_extent, budget=budget,
    )
