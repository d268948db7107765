"""The physical attacks' strength checks of issue 4 on the built-in models (``make bench``).

* Eyeglass frames fitted to held-out faces of ``faces-cnn`` (each frame ≤ 10 % of the pixels)
  dodge recognition on ≥ 95 % of the faces and impersonate a chosen person on ≥ 80 % of
  source/target pairs; printed (8 bits per colour) and worn — random shifts, turns, changes of
  size and of light — the impersonation still holds on ≥ 60 % of the views.
* Stickers crafted on a few views of a stop sign for ``signs-cnn`` and stuck through the sign's
  corners on new held-out views make ≥ 80 % of them, seen under random changes of perspective,
  distance, angle, place and light, read as the target.

Each test prints its figures as one JSON line (run with ``-s`` to see them).
"""
from __future__ import annotations

import json

import pytest
import torch
from physical_views import SEEN, WORN, fitted, printed, views

from workbench.attacks import ATTACKS, run_to_end
from workbench.attacks.stickers import stick, sticker_texture
from workbench.attacks.transforms import survival_rate
from workbench.core.loaders import load_model
from workbench.zoo.faces import render_faces
from workbench.zoo.signs import render_signs

pytestmark = pytest.mark.bench

FACES, PAIRS, CRAFTING_VIEWS, HELD_OUT_VIEWS, CHANGES_PER_VIEW = 20, 15, 8, 40, 10


@pytest.fixture(scope="module")
def faces():
    model = load_model("faces-cnn", device="cpu")
    x, y, marks = views(render_faces, model, FACES)
    correct = model.predict(x).argmax(1) == y
    masks = fitted("eyeglasses", marks, model)
    coverage = masks.flatten(1).mean(1)
    assert coverage.max() <= 0.10
    return model, x[correct], y[correct], masks[correct], coverage


def test_eyeglasses_dodge(faces):
    model, x, y, masks, coverage = faces
    result = run_to_end(ATTACKS.get("eyeglasses")(steps=300, samples=2).run(model, x, y, mask=masks, seed=0))
    rate = result.success.float().mean().item()
    print(json.dumps({"check": "eyeglasses dodging", "faces": len(x), "success": rate,
                      "frame coverage": [round(coverage.min().item(), 4), round(coverage.max().item(), 4)]}))
    assert rate >= 0.95


def test_eyeglasses_impersonate_and_survive_being_worn(faces):
    model, x, y, masks, _ = faces
    x, y, masks = x[:PAIRS], y[:PAIRS], masks[:PAIRS]
    target = (y + 1 + torch.arange(len(y)) % (model.num_classes - 1)) % model.num_classes  # never the own class
    attack = ATTACKS.get("eyeglasses")(steps=200, samples=8, confidence=20)
    result = run_to_end(attack.run(model, x, y, mask=masks, target=target, seed=0))
    worn = survival_rate(model, printed(result.x_adv), target, targeted=True, changes=WORN,
                         samples=CHANGES_PER_VIEW, generator=torch.Generator().manual_seed(1))
    figures = {"check": "eyeglasses impersonation", "pairs": len(x), "success": result.success.float().mean().item(),
               "worn views as the target": worn.mean().item()}
    print(json.dumps(figures))
    assert figures["success"] >= 0.80
    assert figures["worn views as the target"] >= 0.60


def test_stickers_make_held_out_stop_signs_read_as_the_target():
    model = load_model("signs-cnn", device="cpu")
    target = model.label_index("no entry")
    x, y, marks = views(render_signs, model, CRAFTING_VIEWS, classes=["stop"])
    masks = fitted("stop-stickers", marks, model)
    attack = ATTACKS.get("rp2")(steps=200, samples=8)
    result = run_to_end(attack.run(model, x, y, mask=masks, target=torch.full_like(y, target), seed=0))
    texture = sticker_texture(result.x_adv, masks, torch.tensor([m["sign"] for m in marks]))

    new_x, new_y, new_marks = views(render_signs, model, HELD_OUT_VIEWS, start=CRAFTING_VIEWS, classes=["stop"])
    new_masks = fitted("stop-stickers", new_marks, model)
    stuck = printed(stick(texture, new_x, new_masks, torch.tensor([m["sign"] for m in new_marks])))
    goal = torch.full_like(new_y, target)
    seen = survival_rate(model, stuck, goal, targeted=True, changes=SEEN, samples=CHANGES_PER_VIEW,
                         generator=torch.Generator().manual_seed(2))
    clean = survival_rate(model, new_x, new_y, targeted=True, changes=SEEN, samples=CHANGES_PER_VIEW,
                          generator=torch.Generator().manual_seed(2))
    figures = {"check": "stop-sign stickers", "target": "no entry", "crafting views": len(x),
               "held-out views": len(new_x), "sticker coverage max": new_masks.flatten(1).mean(1).max().item(),
               "held-out views as the target, unchanged": (model.predict(stuck).argmax(1) == target).float().mean().item(),
               "held-out views as the target, under changes": seen.mean().item(),
               "clean held-out views read as stop under changes": clean.mean().item()}
    print(json.dumps(figures))
    assert figures["held-out views as the target, under changes"] >= 0.80
