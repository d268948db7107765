"""Transfer attack (Papernot, McDaniel and Goodfellow, "Transferability in Machine Learning: from
Phenomena to Black-Box Attacks using Adversarial Samples", 2016; Liu, Chen, Liu and Song,
"Delving into Transferable Adversarial Examples and Black-box Attacks", ICLR 2017).

The attacker crafts adversarial examples on a surrogate model of their own with any registered
white-box attack, then sends each one to the target once, through the oracle, to see whether it
transfers. While crafting, the steps show the surrogate's confidences and no success (nothing
is known about the target yet); the last step shows the oracle's answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from workbench.attacks.base import AttackEvents
from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem
from workbench.attacks.registry import ATTACKS
from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.events import AttackResult, AttackStep
from workbench.core.loaders import load_model
from workbench.core.model import ModelHandle
from workbench.core.oracle import Oracle
from workbench.core.params import param, parse_assignments


@dataclass(frozen=True)
class TransferParams:
    surrogate: str = param("", title="Surrogate model", description="The attacker's own model, crafted on: a built-in model id or a model file")
    white_box: str = param("pgd", title="White-box attack", description="Id of the registered white-box attack run on the surrogate")
    white_box_params: str = param("eps=0.1,steps=20", title="Its parameters", description="The white-box attack's parameters as key=value pairs, separated by commas")


@ATTACKS.register
class Transfer(BlackBoxAttack):
    id = "transfer"
    title = "Transfer from a surrogate"
    summary = "Crafts on a surrogate model with a white-box attack; one query per image checks the target."
    paper = "Papernot, McDaniel and Goodfellow, Transferability in Machine Learning, 2016; Liu et al., Delving into Transferable Adversarial Examples and Black-box Attacks, ICLR 2017"
    norm = "linf"  # the white-box attack's; PGD's by default
    access = "label"
    Params = TransferParams

    def __init__(self, *, surrogate_model: ModelHandle | None = None, **values: Any) -> None:
        """``surrogate_model`` gives the surrogate directly (instead of the ``surrogate`` id)."""
        super().__init__(**values)
        white_box = [a.id for a in ATTACKS if a.access == "white-box"]
        if self.params.white_box not in white_box:
            raise ParameterError(
                f"parameter 'white_box': '{self.params.white_box}' is not a registered white-box "
                f"attack (white-box: {', '.join(white_box)})"
            )
        inner = ATTACKS.get(self.params.white_box)
        pairs = [item for item in self.params.white_box_params.split(",") if item.strip()]
        self.white_box = inner(**parse_assignments(pairs))
        self.norm = inner.norm
        self._surrogate = surrogate_model

    def planned_queries(self) -> int:
        return 1

    def run(self, oracle: Oracle, x: torch.Tensor, y: torch.Tensor, **options: Any) -> AttackEvents:  # type: ignore[override]
        surrogate = self.surrogate()
        if (tuple(surrogate.input_shape), surrogate.num_classes) != (oracle.input_shape, oracle.num_classes):
            raise WorkbenchError(
                f"surrogate '{surrogate.model_id}' takes {surrogate.input_shape} and has {surrogate.num_classes} "
                f"classes; the target takes {oracle.input_shape} and has {oracle.num_classes}"
            )
        return super().run(oracle, x, y, **options)

    def surrogate(self) -> ModelHandle:
        """The surrogate model, loaded once."""
        if self._surrogate is None:
            if not self.params.surrogate:
                raise ParameterError("parameter 'surrogate': give a built-in model id or a model file to craft on")
            self._surrogate = load_model(self.params.surrogate)
        return self._surrogate

    def iterate(self, problem: BlackBoxProblem):
        n = problem.x.shape[0]
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=problem.generator))
        events = self.white_box.run(self.surrogate(), problem.x, problem.y, mask=problem.mask, target=problem.target, seed=seed)
        unknown = torch.zeros(n, dtype=torch.bool)
        crafted, iteration = problem.x, 0
        try:
            for event in events:
                if isinstance(event, AttackResult):
                    crafted = event.x_adv
                    break
                iteration += 1
                yield AttackStep(
                    iteration=iteration, total=event.total + 1, x_adv=event.x_adv, probs=event.probs,
                    loss=event.loss, success=unknown, queries_per_image=problem.spent(),
                    budget=problem.oracle.budget,
                )
        finally:
            events.close()
        crafted = problem.restrict(crafted)
        answer = problem.ask(crafted, torch.arange(n))
        loss = torch.zeros(n) if answer.scores is None else problem.margin(answer)
        yield problem.step(iteration + 1, iteration + 1, crafted, answer, loss, problem.reached(answer))
        return crafted
