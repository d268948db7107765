"""core.tracking: one history point per iteration, events passed through, closing propagates."""
from __future__ import annotations

import pytest
import torch

from workbench.core.events import AttackResult, AttackStep
from workbench.core.tracking import AttackTrace, track


def fake_attack(x: torch.Tensor, steps: int, closed: list | None = None):
    """Steps that move pixel (0, 0) of image 0 by 0.1 per iteration; class 2 gains."""
    try:
        for i in range(1, steps + 1):
            x_adv = x.clone()
            x_adv[0, 0, 0, 0] += 0.1 * i
            logits = torch.tensor([[2.0, 0.5, 0.2 * i], [0.0, 1.0, 0.0]])
            yield AttackStep(
                iteration=i, total=steps, x_adv=x_adv, probs=torch.softmax(logits, 1),
                loss=torch.tensor([0.3 * i, 0.0]), success=torch.tensor([False, False]),
            )
        yield AttackResult(x_adv=x_adv, probs=torch.softmax(logits, 1), success=torch.tensor([True, False]), iterations=steps)
    finally:
        if closed is not None:
            closed.append(True)


def test_one_point_per_iteration_and_values():
    x = torch.zeros(2, 1, 4, 4)
    events = list(track(fake_attack(x, 5), x, 0))
    traces = [e for e in events if isinstance(e, AttackTrace)]
    assert len(traces) == 5 and isinstance(events[-1], AttackResult)
    history = traces[-1].history
    assert list(history["iteration"]) == [1, 2, 3, 4, 5]
    assert "p_target" not in history
    step = traces[-1].step
    assert history["p_true"][-1] == pytest.approx(float(step.probs[0, 0]))
    assert history["p_other"][-1] == pytest.approx(float(step.probs[0, 1:].max()))
    assert history["loss"][-1] == pytest.approx(1.5)
    assert history["linf"][-1] == pytest.approx(0.5)
    assert history["l2"][-1] == pytest.approx(0.5)
    assert list(history["l0"]) == [1, 1, 1, 1, 1]


def test_targeted_history_and_strongest_other_excludes_target():
    x = torch.zeros(2, 1, 4, 4)
    traces = [e for e in track(fake_attack(x, 3), x, 0, target_class=2) if isinstance(e, AttackTrace)]
    history = traces[-1].history
    assert history["p_target"][-1] == pytest.approx(float(traces[-1].step.probs[0, 2]))
    assert history["p_other"][-1] == pytest.approx(float(traces[-1].step.probs[0, 1]))


def test_earlier_histories_do_not_change_and_are_read_only():
    x = torch.zeros(2, 1, 4, 4)
    traces = [e for e in track(fake_attack(x, 300), x, 0) if isinstance(e, AttackTrace)]
    first = traces[0].history["iteration"]
    assert list(first) == [1]
    assert len(traces[150].history["loss"]) == 151
    with pytest.raises(ValueError):
        first[0] = 5


def test_closing_the_wrapper_closes_the_attack():
    x = torch.zeros(2, 1, 4, 4)
    closed: list = []
    wrapped = track(fake_attack(x, 100, closed), x, 0)
    next(wrapped)
    next(wrapped)
    wrapped.close()
    assert closed == [True]


def test_other_events_pass_through_unchanged():
    marker = object()
    x = torch.zeros(1, 1, 2, 2)
    assert list(track(iter([marker]), x, 0)) == [marker]
