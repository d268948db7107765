"""PGD speed against the floor and against torchattacks (issue 2's benchmark).

PGD-L∞, 20 steps, ε = 0.1, on the first 256 Fashion-MNIST test images with ``fashion-cnn``.
All three are measured in one run on the same channels_last model and batch: the floor is 20
bare forward+backward passes; ours runs with and without per-sample early stop; torchattacks'
PGD gets the same module, ε, step size and step count. Each is timed best-of-3.
"""
from __future__ import annotations

import json
import time

import pytest
import torch
import torch.nn.functional as F

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.datasets import open_data

pytestmark = pytest.mark.bench

STEPS, EPS, N = 20, 0.1, 256
ALPHA = 2.5 * EPS / STEPS


def best_of(repeats, function):
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return min(times), value


def test_pgd_speed_against_floor_and_torchattacks(fashion_model):
    torchattacks = pytest.importorskip("torchattacks")
    data = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=N)
    x, y = data.images, data.labels
    module = fashion_model.module
    x_cl = fashion_model.to_input(x)

    def floor():
        for _ in range(STEPS):
            x_var = x_cl.detach().requires_grad_(True)
            loss = F.cross_entropy(module(x_var), y)
            torch.autograd.grad(loss, x_var)

    def ours(early_stop):
        attack = ATTACKS.get("pgd")(eps=EPS, steps=STEPS, step_size=ALPHA, early_stop=early_stop)
        return lambda: run_to_end(attack.run(fashion_model, x, y, seed=0))

    reference = torchattacks.PGD(module, eps=EPS, alpha=ALPHA, steps=STEPS, random_start=True)

    def theirs():
        return reference(x_cl, y)

    floor()  # warm-up
    t_floor, _ = best_of(3, floor)
    t_ours, result = best_of(3, ours(False))
    t_ours_es, result_es = best_of(3, ours(True))
    t_theirs, x_theirs = best_of(3, theirs)
    robust_theirs = (fashion_model.predict(x_theirs).argmax(1) == y).float().mean().item()
    figures = {
        "floor_seconds": round(t_floor, 3),
        "ours_seconds": round(t_ours, 3),
        "ours_early_stop_seconds": round(t_ours_es, 3),
        "torchattacks_seconds": round(t_theirs, 3),
        "ours_over_floor": round(t_ours / t_floor, 3),
        "ours_early_stop_over_floor": round(t_ours_es / t_floor, 3),
        "ours_over_torchattacks": round(t_ours / t_theirs, 3),
        "robust_accuracy_ours": (result.probs.argmax(1) == y).float().mean().item(),
        "robust_accuracy_ours_early_stop": (result_es.probs.argmax(1) == y).float().mean().item(),
        "robust_accuracy_torchattacks": robust_theirs,
        "threads": torch.get_num_threads(),
    }
    print("\nPGD benchmark:", json.dumps(figures, indent=2))
    assert figures["ours_over_floor"] <= 1.15
    assert figures["ours_over_torchattacks"] <= 1.0
    assert figures["robust_accuracy_ours"] <= robust_theirs + 0.01
