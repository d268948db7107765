"""Decision-boundary slices (workbench.audit.boundary) on a tiny linear model. Qt-free."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from workbench.attacks.pgd import PGD
from workbench.attacks.base import run_to_end
from workbench.audit.boundary import (
    BoundarySlice,
    decision_slice,
    plane_basis,
    project_path,
    with_boundary_slices,
)
from workbench.core.events import AttackResult, AttackStep
from workbench.core.model import ModelHandle
from workbench.core.spec import InputSpec

H = W = 6


@pytest.fixture(scope="module")
def tiny_model() -> ModelHandle:
    """Class 0 likes bright left halves, class 1 bright right halves, class 2 is a constant."""
    linear = nn.Linear(H * W, 3)
    with torch.no_grad():
        left = torch.zeros(H, W)
        left[:, : W // 2] = 1.0
        right = 1.0 - left
        linear.weight.copy_(torch.stack([left, right, torch.zeros(H, W)]).reshape(3, -1))
        linear.bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
    module = nn.Sequential(nn.Flatten(), linear)
    return ModelHandle(
        module, spec=InputSpec(1, H, W), labels=["left", "right", "dark"], model_id="tiny",
        device="cpu", channels_last=False,
    )


@pytest.fixture()
def image_and_mask():
    x = torch.full((1, 1, H, W), 0.4)
    x[..., : W // 2] = 0.6  # clean class: left
    mask = torch.zeros(1, 1, H, W)
    mask[..., W // 2 :] = 1.0  # the attacker may brighten the right half only
    return x, mask


def attack(model, x, mask, steps=10):
    return PGD(eps=0.4, steps=steps, step_size=0.1, random_start=False, early_stop=False).run(
        model, x, torch.tensor([0]), mask=mask, seed=0
    )


def test_centre_is_clean_and_unit_point_is_adversarial(tiny_model, image_and_mask):
    x, mask = image_and_mask
    result = run_to_end(attack(tiny_model, x, mask))
    assert bool(result.success[0])
    adversarial_class = int(result.probs[0].argmax())
    clean_class = int(tiny_model.predict(x)[0].argmax())
    assert clean_class == 0 and adversarial_class == 1

    s = decision_slice(
        tiny_model, x, result.x_adv - x, mask, torch.Generator().manual_seed(0),
        resolution=41, extent=2.0,
    )
    assert isinstance(s, BoundarySlice)
    assert s.class_map.shape == s.confidence.shape == (41, 41)
    centre = s.class_map[20, 20]
    assert s.alphas[20] == 0.0 and s.betas[20] == 0.0
    assert centre == clean_class == s.clean_class
    j = int(np.abs(s.alphas - 1.0).argmin())
    assert abs(s.alphas[j] - 1.0) < 1e-9
    assert s.class_map[20, j] == adversarial_class == s.class_at(1.0, 0.0)
    assert s.u_is_perturbation
    assert s.norm_u == pytest.approx(float((result.x_adv - x).norm()), rel=1e-5)
    assert s.norm_v == pytest.approx(s.norm_u, rel=1e-5)
    assert set(s.classes_present()) >= {0, 1}
    assert np.all((s.confidence > 0) & (s.confidence <= 1))
    assert s.labels == ("left", "right", "dark")
    with pytest.raises(ValueError):
        s.class_map[0, 0] = 5  # read-only


def test_v_is_orthogonal_to_u_and_zero_outside_the_mask(image_and_mask):
    x, mask = image_and_mask
    delta = torch.rand(x.shape, generator=torch.Generator().manual_seed(3)) * mask
    u, v, is_perturbation = plane_basis(x, delta, mask, torch.Generator().manual_seed(1))
    assert is_perturbation
    assert torch.allclose(u, delta)
    assert abs(float((u * v).sum())) < 1e-5 * float(u.norm() * v.norm())
    assert float(v.norm()) == pytest.approx(float(u.norm()), rel=1e-5)
    assert torch.all(v[mask == 0] == 0)
    assert torch.all(u[mask == 0] == 0)


def test_zero_perturbation_gives_a_random_direction_in_the_mask(tiny_model, image_and_mask):
    x, mask = image_and_mask
    u, v, is_perturbation = plane_basis(x, torch.zeros_like(x), mask, torch.Generator().manual_seed(1))
    assert not is_perturbation
    assert float(u.norm()) > 0 and torch.all(u[mask == 0] == 0) and torch.all(v[mask == 0] == 0)
    assert abs(float((u * v).sum())) < 1e-5 * float(u.norm() * v.norm())
    s = decision_slice(tiny_model, x, None, mask, torch.Generator().manual_seed(0), resolution=9)
    assert not s.u_is_perturbation and s.class_map[4, 4] == 0


def test_project_path_puts_clean_at_origin_and_adversarial_at_one(image_and_mask):
    x, mask = image_and_mask
    delta = 0.2 * mask
    u, v, _ = plane_basis(x, delta, mask, torch.Generator().manual_seed(1))
    points = torch.cat([x, x + 0.5 * delta, x + delta, x + delta + 0.3 * v])
    coords = project_path(points, x, u, v)
    assert coords.shape == (4, 2)
    np.testing.assert_allclose(coords, [[0, 0], [0.5, 0], [1, 0], [1, 0.3]], atol=1e-5)


def test_wrapper_throttles_slices_and_always_ends_with_one(tiny_model, image_and_mask):
    x, mask = image_and_mask
    now = [0.0]
    closed = []

    def timed(events):
        try:
            for event in events:
                if isinstance(event, AttackStep):
                    now[0] += 0.1  # each iteration takes 0.1 s of the fake clock
                yield event
        finally:
            closed.append(True)

    stream = with_boundary_slices(
        timed(attack(tiny_model, x, mask, steps=20)), tiny_model, 0, x, mask,
        min_interval_s=0.35, resolution=11, clock=lambda: now[0], max_fraction=1.0,
        live_budget_s=None, final_budget_s=None,
    )
    times, kinds, slices = [], [], []
    for event in stream:
        kinds.append(type(event).__name__)
        if isinstance(event, BoundarySlice):
            slices.append(event)
            times.append(now[0])
    assert kinds.count("AttackStep") == 20
    assert isinstance(event, AttackResult) and kinds[-1] == "AttackResult"
    assert kinds[-2] == "BoundarySlice" and slices[-1].final
    periodic = times[:-1]
    assert len(periodic) >= 2
    assert all(b - a >= 0.35 - 1e-9 for a, b in zip(periodic, periodic[1:]))
    assert len(periodic) <= 1 + 20 * 0.1 / 0.35
    # The path grows with the run, starts at the clean image and ends at the current x_adv.
    assert len(slices[-1].path) > len(slices[0].path)
    np.testing.assert_allclose(slices[-1].path[0], [0, 0], atol=1e-6)
    np.testing.assert_allclose(slices[-1].path[-1], [1, 0], atol=1e-5)
    assert slices[-1].class_at(0, 0) == 0 and slices[-1].class_at(1, 0) == 1
    assert slices[-1].iteration == 20
    assert closed == [True]


def test_wrapper_is_deterministic_and_closes_the_attack(tiny_model, image_and_mask):
    x, mask = image_and_mask
    closed = []

    def events():
        try:
            yield from attack(tiny_model, x, mask, steps=50)
        finally:
            closed.append(True)

    tick = iter(range(10**6))
    fixed = dict(resolution=7, live_budget_s=None, final_budget_s=None, max_fraction=1.0)
    stream = with_boundary_slices(events(), tiny_model, 0, x, mask, min_interval_s=1.0,
                                  clock=lambda: float(next(tick)), **fixed)
    first = [e for _, e in zip(range(8), stream) if isinstance(e, BoundarySlice)]
    assert len(first) == 4  # every step, since the fake clock moves 1 s per look
    stream.close()
    assert closed == [True]
    tick2 = iter(range(10**6))
    again = with_boundary_slices(attack(tiny_model, x, mask, steps=50), tiny_model, 0, x, mask,
                                 min_interval_s=1.0, clock=lambda: float(next(tick2)), **fixed)
    second = [e for _, e in zip(range(8), again) if isinstance(e, BoundarySlice)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.class_map, b.class_map)
        np.testing.assert_allclose(a.path, b.path)


def test_wrapper_adapts_resolution_and_time_share_to_the_model_cost(tiny_model, image_and_mask):
    import time

    x, mask = image_and_mask

    class Slow:
        """The tiny model, 2 ms per image: a stand-in for a large model."""

        labels = tiny_model.labels

        def predict(self, points, batch_size=256):
            time.sleep(0.002 * len(points))
            return tiny_model.predict(points, batch_size)

    steps = []
    stream = with_boundary_slices(
        attack(tiny_model, x, mask, steps=40), Slow(), 0, x, mask, min_interval_s=0.0,
        resolution=41, live_budget_s=0.1, final_budget_s=0.3, max_fraction=0.25,
    )
    started = time.perf_counter()
    for event in stream:
        if isinstance(event, BoundarySlice):
            steps.append(event)
    time.perf_counter() - started
    live, final = steps[:-1], steps[-1]
    assert live[0].resolution == 9  # the first live slice is coarse and measures the cost
    assert all(s.resolution % 2 == 1 and 9 <= s.resolution <= 41 for s in steps)
    # 2 ms a point: 0.1 s buys ~50 points (7×7 → clamped to 9), 0.3 s ~150 points (11×11).
    assert all(s.resolution <= 11 for s in live[1:]) and final.resolution <= 13
    assert final.final and final.resolution >= 9
    # The attack itself is fast here, so live slicing is what takes the time; still only a few
    # slices are computed (each waits 3× its own cost), not one per step.
    assert len(live) < 20


def test_wrapper_picks_the_image_of_a_batch(tiny_model, image_and_mask):
    x, mask = image_and_mask
    batch = torch.cat([torch.full_like(x, 0.5), x])
    events = PGD(eps=0.4, steps=5, step_size=0.1, random_start=False, early_stop=False).run(
        tiny_model, batch, torch.tensor([0, 0]), mask=mask, seed=0
    )
    slices = [e for e in with_boundary_slices(events, tiny_model, 1, batch, mask, resolution=5)
              if isinstance(e, BoundarySlice)]
    assert slices and all(s.x_index == 1 for s in slices)
    with pytest.raises(ValueError):
        next(with_boundary_slices(iter(()), tiny_model, 5, batch, mask))


def test_audit_imports_no_qt():
    code = (
        "import sys, workbench.audit.boundary\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'workbench.gui'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
