"""HopSkipJump and the Boundary attack (L2, untargeted, labels only) on ``fashion-cnn`` against
ART's (issue 5): median L2 distance after 5,000 queries per image, on the same 20 images.

Both are measured the same way: the closest point to the original, among the first 5,000 that
each attack sent for the image, that the model labels adversarial (what the attacker has found
by then). ART's attacks get the model through a wrapper that watches their queries and stops
them at 5,000; ours query a label-only oracle with a budget of 5,000 per image whose query log
watches them. ART runs with its defaults, one image at a time; ours on all 20 at once. Ours may
be at most 1.1× ART's median. The median distance of the points ours return is printed too.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.datasets import open_data
from workbench.core.oracle import Oracle, OracleParams, QueryLog

pytestmark = pytest.mark.bench

QUERIES, N = 5000, 20


class BudgetSpent(Exception):
    pass


class CountingModel(nn.Module):
    """The target for ART: counts the queried images, remembers the closest adversarial one to
    ``original`` among the first ``budget``, and stops the attack when the budget is spent."""

    def __init__(self, module: nn.Module, budget: int) -> None:
        super().__init__()
        self.module, self.budget = module, budget
        self.original, self.label, self.used, self.closest = None, None, 0, float("inf")

    def start(self, original: torch.Tensor, label: int) -> None:
        self.original, self.label, self.used, self.closest = original, label, 0, float("inf")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()  # ART computes some candidates in float64
        logits = self.module(x)
        counted = x[: max(self.budget - self.used, 0)]
        adversarial = logits[: counted.shape[0]].argmax(dim=1) != self.label
        if adversarial.any():
            distances = (counted[adversarial] - self.original).flatten(1).norm(dim=1)
            self.closest = min(self.closest, float(distances.min()))
        self.used += x.shape[0]
        if self.used >= self.budget:
            raise BudgetSpent
        return logits


def art_median_l2(model, x, y, make_attack) -> tuple[float, int]:
    pytest.importorskip("art")
    from art.estimators.classification import PyTorchClassifier

    counting = CountingModel(model.module, QUERIES)
    classifier = PyTorchClassifier(counting, loss=nn.CrossEntropyLoss(), input_shape=model.input_shape,
                                   nb_classes=model.num_classes, clip_values=(0.0, 1.0), device_type="cpu")
    attack = make_attack(classifier)
    distances = []
    np.random.seed(0)
    for i in range(len(x)):
        counting.start(x[i], int(y[i]))
        try:
            attack.generate(x[i : i + 1].numpy(), y=y[i : i + 1].numpy())
        except BudgetSpent:
            pass
        distances.append(counting.closest)
    distances = torch.tensor(distances)
    return float(distances.median()), int(torch.isinf(distances).sum())


class ClosestAdversarial(QueryLog):
    """A query log that keeps, per attacked image, only the distance of the closest query
    labelled adversarial (its records carry the queried images themselves as features)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        super().__init__(maxlen=10**9)
        self.x, self.y = x, y
        self.closest = torch.full((len(x),), float("inf"))

    def extend(self, records) -> None:
        for record in records:
            if record.label != int(self.y[record.image]):
                distance = float((record.features - self.x[record.image]).norm())
                self.closest[record.image] = min(float(self.closest[record.image]), distance)


def ours_median_l2(model, x, y, attack_id) -> tuple[float, int, float]:
    log = ClosestAdversarial(x, y)
    oracle = Oracle(model, OracleParams(label_only=True, budget=QUERIES), log=log, features=lambda q: q)
    result = run_to_end(ATTACKS.get(attack_id)(max_queries=QUERIES).run(oracle, x, y, seed=0))
    assert int(result.metrics["queries"].max()) <= QUERIES
    returned = torch.where(result.success, result.metrics["l2"].float(), float("inf"))
    return float(log.closest.median()), int(torch.isinf(log.closest).sum()), float(returned.median())


def test_decision_based_attacks_against_art(fashion_model):
    from art.attacks.evasion import BoundaryAttack, HopSkipJump

    data = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=2 * N)
    correct = fashion_model.predict(data.images).argmax(dim=1) == data.labels
    x, y = data.images[correct][:N], data.labels[correct][:N]
    references = {
        "hopskipjump": lambda c: HopSkipJump(c, targeted=False, norm=2, max_iter=1000, verbose=False),
        "boundary": lambda c: BoundaryAttack(c, targeted=False, max_iter=QUERIES, verbose=False),
    }
    figures = {"images": N, "queries_per_image": QUERIES}
    for attack_id, reference in references.items():
        ours, ours_failed, returned = ours_median_l2(fashion_model, x, y, attack_id)
        theirs, theirs_failed = art_median_l2(fashion_model, x, y, reference)
        figures[attack_id] = {
            "median_l2_ours": round(ours, 4), "median_l2_art": round(theirs, 4),
            "ours_over_art": round(ours / theirs, 3), "failed_ours": ours_failed, "failed_art": theirs_failed,
            "median_l2_ours_returned": round(returned, 4),
        }
    print("\nDecision-based benchmark:", json.dumps(figures, indent=2))
    for attack_id in references:
        assert figures[attack_id]["ours_over_art"] <= 1.1
