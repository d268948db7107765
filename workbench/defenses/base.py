"""Input defenses composed with a :class:`~workbench.core.model.ModelHandle`, and the two
adaptive-attack switches that break them (Athalye, Carlini and Wagner, "Obfuscated Gradients
Give a False Sense of Security", ICML 2018).

A :class:`Defense` is a preprocessor in [0, 1] pixel space: ``apply`` is what the deployed
defense does to an input (possibly random, possibly not differentiable); ``approximation`` is a
differentiable stand-in for it, used only by BPDA's backward pass.

:class:`DefendedModel` is a ModelHandle whose forward pass runs a stack of defenses before the
model, so that every attack, the oracle and the evaluation accept it unchanged. It has three
ways of answering a gradient, set by :class:`Adaptive`:

* naive — autograd through the defense as implemented: a non-differentiable step (JPEG,
  rounding, thermometer comparisons) passes a zero gradient, a random one passes the gradient of
  one random draw. This is what an attacker who does not adapt sees.
* BPDA (Backward Pass Differentiable Approximation, Athalye et al., section 4.1) — the forward
  pass runs the defense, the backward pass the defense's ``approximation`` (the identity for
  most): ``f(x).detach() + g(x) − g(x).detach()``.
* EOT (Expectation over Transformation, Athalye et al., section 4.2; Athalye, Engstrom, Ilyas and
  Kwok, ICML 2018) — each forward pass averages the logits over K independent draws of the
  defense's randomness, so that the gradient is the average over draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import torch

from workbench.core.errors import WorkbenchError
from workbench.core.model import ModelHandle
from workbench.core.params import as_dict, build, describe


class Defense:
    """Base class of input defenses. Subclasses set the class attributes and :meth:`apply`.

    ``randomized``: whether ``apply`` draws randomness (then EOT is the adaptive answer);
    ``differentiable``: whether autograd through ``apply`` gives a useful gradient (if not, BPDA
    is the adaptive answer). ``strength`` names the parameter that a trade-off sweep varies.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    paper: ClassVar[str]
    randomized: ClassVar[bool] = False
    differentiable: ClassVar[bool] = True
    strength: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, **values: Any) -> None:
        self.params = build(self.Params, values)

    @classmethod
    def parameters(cls):
        return describe(cls.Params)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, **as_dict(self.params)}

    def apply(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The defended input for ``x`` (N×C×H×W in [0, 1]); randomness from ``generator``."""
        raise NotImplementedError

    def approximation(self, x: torch.Tensor) -> torch.Tensor:
        """BPDA's differentiable stand-in g(x) ≈ apply(x); the identity unless overridden."""
        return x


@dataclass(frozen=True)
class Adaptive:
    """How an attacker differentiates through the defenses: ``bpda`` replaces non-differentiable
    steps by their approximation in the backward pass; ``eot`` > 1 averages logits over that many
    draws of the defenses' randomness."""

    bpda: bool = False
    eot: int = 1

    def __post_init__(self) -> None:
        if self.eot < 1:
            raise WorkbenchError("EOT needs at least one draw")

    @property
    def naive(self) -> bool:
        return not self.bpda and self.eot == 1

    def describe(self) -> str:
        parts = (["BPDA"] if self.bpda else []) + ([f"EOT×{self.eot}"] if self.eot > 1 else [])
        return " + ".join(parts) or "naive"


def stack_randomized(defenses: Sequence[Defense]) -> bool:
    """Whether some defense of the stack draws randomness (EOT needed)."""
    return any(defense.randomized for defense in defenses)


def stack_obfuscated(defenses: Sequence[Defense]) -> bool:
    """Whether some defense of the stack gives no useful gradient (BPDA needed)."""
    return any(not defense.differentiable for defense in defenses)


class DefendedModel(ModelHandle):
    """``model`` behind a stack of ``defenses`` (applied in order), itself a ModelHandle.

    Randomness comes from a generator seeded with ``seed``, so the same seed and the same calls
    give the same answers. ``adaptive`` sets how gradients pass the defenses (see the module
    documentation); :meth:`adapted` returns the same defended model with other settings.
    """

    def __init__(
        self,
        model: ModelHandle,
        defenses: Sequence[Defense],
        *,
        adaptive: Adaptive = Adaptive(),
        seed: int = 0,
    ) -> None:
        if isinstance(model, DefendedModel):
            raise WorkbenchError("stack the defenses in one DefendedModel instead of nesting them")
        # A handle over the same module and identity: nothing is copied or re-hashed.
        self.__dict__.update(model.__dict__)
        self.base = model
        self.defenses = list(defenses)
        self.adaptive = adaptive
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        names = "+".join(defense.id for defense in self.defenses)
        self.model_id = f"{model.model_id}+{names}" if names else model.model_id

    @property
    def randomized(self) -> bool:
        return stack_randomized(self.defenses)

    @property
    def obfuscated(self) -> bool:
        """Whether some defense gives no useful gradient (BPDA needed)."""
        return stack_obfuscated(self.defenses)

    def adapted(self, adaptive: Adaptive, seed: int | None = None) -> DefendedModel:
        return DefendedModel(self.base, self.defenses, adaptive=adaptive,
                             seed=self.seed if seed is None else seed)

    def describe(self) -> dict[str, Any]:
        return {
            **self.base.describe(),
            "model_id": self.model_id,
            "defenses": [defense.describe() for defense in self.defenses],
            "adaptive": self.adaptive.describe(),
        }

    def defend(self, x: torch.Tensor) -> torch.Tensor:
        """One draw of the defense stack on ``x``, with gradients as ``adaptive.bpda`` says."""
        for defense in self.defenses:
            if defense.differentiable:
                x = defense.apply(x, self.generator)
                continue
            # Forward: the defense. Backward: its approximation (BPDA), or nothing (naive: the
            # zero gradient that a non-differentiable step gives).
            # (g − g.detach() is exactly 0 forward, so the answer is exactly the defense's.)
            stand_in = defense.approximation(x) if self.adaptive.bpda else 0.0 * x
            x = defense.apply(x.detach(), self.generator).detach() + (stand_in - stand_in.detach())
        return x

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = self.to_input(x)
        draws = self.adaptive.eot if self.randomized else 1
        if draws == 1:
            return self.base(self.defend(x))
        repeated = x.repeat(draws, 1, 1, 1)
        logits = self.base(self.defend(repeated))
        return logits.view(draws, x.shape[0], -1).mean(dim=0)
