"""The single-image live run recipe (:func:`workbench.audit.live.live_run`) and the one rule for
unlabelled images (:func:`workbench.core.goals.goal_labels`)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.attacks.pgd import PGD
from workbench.attacks.square import Square
from workbench.audit.boundary import BoundarySlice
from workbench.audit.live import live_run
from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackResult
from workbench.core.goals import goal_labels
from workbench.core.oracle import Oracle
from workbench.core.tracking import AttackTrace

from test_boundary import H, W, tiny_model  # noqa: F401 - the fixture: left, right and dark halves


@pytest.fixture()
def model(tiny_model):  # noqa: F811
    return tiny_model


def left_image() -> np.ndarray:
    x = np.full((1, H, W), 0.4, dtype=np.float32)
    x[:, :, : W // 2] = 0.6
    return x


def test_goal_labels_keep_known_labels_and_use_the_model_answer_for_unknown_ones():
    probs = torch.tensor([[0.1, 0.9, 0.0], [0.7, 0.2, 0.1]])
    assert torch.equal(goal_labels(torch.tensor([2, -1]), probs), torch.tensor([2, 0]))
    assert goal_labels(np.array([-1, 1]), probs.numpy()).tolist() == [1, 1]
    assert goal_labels(-1, probs[1]) == 0 and goal_labels(-1, probs[0].numpy()) == 1
    called = []
    assert goal_labels(2, lambda: called.append(1)) == 2 and not called  # no forward pass when labelled


def test_a_white_box_live_run_tracks_slices_and_finishes(model):
    x = left_image()
    mask = np.zeros((H, W), dtype=np.float32)
    mask[:, W // 2:] = 1
    run = live_run(model, PGD(eps=0.3, steps=10), x, -1, mask=mask, seed=1)
    assert run.true_class == 0 and not run.black_box and run.access is model  # the model's own answer
    assert run.mask.shape == (1, 1, H, W) and run.x_extent is None and run.budget == 0
    events = list(run.events())
    traces = [e for e in events if isinstance(e, AttackTrace)]
    result = next(e for e in events if isinstance(e, AttackResult))
    assert traces and any(isinstance(e, BoundarySlice) for e in events)
    assert torch.equal(result.x_adv[..., : W // 2], torch.from_numpy(x)[None][..., : W // 2])  # outside the mask


def test_an_empty_mask_means_every_pixel(model):
    run = live_run(model, PGD(eps=0.1, steps=2), left_image(), 0, mask=np.zeros((H, W)))
    assert run.mask is None and run.mask_array is None


def test_a_black_box_live_run_goes_through_an_oracle_with_its_budget(model):
    run = live_run(model, Square(eps=0.3, max_queries=50), left_image(), 0, oracle_params={"budget": 20})
    assert run.black_box and isinstance(run.access, Oracle) and run.budget == 20 and run.x_extent == 20.0
    events = list(run.events())
    assert any(isinstance(e, AttackResult) for e in events)
    assert 0 < run.access.total_queries <= 20


def test_the_target_may_not_be_the_image_own_class(model):
    with pytest.raises(WorkbenchError, match="own class \\(left\\)"):
        live_run(model, PGD(eps=0.1), left_image(), -1, target=0)
