"""Smoke versions of the physical attacks' strength checks on the built-in models (the issue's
numbers are checked in tests/bench/test_physical_strength_bench.py): eyeglass frames fitted to
held-out faces dodge and impersonate, and stickers crafted on a few views of a stop sign make
new views read as the target after they are stuck on through the sign's corners and seen under
random changes."""
from __future__ import annotations

import pytest
import torch
from physical_views import SEEN, WORN, fitted, printed, views

from workbench.attacks import ATTACKS, run_to_end
from workbench.attacks.stickers import stick, sticker_texture
from workbench.attacks.transforms import survival_rate
from workbench.core.loaders import load_model
from workbench.zoo.faces import render_faces
from workbench.zoo.signs import render_signs


@pytest.fixture(scope="module")
def faces():
    model = load_model("faces-cnn", device="cpu")
    x, y, marks = views(render_faces, model, 4)
    masks = fitted("eyeglasses", marks, model)
    assert (model.predict(x).argmax(1) == y).all()
    assert masks.flatten(1).mean(1).max() <= 0.10
    return model, x, y, masks


def test_eyeglasses_dodge_face_recognition(faces):
    model, x, y, masks = faces
    attack = ATTACKS.get("eyeglasses")(steps=40, samples=2)
    result = run_to_end(attack.run(model, x, y, mask=masks, seed=0))
    assert result.success.float().mean() >= 0.75
    assert torch.equal(result.x_adv[masks.expand_as(x) == 0], x[masks.expand_as(x) == 0])


def test_eyeglasses_impersonate_a_chosen_person(faces):
    model, x, y, masks = faces
    target = (y + 1) % model.num_classes
    attack = ATTACKS.get("eyeglasses")(steps=40, samples=4)
    result = run_to_end(attack.run(model, x, y, mask=masks, target=target, seed=0))
    assert result.success.float().mean() >= 0.75
    worn = survival_rate(model, printed(result.x_adv), target, targeted=True, changes=WORN, samples=6,
                         generator=torch.Generator().manual_seed(1))
    assert worn.mean() >= 0.5


def test_stickers_crafted_on_some_views_fool_new_views():
    model = load_model("signs-cnn", device="cpu")
    target = model.label_index("no entry")
    x, y, marks = views(render_signs, model, 4, classes=["stop"])
    quads = torch.tensor([m["sign"] for m in marks])
    masks = fitted("stop-stickers", marks, model)
    attack = ATTACKS.get("rp2")(steps=60, samples=4)
    result = run_to_end(attack.run(model, x, y, mask=masks, target=torch.full_like(y, target), seed=0))
    texture = sticker_texture(result.x_adv, masks, quads)

    new_x, new_y, new_marks = views(render_signs, model, 10, start=4, classes=["stop"])
    assert (model.predict(new_x).argmax(1) == new_y).all()
    stuck = printed(stick(texture, new_x, fitted("stop-stickers", new_marks, model), torch.tensor([m["sign"] for m in new_marks])))
    goal = torch.full_like(new_y, target)
    seen = survival_rate(model, stuck, goal, targeted=True, changes=SEEN, samples=5, generator=torch.Generator().manual_seed(2))
    assert seen.mean() >= 0.8
