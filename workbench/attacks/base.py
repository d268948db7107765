"""What every evasion attack shares: the problem it solves, the success criterion, the mask
invariant and the event stream.

Following foolbox 3's split of attack, criterion and distance, the base class owns input
validation, clipping to [0, 1], the mask invariant (ARCHITECTURE.md, contract 2) and the success
check; a subclass only writes its iteration as a generator of :class:`AttackStep` events that
ends by returning its final batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Generator, Iterator

import torch
import torch.nn.functional as F

from workbench.core.errors import MaskError, WorkbenchError
from workbench.core.events import AttackResult, AttackStep
from workbench.core.model import ModelHandle
from workbench.core.norms import all_norms
from workbench.core.params import build, describe

AttackEvents = Iterator[AttackStep | AttackResult]
# A per-sample loss that an attack increases: (logits of the samples at index, index) → N values.
LossFunction = Callable[[torch.Tensor, "torch.Tensor | slice"], torch.Tensor]


@dataclass
class Batch:
    """The validated inputs of one attack problem.

    ``mask`` is N×1×H×W with 1 where pixels may change; ``target`` holds the target class of
    each sample in a targeted attack, else None.
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    target: torch.Tensor | None
    generator: torch.Generator

    @property
    def targeted(self) -> bool:
        return self.target is not None

    @property
    def goal(self) -> torch.Tensor:
        """The class the loss is computed against: the target, or the true class."""
        return self.target if self.target is not None else self.y

    def reaches_goal(self, predicted: torch.Tensor, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Whether the predicted classes (of the samples at ``index``) meet the attack's goal."""
        if self.target is not None:
            return predicted == self.target[index]
        return predicted != self.y[index]

    def restrict(self, x_adv: torch.Tensor, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """``x_adv`` clipped to [0, 1] and equal to ``x`` to the bit where the mask is 0."""
        return torch.where(self.mask[index] > 0, x_adv.clamp(0.0, 1.0), self.x[index])


@dataclass
class Problem(Batch):
    """One white-box attack problem on a batch, validated and on the model's device."""

    model: ModelHandle

    def is_success(self, logits: torch.Tensor, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Whether the logits (of the samples at ``index``) meet the attack's goal."""
        return self.reaches_goal(logits.argmax(dim=1), index)

    def loss(self, logits: torch.Tensor, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Per-sample loss that the attack *increases*: cross-entropy to the true class, or the
        negative cross-entropy to the target class."""
        ce = F.cross_entropy(logits.float(), self.goal[index], reduction="none")
        return -ce if self.targeted else ce

    def loss_and_gradient(
        self,
        x_adv: torch.Tensor,
        index: torch.Tensor | slice = slice(None),
        loss: LossFunction | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, per-sample loss, ∇ₓ loss) at ``x_adv`` for the samples at ``index``; the
        loss is :meth:`loss` unless another ``loss(logits, index)`` is given."""
        loss_of = loss or self.loss
        with torch.enable_grad():
            x_var = x_adv.detach().requires_grad_(True)
            logits = self.model(x_var)
            values = loss_of(logits, index)
            (grad,) = torch.autograd.grad(values.sum(), x_var)
        return logits.detach(), values.detach(), grad

    def logits(self, x_adv: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(x_adv)


class Attack:
    """Base class of evasion attacks. Subclasses set the class attributes and implement
    :meth:`iterate`.

    ``Params`` is a dataclass declared with :func:`workbench.core.params.param`; an attack is
    built with keyword values for it (validated; unknown keys and out-of-range values raise
    :class:`~workbench.core.errors.ParameterError` naming the key).
    """

    id: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]  # one line for pickers
    paper: ClassVar[str]  # the citation of the algorithm
    norm: ClassVar[str]  # the distance it bounds or minimizes: "linf", "l2" or "l0"
    access: ClassVar[str] = "white-box"  # or "score" / "label": black-box, through an Oracle
    Params: ClassVar[type]

    def __init__(self, **values: Any) -> None:
        self.params = build(self.Params, values)

    @classmethod
    def parameters(cls):
        return describe(cls.Params)

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "title": cls.title,
            "summary": cls.summary,
            "paper": cls.paper,
            "norm": cls.norm,
            "access": cls.access,
            "parameters": [p.as_dict() for p in cls.parameters()],
        }

    def run(
        self,
        model: ModelHandle,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        target: torch.Tensor | None = None,
        seed: int = 0,
    ) -> AttackEvents:
        """Validate the inputs now and return the attack's event generator.

        The generator yields :class:`AttackStep` per iteration and ends with one
        :class:`AttackResult`. Closing it early stops the attack and leaves nothing behind.
        """
        if self.access == "white-box" and not model.capabilities.gradients:
            raise WorkbenchError(f"{self.title} needs gradients, which model '{model.model_id}' does not give")
        problem = make_problem(model, x, y, mask=mask, target=target, seed=seed)
        return self._events(problem)

    def _events(self, problem: Problem) -> AttackEvents:
        steps = self.iterate(problem)
        iterations = 0
        while True:
            try:
                event = next(steps)
            except StopIteration as stop:
                x_final = stop.value
                break
            iterations = event.iteration
            yield event
        yield finish(problem, problem.restrict(x_final), iterations)

    def iterate(self, problem: Problem) -> Generator[AttackStep, None, torch.Tensor]:
        """Yield an :class:`AttackStep` per iteration; return the final adversarial batch."""
        raise NotImplementedError


def make_problem(
    model: ModelHandle,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    target: torch.Tensor | None = None,
    seed: int = 0,
) -> Problem:
    """Validate an attack's inputs and move them to the model's device."""
    return Problem(
        model=model,
        **validate_batch(
            x, y, mask=mask, target=target, seed=seed,
            input_shape=model.input_shape, num_classes=model.num_classes, device=model.device,
        ),
    )


def validate_batch(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    mask: torch.Tensor | None,
    target: torch.Tensor | None,
    seed: int,
    input_shape: tuple[int, ...],
    num_classes: int,
    device: torch.device,
) -> dict[str, Any]:
    """The fields of a :class:`Batch` for a model of ``input_shape`` and ``num_classes``, on
    ``device``; raises :class:`WorkbenchError` (or :class:`MaskError`) naming the problem."""
    if x.dim() != 4:
        raise WorkbenchError(f"images must be a batch N×C×H×W, got shape {tuple(x.shape)}")
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise WorkbenchError(
            f"images of shape {tuple(x.shape[1:])} do not match the model's input {tuple(input_shape)}"
        )
    if not torch.isfinite(x).all():
        raise WorkbenchError("images contain NaN or infinite values")
    if x.min() < 0 or x.max() > 1:
        raise WorkbenchError("image values must lie in [0, 1]")
    n = x.shape[0]
    y = torch.as_tensor(y, dtype=torch.long).reshape(-1)
    if y.numel() != n:
        raise WorkbenchError(f"{y.numel()} labels for {n} images")
    if ((y < 0) | (y >= num_classes)).any():
        raise WorkbenchError(f"labels must lie in 0..{num_classes - 1}")
    if mask is None:
        mask = torch.ones(n, 1, *x.shape[2:])
    mask = torch.as_tensor(mask, dtype=torch.float32)
    if mask.dim() == 2:
        mask = mask[None, None]
    if mask.dim() != 4 or mask.shape[1] != 1 or tuple(mask.shape[2:]) != tuple(x.shape[2:]):
        raise MaskError(
            f"mask must be N×1×{x.shape[2]}×{x.shape[3]} (or H×W), got {tuple(mask.shape)}"
        )
    if mask.shape[0] not in (1, n):
        raise MaskError(f"mask batch of {mask.shape[0]} does not match {n} images")
    mask = (mask > 0).float().expand(n, -1, -1, -1).contiguous()
    if target is not None:
        target = torch.as_tensor(target, dtype=torch.long).reshape(-1)
        if target.numel() == 1:
            target = target.expand(n)
        if target.numel() != n:
            raise WorkbenchError(f"{target.numel()} targets for {n} images")
        if ((target < 0) | (target >= num_classes)).any():
            raise WorkbenchError(f"target classes must lie in 0..{num_classes - 1}")
        target = target.to(device)
    return {
        "x": x.detach().to(device, torch.float32).contiguous(),
        "y": y.to(device),
        "mask": mask.to(device),
        "target": target,
        "generator": torch.Generator().manual_seed(int(seed)),
    }


def step_event(
    problem: Problem,
    iteration: int,
    total: int,
    x_adv: torch.Tensor,
    logits: torch.Tensor,
    loss: torch.Tensor,
    success: torch.Tensor,
    queries: int = 0,
) -> AttackStep:
    """An :class:`AttackStep` holding detached CPU copies of the batch state."""
    return AttackStep(
        iteration=iteration,
        total=total,
        x_adv=x_adv.detach().float().cpu().clone(),
        probs=torch.softmax(logits.detach().float(), dim=1).cpu(),
        loss=loss.detach().float().cpu().clone(),
        success=success.detach().cpu().clone(),
        queries=queries,
    )


def finish(problem: Problem, x_adv: torch.Tensor, iterations: int, queries: int = 0) -> AttackResult:
    """The :class:`AttackResult` for ``x_adv``: success judged by the model, norms measured."""
    logits = problem.logits(x_adv)
    return outcome(
        problem, x_adv, torch.softmax(logits.float(), dim=1), problem.is_success(logits),
        iterations, queries,
    )


def outcome(
    batch: Batch,
    x_adv: torch.Tensor,
    probs: torch.Tensor,
    success: torch.Tensor,
    iterations: int,
    queries: int = 0,
    metrics: dict[str, torch.Tensor] | None = None,
) -> AttackResult:
    """The :class:`AttackResult` for ``x_adv`` judged as ``probs`` and ``success``, with the
    perturbation norms (and ``metrics``) per sample."""
    delta = (x_adv.double() - batch.x.double())
    norms = {name: values.cpu() for name, values in all_norms(delta).items()}
    return AttackResult(
        x_adv=x_adv.detach().cpu().clone(),
        probs=probs.cpu(),
        success=success.cpu(),
        iterations=iterations,
        queries=queries,
        metrics={**norms, **(metrics or {})},
    )


def run_to_end(events: AttackEvents) -> AttackResult:
    """Consume an attack's events and return its result (for scripts and tests)."""
    result = None
    for event in events:
        result = event
    if not isinstance(result, AttackResult):
        raise WorkbenchError("the attack ended without a result")
    return result
