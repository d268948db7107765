"""Decision-boundary slices (workbench.audit.boundary) on a tiny linear model. Qt-free."""
from __future__ import annotations

import dataclasses
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


class FakeTime:
    """A clock for the wrapper: each attack step takes ``step_s``, each grid point ``point_s``."""

    def __init__(self, model: ModelHandle, step_s: float, point_s: float) -> None:
        self.now = 0.0
        self.model, self.step_s, self.point_s = model, step_s, point_s
        self.labels, self.device = model.labels, model.device

    def __call__(self) -> float:
        return self.now

    def predict(self, points, batch_size=256):  # the model, as the slices see it
        self.now += self.point_s * len(points)
        return self.model.predict(points, batch_size)

    def steps(self, events):
        """Pass an attack's events through, advancing the clock by one step each."""
        for event in events:
            if isinstance(event, AttackStep):
                self.now += self.step_s
            yield event


def sliced_run(model, x, mask, fake: FakeTime, steps: int, **options):
    """The events of a wrapped PGD run timed by ``fake``: (events, slices, seconds of slicing)."""
    events = list(with_boundary_slices(
        fake.steps(attack(model, x, mask, steps=steps)), fake, 0, x, mask, clock=fake, **options
    ))
    slices = [e for e in events if isinstance(e, BoundarySlice)]
    return events, slices, sum(s.resolution ** 2 for s in slices) * fake.point_s


def test_slices_stay_live_within_budget_and_end_at_full_resolution(tiny_model, image_and_mask):
    x, mask = image_and_mask
    # 200 steps of 10 ms; a grid point costs 50 µs (a 31×31 slice 48 ms, a 7×7 one 2.5 ms)
    fake = FakeTime(tiny_model, step_s=0.01, point_s=50e-6)
    events, slices, slicing = sliced_run(tiny_model, x, mask, fake, 200, resolution=31,
                                         min_interval_s=0.25, max_fraction=0.05, live_fraction=0.02)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("AttackStep") == 200 and kinds[-1] == "AttackResult"
    assert kinds[-2] == "BoundarySlice" and slices[-1].final
    live = slices[:-1]
    assert not any(s.final for s in live)
    # Live: the first after step 1, then every ≥ 0.25 s (here every 25–30 steps), all the run long.
    at = [s.iteration for s in live]
    assert at[0] == 1 and len(live) >= 6 and at[-1] > 150
    assert all(b - a >= 25 for a, b in zip(at, at[1:]))
    assert live[0].resolution == 7 and all(7 <= s.resolution <= 31 for s in live)
    assert sum(s.resolution ** 2 for s in live) * fake.point_s <= 0.02 * fake.now
    # The final slice is at full resolution, and all slicing stays within 5 % of the run.
    assert slices[-1].resolution == 31 and slices[-1].iteration == 200
    assert slicing <= 0.05 * fake.now + 1e-9
    # The path grows with the run, starts at the clean image and ends at the current x_adv.
    assert len(slices[-1].path) > len(slices[0].path)
    np.testing.assert_allclose(slices[-1].path[0], [0, 0], atol=1e-6)
    np.testing.assert_allclose(slices[-1].path[-1], [1, 0], atol=1e-5)
    assert slices[-1].class_at(0, 0) == 0 and slices[-1].class_at(1, 0) == 1


def test_a_short_run_gets_a_coarser_final_slice_unless_the_budget_is_lifted(tiny_model, image_and_mask):
    x, mask = image_and_mask
    # 20 steps of 10 ms and a 7×7 live slice after step 1 (2.5 ms): what is left of 5 % of the
    # run buys ~8 ms, about 160 grid points: 11×11.
    fake = FakeTime(tiny_model, step_s=0.01, point_s=50e-6)
    _, slices, slicing = sliced_run(tiny_model, x, mask, fake, 20, resolution=31)
    assert [(s.final, s.resolution) for s in slices] == [(False, 7), (True, 11)]
    assert slicing <= 0.05 * fake.now + 1e-9
    fake = FakeTime(tiny_model, step_s=0.01, point_s=50e-6)
    _, slices, _ = sliced_run(tiny_model, x, mask, fake, 20, resolution=31, max_fraction=1.0)
    assert slices[-1].final and slices[-1].resolution == 31


def test_an_attack_without_steps_gets_a_measured_final_slice(tiny_model, image_and_mask):
    x, mask = image_and_mask
    fake = FakeTime(tiny_model, step_s=0.0, point_s=50e-6)
    result = [e for e in attack(tiny_model, x, mask, steps=5) if isinstance(e, AttackResult)]

    def only_the_result():  # the attack takes 0.2 s and reports only its result
        fake.now += 0.2
        yield from result

    events = list(with_boundary_slices(only_the_result(), fake, 0, x, mask, clock=fake, resolution=31))
    assert [type(e).__name__ for e in events] == ["BoundarySlice", "AttackResult"]
    # A 7×7 slice measured 50 µs a point; what is left of 5 % of ~0.2 s buys an 11×11 one.
    assert events[0].final and events[0].resolution == 11


def test_slices_leave_the_attack_bit_identical(tiny_model, image_and_mask):
    x, mask = image_and_mask
    plain = list(attack(tiny_model, x, mask, steps=30))
    fake = FakeTime(tiny_model, step_s=0.05, point_s=1e-5)
    events, slices, _ = sliced_run(tiny_model, x, mask, fake, 30, resolution=11)
    assert len(slices) > 2
    passed = [e for e in events if not isinstance(e, BoundarySlice)]
    assert len(passed) == len(plain)
    for ours, theirs in zip(passed, plain):
        assert type(ours) is type(theirs)
        for field in dataclasses.fields(ours):
            a, b = getattr(ours, field.name), getattr(theirs, field.name)
            if isinstance(a, dict):
                assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), field.name
            else:
                assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, field.name


def test_wrapper_is_deterministic_and_closes_the_attack(tiny_model, image_and_mask):
    x, mask = image_and_mask
    closed = []

    def events():
        try:
            yield from attack(tiny_model, x, mask, steps=50)
        finally:
            closed.append(True)

    fixed = dict(resolution=7, min_resolution=7, max_fraction=1.0, live_fraction=1.0)
    tick = iter(range(10**6))
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


def test_a_slow_model_gets_coarse_slices_less_often(tiny_model, image_and_mask):
    x, mask = image_and_mask
    # A grid point costs 2 ms (a large model): a 7×7 slice takes 0.1 s, 5× a step.
    fake = FakeTime(tiny_model, step_s=0.02, point_s=0.002)
    _, slices, _ = sliced_run(tiny_model, x, mask, fake, 200, resolution=41,
                              min_interval_s=0.25, live_fraction=0.02)
    live = slices[:-1]
    assert all(s.resolution == 7 for s in live)
    # After the first ~0.1 s slice, a second fits 2 % only after ~10 s (the attack takes 4 s).
    assert 1 <= len(live) <= 2
    assert sum(s.resolution ** 2 for s in live) * fake.point_s <= 0.02 * fake.now + 0.1


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
