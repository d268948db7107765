"""Per-iteration traces of an attack on one image, for live curves.

A consumer that shows an attack live (the GUI) receives only some of its events: the GUI
worker coalesces them (latest wins) to keep the window responsive. Curves, however, must hold
one point per iteration. :func:`track` wraps an attack's event stream and replaces each
:class:`~workbench.core.events.AttackStep` with an :class:`AttackTrace` that carries the step
*and* the whole scalar history so far for one selected image, so that any single delivered
event is enough to draw the curves. Every other event (the final
:class:`~workbench.core.events.AttackResult`, boundary slices, …) passes through unchanged.

The history arrays are preallocated and only appended to; each event holds read-only views of
the first ``n`` entries, which never change afterwards, so the events stay immutable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from workbench.core.events import AttackStep

#: The scalar series of a trace, in the order views list them.
SERIES = ("iteration", "queries", "p_true", "p_target", "p_other", "loss", "linf", "l2", "l0")


@dataclass(frozen=True)
class AttackTrace:
    """An attack step together with the per-iteration history of one image.

    ``history`` maps each name of :data:`SERIES` to a read-only float64 array with one entry per
    iteration so far (``"p_target"`` only in a targeted attack): the probability of the true
    class, of the target class, of the strongest other class (neither true nor target), the
    attack loss, and the L∞, L2 and L0 (changed pixels) norms of the perturbation; ``"queries"``
    holds the oracle queries spent on the image so far (0 for white-box attacks), the x axis of
    a black-box attack's curves. ``index`` is the image of the batch that the history follows.
    """

    step: AttackStep
    history: dict[str, np.ndarray]
    index: int = 0

    @property
    def iteration(self) -> int:
        return self.step.iteration

    @property
    def total(self) -> int:
        return self.step.total


class _History:
    """Growing per-iteration arrays (amortised doubling; entries never change once written)."""

    def __init__(self, names: Iterable[str], capacity: int) -> None:
        self.names = tuple(names)
        self.size = 0
        self._data = {name: np.empty(max(capacity, 1), dtype=np.float64) for name in self.names}

    def append(self, values: dict[str, float]) -> None:
        if self.size == len(self._data[self.names[0]]):
            # Grow into new arrays: views handed out earlier keep pointing at the old ones.
            self._data = {
                name: np.concatenate([array, np.empty_like(array)]) for name, array in self._data.items()
            }
        for name in self.names:
            self._data[name][self.size] = values[name]
        self.size += 1

    def views(self) -> dict[str, np.ndarray]:
        out = {}
        for name in self.names:
            view = self._data[name][: self.size]
            view.flags.writeable = False
            out[name] = view
        return out


def trace_values(
    step: AttackStep,
    x: torch.Tensor,
    true_class: int,
    target_class: int | None,
    index: int = 0,
) -> dict[str, float]:
    """The scalars of one step for image ``index`` of the batch (see :class:`AttackTrace`)."""
    probs = step.probs[index].detach().double().cpu()
    delta = step.x_adv[index].detach().double().cpu() - x[index].detach().double().cpu()
    others = probs.clone()
    others[true_class] = -1.0
    if target_class is not None:
        others[target_class] = -1.0
    p_other = float(others.max()) if others.numel() > 1 + (target_class is not None) else 0.0
    changed = (delta != 0).any(dim=0) if delta.dim() == 3 else delta != 0
    spent = step.queries_per_image
    return {
        "iteration": float(step.iteration),
        "queries": float(spent[index]) if spent is not None else float(step.queries),
        "p_true": float(probs[true_class]),
        "p_target": float(probs[target_class]) if target_class is not None else float("nan"),
        "p_other": max(p_other, 0.0),
        "loss": float(step.loss[index]),
        "linf": float(delta.abs().max()) if delta.numel() else 0.0,
        "l2": float(delta.norm()),
        "l0": float(changed.sum()),
    }


def track(
    events: Iterable[Any],
    x: torch.Tensor,
    true_class: int | torch.Tensor,
    *,
    target_class: int | torch.Tensor | None = None,
    index: int = 0,
) -> Iterator[Any]:
    """Pass ``events`` through, replacing each :class:`AttackStep` by an :class:`AttackTrace`
    following image ``index`` of the batch ``x`` (the clean images the attack started from).

    Closing this generator closes the wrapped one, so cancelling stays cooperative.
    """
    x = x.detach().cpu()
    true_class = int(true_class)
    target_class = None if target_class is None else int(target_class)
    names = SERIES if target_class is not None else tuple(n for n in SERIES if n != "p_target")
    history: _History | None = None
    iterator = iter(events)
    try:
        for event in iterator:
            if isinstance(event, AttackStep):
                if history is None:
                    history = _History(names, capacity=min(max(event.total, 1), 100_000))
                history.append(trace_values(event, x, true_class, target_class, index))
                yield AttackTrace(step=event, history=history.views(), index=index)
            else:
                yield event
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
