"""What every black-box attack shares (ARCHITECTURE.md, contract 5): it reaches the model only
through counted oracle queries, respects the budget, ends cleanly when the budget runs out,
and degrades without crashing when the oracle reveals less."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from workbench.attacks import ATTACKS, run_to_end
from workbench.attacks.blackbox import BlackBoxAttack
from workbench.attacks.evaluate import evaluate_attack
from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackResult, AttackStep
from workbench.core.model import ModelHandle
from workbench.core.oracle import Answer, Oracle, OracleParams
from workbench.core.params import param

BLACK_BOX = sorted(a.id for a in ATTACKS if a.access != "white-box")
SMALL = {
    "square": {"eps": 0.1, "max_queries": 30},
    "square-l2": {"eps": 3.0, "max_queries": 30},
    "simba": {"eps": 0.5, "max_queries": 30},
    "nes": {"eps": 0.1, "max_queries": 30, "samples": 4},
    "hopskipjump": {"max_queries": 30},
    "boundary": {"max_queries": 30},
    "transfer": {"surrogate": "fashion-cnn", "white_box_params": "eps=0.1,steps=5"},
}


def _attack(attack_id, **overrides):
    return ATTACKS.get(attack_id)(**{**SMALL[attack_id], **overrides})


def _oracle(model, attack_id, **settings):
    label_only = ATTACKS.get(attack_id).access == "label"
    return Oracle(model, OracleParams(**{"label_only": label_only, **settings}))


class NoGradientsAllowed(nn.Module):
    """Wraps the target's network: refuses any forward pass that could give gradients, and
    counts the images it sees."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.seen = 0

    def forward(self, x):
        assert not torch.is_grad_enabled() and not x.requires_grad, "the target was run with autograd"
        self.seen += x.shape[0]
        return self.inner(x)


def _guarded(model: ModelHandle) -> tuple[ModelHandle, NoGradientsAllowed]:
    guard = NoGradientsAllowed(copy.deepcopy(model.module.inner))
    return ModelHandle(guard, spec=model.spec, labels=model.labels, model_id="guarded", device="cpu"), guard


def test_every_black_box_attack_is_covered():
    assert set(BLACK_BOX) == set(SMALL)
    assert all(ATTACKS.get(a).access in ("score", "label") for a in BLACK_BOX)


@pytest.mark.parametrize("attack_id", BLACK_BOX)
def test_the_model_is_reached_only_through_counted_queries(attack_id, fashion_model, fashion_batch):
    x, y = fashion_batch[0][:4], fashion_batch[1][:4]
    target, guard = _guarded(fashion_model)
    oracle = _oracle(target, attack_id)
    with torch.autograd.set_grad_enabled(False):  # and black-box attacks work without autograd
        result = run_to_end(_attack(attack_id).run(oracle, x, y, seed=0))
    assert guard.seen == oracle.total_queries + x.shape[0]  # + the framework's final verdict
    assert result.queries == oracle.total_queries == int(result.metrics["queries"].sum())


def test_an_attack_cannot_use_the_referee(fashion_model, fashion_batch):
    class Cheat(BlackBoxAttack):
        id, title, summary, paper, norm = "cheat", "Cheat", "", "", "linf"
        Params = _NoParams

        def planned_queries(self):
            return 1

        def iterate(self, problem):
            problem.oracle.judge(problem.x)
            yield

    x, y = fashion_batch[0][:2], fashion_batch[1][:2]
    with pytest.raises(WorkbenchError, match="may not use the oracle's referee"):
        run_to_end(Cheat().run(Oracle(fashion_model), x, y))


@dataclass(frozen=True)
class _NoParams:
    pass


@dataclass(frozen=True)
class _GreedyParams:
    max_queries: int = param(100, title="Queries", description="planned", low=1)


class Greedy(BlackBoxAttack):
    """Reports a noisy batch, then asks for more than the budget allows."""

    id, title, summary, paper, norm = "greedy", "Greedy", "", "", "linf"
    Params = _GreedyParams

    def iterate(self, problem):
        n = problem.x.shape[0]
        noisy = problem.restrict(problem.x + 0.05)
        answer = problem.ask(noisy, torch.arange(n))
        yield problem.step(1, 2, noisy, answer, problem.margin(answer), problem.reached(answer))
        while True:
            problem.ask(problem.restrict(problem.x - 0.05), torch.arange(n))
            yield problem.step(2, 2, problem.x, answer, problem.margin(answer), problem.reached(answer))


def test_budget_exhaustion_ends_cleanly_with_the_best_so_far(fashion_model, fashion_batch):
    x, y = fashion_batch[0][:3], fashion_batch[1][:3]
    oracle = Oracle(fashion_model, OracleParams(budget=3))
    events = list(Greedy().run(oracle, x, y))
    *steps, result = events
    assert isinstance(result, AttackResult)
    assert oracle.queries.tolist() == [3, 3, 3]
    assert torch.equal(result.x_adv, steps[-1].x_adv)
    assert result.queries == 9


@pytest.mark.parametrize("attack_id", BLACK_BOX)
def test_the_budget_is_respected(attack_id, fashion_model, fashion_batch):
    x, y = fashion_batch[0][::8], fashion_batch[1][::8]
    oracle = _oracle(fashion_model, attack_id, budget=12)
    events = list(_attack(attack_id, **({} if attack_id == "transfer" else {"max_queries": 500})).run(oracle, x, y, seed=1))
    *steps, result = events
    assert isinstance(result, AttackResult) and all(isinstance(s, AttackStep) for s in steps)
    assert result.metrics["queries"].max() <= 12 and oracle.queries.max() <= 12
    spent = [s.queries for s in steps]
    assert spent == sorted(spent) and result.queries == int(oracle.queries.sum())
    assert all(s.budget == 12 for s in steps)
    met = result.metrics["queries_to_success"]
    assert torch.equal(met >= 0, result.success) and (met <= result.metrics["queries"]).all()


def test_black_box_attacks_refuse_the_model_itself(fashion_model, fashion_batch):
    x, y = fashion_batch[0][:2], fashion_batch[1][:2]
    with pytest.raises(WorkbenchError, match="black-box attack: give it an Oracle"):
        _attack("square").run(fashion_model, x, y)


@pytest.mark.parametrize("attack_id", ["square", "simba", "nes"])
def test_score_based_attacks_refuse_a_label_only_oracle(attack_id, fashion_model, fashion_batch):
    x, y = fashion_batch[0][:2], fashion_batch[1][:2]
    with pytest.raises(WorkbenchError, match="needs confidences.*labels only"):
        _attack(attack_id).run(Oracle(fashion_model, OracleParams(label_only=True)), x, y)


@pytest.mark.parametrize("attack_id", ["square", "simba", "nes"])
def test_score_based_attacks_degrade_with_rounded_top1_answers(attack_id, fashion_model, fashion_batch):
    x, y = fashion_batch[0][::4], fashion_batch[1][::4]
    oracle = Oracle(fashion_model, OracleParams(top_k=1, decimals=1, budget=40))
    evaluation = list(evaluate_attack(_attack(attack_id, max_queries=40), fashion_model, x, y, oracle=oracle))[-1]
    summary = evaluation.summary
    assert summary["oracle"]["decimals"] == 1 and summary["oracle"]["top_k"] == 1
    assert 0 <= summary["success_rate"] <= 1 and summary["queries"] <= 40 * x.shape[0]
    assert summary["budget_exhausted"] == int((~evaluation.success & (evaluation.queries_per_image >= 40)).sum())


def test_steps_show_what_the_attacker_sees(fashion_model, fashion_batch):
    x, y = fashion_batch[0][:4], fashion_batch[1][:4]
    oracle = Oracle(fashion_model, OracleParams(top_k=3, decimals=2))
    steps = [e for e in _attack("square").run(oracle, x, y) if isinstance(e, AttackStep)]
    for step in steps:
        assert isinstance(step.seen, Answer) and step.seen.labels.shape == (4, 3)
        assert ((step.probs > 0).sum(dim=1) <= 3).all()
        assert torch.equal(step.probs.argmax(dim=1), step.seen.top1)
        assert step.queries_per_image.shape == (4,) and step.queries == int(step.queries_per_image.sum())


def test_evaluation_reports_queries_to_success(fashion_model, fashion_batch):
    x, y = fashion_batch[0][::4], fashion_batch[1][::4]
    *_, evaluation = evaluate_attack(_attack("hopskipjump"), fashion_model, x, y,
                                     oracle=Oracle(fashion_model, OracleParams(label_only=True)))
    summary = evaluation.summary
    met = evaluation.queries_to_success[evaluation.success].double()
    assert summary["queries_median"] == met.median().item()
    assert summary["queries_mean"] == pytest.approx(met.mean().item(), abs=1e-3)
    with pytest.raises(WorkbenchError, match="white-box attack: it takes the model"):
        list(evaluate_attack(ATTACKS.get("pgd")(), fashion_model, x, y, oracle=Oracle(fashion_model)))
    white = list(evaluate_attack(ATTACKS.get("fgsm")(), fashion_model, x, y))[-1].summary
    assert white["queries_median"] is None and white["oracle"] is None
