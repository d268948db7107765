"""Certification throughput (issue 6): noise samples per second of randomized smoothing's
CERTIFY against the floor, bare batched forward passes of the same model on the same batch size.

Both are measured in one run, best of 3, on 4 Fashion-MNIST test images × (n0 = 100 + n = 2,000)
samples in batches of 1,000, with ``fashion-cnn``."""
from __future__ import annotations

import json
import time

import pytest
import torch

from workbench.core.datasets import open_data
from workbench.defenses.smoothing import Smoothing, SmoothingParams

pytestmark = pytest.mark.bench

IMAGES, N0, N, BATCH = 4, 100, 2000, 1000


def best_of(repeats, function):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def test_certify_throughput_against_bare_forward(fashion_model):
    data = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=IMAGES)
    x = data.images
    params = SmoothingParams(sigma=0.25, n0=N0, n=N, alpha=0.001, batch_size=BATCH)
    samples = IMAGES * (N0 + N)
    batch = fashion_model.to_input(x[:1].repeat(BATCH, 1, 1, 1))

    def floor():
        with torch.no_grad():
            for _ in range(samples // BATCH):
                fashion_model(batch).argmax(dim=1)

    def certify():
        for _ in Smoothing(fashion_model, params).certify(x):
            pass

    floor()
    t_floor = best_of(3, floor) * samples / (samples // BATCH * BATCH)
    t_certify = best_of(3, certify)
    figures = {
        "samples": samples,
        "floor_samples_per_second": round(samples / t_floor),
        "certify_samples_per_second": round(samples / t_certify),
        "certify_over_floor_throughput": round(t_floor / t_certify, 3),
        "threads": torch.get_num_threads(),
    }
    print("\nCertification throughput:", json.dumps(figures, indent=2))
    assert figures["certify_over_floor_throughput"] >= 0.9
