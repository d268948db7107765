"""The physical attacks' parts: the sampler of physical changes (expectation over
transformation), the texture inside the mask, smoothness and printability, and the attacks'
behaviour on a small colour model (the table in test_attack_table.py covers success, the mask
invariant and determinism on fashion-cnn)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from workbench.attacks import ATTACKS, run_to_end
from workbench.attacks.base import make_problem
from workbench.attacks.physical import MaskedTexture, mask_quads, total_variation
from workbench.attacks.stickers import stick, sticker_texture
from workbench.attacks.transforms import (
    PhysicalChanges, apply_changes, homography_from_points, survival_rate, warp, warp_quads,
)
from workbench.core.errors import DataLoadError
from workbench.core.landmarks import fit_template
from workbench.core.model import ModelHandle
from workbench.core.printable import default_palette, non_printability
from workbench.core.spec import InputSpec

SIZE = 32
EYES = {"left_eye": [10.0, 13.0], "right_eye": [21.0, 13.0]}
CHANGES = PhysicalChanges(shift=0.05, rotation=10, scale=0.1, perspective=0.05, brightness=0.2)


@pytest.fixture(scope="module")
def colour_model():
    """A small random colour CNN (3×32×32, 4 classes), the same on every run."""
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(128, 4),
    )
    return ModelHandle(module, spec=InputSpec(3, SIZE, SIZE), labels=list("abcd"), model_id="toy", device="cpu")


@pytest.fixture(scope="module")
def colour_batch(colour_model):
    """Six smooth random colour images labelled as the model classifies them."""
    generator = torch.Generator().manual_seed(1)
    x = torch.nn.functional.interpolate(torch.rand(6, 3, 8, 8, generator=generator), size=SIZE, mode="bilinear")
    return x, colour_model.predict(x).argmax(1)


@pytest.fixture(scope="module")
def glasses():
    return fit_template("eyeglasses", EYES, (SIZE, SIZE))


# -- the sampler of physical changes ----------------------------------------------------------------


def test_no_change_leaves_the_image_as_it_is():
    x = torch.rand(3, 3, 16, 20)
    changes = PhysicalChanges().sample(3, torch.Generator().manual_seed(0), size=(16, 20))
    assert torch.allclose(apply_changes(x, changes), x, atol=1e-5)


def test_unchanged_samples_are_the_identity():
    x = torch.rand(4, 3, 16, 16)
    unchanged = torch.tensor([True, False, True, False])
    changes = CHANGES.sample(4, torch.Generator().manual_seed(0), size=(16, 16), unchanged=unchanged)
    seen = apply_changes(x, changes)
    assert torch.allclose(seen[unchanged], x[unchanged], atol=1e-5)
    assert not torch.allclose(seen[~unchanged], x[~unchanged], atol=1e-2)


def test_the_same_seed_draws_the_same_changes():
    first = CHANGES.sample(5, torch.Generator().manual_seed(3), size=(32, 32))
    second = CHANGES.sample(5, torch.Generator().manual_seed(3), size=(32, 32))
    third = CHANGES.sample(5, torch.Generator().manual_seed(4), size=(32, 32))
    assert torch.equal(first.homography, second.homography) and torch.equal(first.gain, second.gain)
    assert not torch.equal(first.homography, third.homography)


def test_changes_stay_within_their_ranges():
    changes = PhysicalChanges(brightness=0.2).sample(200, torch.Generator().manual_seed(0), size=(32, 32))
    assert changes.gain.min() >= 0.8 and changes.gain.max() <= 1.2 and changes.gain.std() > 0.05
    shifts = PhysicalChanges(shift=0.1).sample(200, torch.Generator().manual_seed(0), size=(32, 32))
    # A pure shift moves every pixel by the same amount, at most 10 % of the size (0.2 normalized).
    assert torch.allclose(shifts.homography[:, :2, :2], torch.eye(2).expand(200, 2, 2), atol=1e-5)
    assert shifts.homography[:, :2, 2].abs().max() <= 0.2 + 1e-5


def test_a_shift_moves_the_content():
    x = torch.zeros(1, 1, 16, 16)
    x[..., 4, 4] = 1
    changes = PhysicalChanges(shift=0.25).sample(1, torch.Generator().manual_seed(0), size=(16, 16))
    moved = warp(x, changes.homography, padding="zeros")
    dx, dy = (changes.homography[0, :2, 2] * -8).tolist()  # content moves against the read offset
    peak = (moved[0, 0] == moved.max()).nonzero()[0].tolist()
    assert abs(peak[1] - (4 + dx)) <= 1 and abs(peak[0] - (4 + dy)) <= 1


def test_homography_maps_the_four_points():
    source = torch.tensor([[[0.0, 0], [1, 0], [1, 1], [0, 1]]])
    target = torch.tensor([[[0.1, 0.2], [0.9, 0.0], [1.2, 1.1], [-0.1, 0.8]]])
    homography = homography_from_points(source, target)[0]
    mapped = torch.cat([source[0].double(), torch.ones(4, 1, dtype=torch.float64)], 1) @ homography.T
    assert torch.allclose(mapped[:, :2] / mapped[:, 2:], target[0].double(), atol=1e-9)


def test_the_changes_are_differentiable():
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64) * 0.5 + 0.2
    changes = CHANGES.sample(2, torch.Generator().manual_seed(0), size=(6, 6))
    homography = changes.homography.double()
    assert torch.autograd.gradcheck(lambda v: warp(v, homography), (x.requires_grad_(True),))
    image = torch.rand(2, 3, 16, 16, requires_grad=True)
    apply_changes(image, CHANGES.sample(2, torch.Generator().manual_seed(0), size=(16, 16))).sum().backward()
    assert image.grad.abs().sum() > 0


def test_the_frame_moves_with_the_face():
    """Warping the face with its frame equals warping face, frame and mask apart: the frame's
    texture is where the warped mask is and the face elsewhere."""
    size = 96  # frames thick enough to have pixels wholly inside after a warp
    glasses = fit_template("eyeglasses", {key: [3 * v for v in xy] for key, xy in EYES.items()}, (size, size))
    face, frame = torch.rand(1, 3, size, size), torch.rand(1, 3, size, size)
    worn = torch.where(glasses > 0, frame, face)
    changes = CHANGES.sample(1, torch.Generator().manual_seed(2), size=(size, size))
    seen = apply_changes(worn, changes)
    moved_mask = warp(glasses, changes.homography, padding="zeros")
    on_frame, off_frame = (moved_mask > 0.999).expand_as(seen), (moved_mask < 0.001).expand_as(seen)
    assert on_frame.any() and not torch.equal(moved_mask, glasses)
    # (up to the < 0.001 share that bilinear reading may take from the other side)
    assert torch.allclose(seen[on_frame], apply_changes(frame, changes)[on_frame], atol=2e-3)
    assert torch.allclose(seen[off_frame], apply_changes(face, changes)[off_frame], atol=2e-3)


def test_quads_carry_their_content_to_other_quads():
    image = torch.rand(1, 3, 24, 24)
    square = torch.tensor([[[-0.5, -0.5], [23.5, -0.5], [23.5, 23.5], [-0.5, 23.5]]])
    assert torch.allclose(warp_quads(image, square, square, (24, 24)), image, atol=1e-5)
    # Twice as large: the pixel at column 7, row 5 becomes a blob centred on columns 14–15,
    # rows 10–11, as bright there as anywhere.
    dot = torch.zeros(1, 1, 24, 24)
    dot[..., 5, 7] = 1
    moved = warp_quads(dot, square, square * 2 + 0.5, (48, 48))[0, 0]
    rows, cols = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    centre = ((moved * cols).sum() / moved.sum(), (moved * rows).sum() / moved.sum())
    assert torch.allclose(torch.stack(centre), torch.tensor([14.5, 10.5]), atol=1e-4)
    assert moved[10:12, 14:16].min() == moved.max()


def test_survival_rate_counts_the_changes_the_goal_survives(colour_model, colour_batch):
    x, y = colour_batch
    unchanged = survival_rate(colour_model, x, y, targeted=True, changes=PhysicalChanges(), samples=3,
                              generator=torch.Generator().manual_seed(0))
    assert torch.equal(unchanged, torch.ones(len(x)))  # y is the model's own class
    dodged = survival_rate(colour_model, x, y, targeted=False, changes=PhysicalChanges(), samples=3,
                           generator=torch.Generator().manual_seed(0))
    assert torch.equal(dodged, torch.zeros(len(x)))
    shaken = survival_rate(colour_model, x, y, targeted=True, changes=CHANGES, samples=8,
                           generator=torch.Generator().manual_seed(0))
    assert ((shaken * 8).round() == shaken * 8).all() and shaken.min() >= 0 and shaken.max() <= 1


def test_stickers_move_from_view_to_view_through_the_sign_corners():
    quads = torch.tensor([[[4.0, 6.0], [27.0, 4.0], [28.0, 27.0], [3.0, 25.0]], [[8.0, 8.0], [22.0, 9.0], [22.0, 23.0], [8.0, 22.0]]])
    masks = torch.cat([fit_template("stop-stickers", {"sign": q.tolist()}, (SIZE, SIZE)) for q in quads])
    red = torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1)
    views = torch.where(masks > 0, red, torch.rand(2, 3, SIZE, SIZE))
    texture = sticker_texture(views, masks, quads)
    assert texture.shape == (1, 3, 128, 128)
    assert torch.allclose(texture[0, :, 30, 64], red.view(3), atol=0.05)  # inside the top bar
    new_quad = torch.tensor([[[2.0, 3.0], [29.0, 2.0], [30.0, 29.0], [2.0, 28.0]]])
    new_mask = fit_template("stop-stickers", {"sign": new_quad[0].tolist()}, (SIZE, SIZE))
    background = torch.rand(1, 3, SIZE, SIZE)
    stuck = stick(texture, background, new_mask, new_quad)
    inside = new_mask.expand_as(stuck) > 0
    assert torch.equal(stuck[~inside], background[~inside])
    assert (stuck - red).abs().amax(dim=1)[new_mask[:, 0] > 0].median() < 0.1


# -- texture, smoothness, printability --------------------------------------------------------------


def test_total_variation_counts_only_changes_inside_the_mask():
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1
    flat = torch.full((1, 3, 8, 8), 0.4)
    assert total_variation(flat, mask).item() == pytest.approx(0, abs=1e-3)
    outside = flat.clone()
    outside[..., 7, :] = 1.0
    assert total_variation(outside, mask).item() == pytest.approx(0, abs=1e-3)
    striped = flat.clone()
    striped[..., :, 3] = 1.0
    assert total_variation(striped, mask).item() > 0.3


def test_the_quad_around_a_mask_follows_its_perspective():
    mask = torch.zeros(2, 1, 16, 16)
    mask[0, :, 3:7, 2:12] = 1  # an upright rectangle: its outer corners
    quad = [[2.0, 5.0], [13.0, 2.0], [13.0, 14.0], [2.0, 11.0]]  # the left edge is the shorter
    mask[1] = fit_template("stop-stickers", {"sign": quad}, (16, 16))[0]
    quads = mask_quads(mask)
    assert quads[0].tolist() == [[1.5, 2.5], [11.5, 2.5], [11.5, 6.5], [1.5, 6.5]]
    # The stickers' outline narrows to the left as the sign does.
    assert (quads[1, 3, 1] - quads[1, 0, 1]) < (quads[1, 2, 1] - quads[1, 1, 1])
    assert torch.equal(mask_quads(torch.zeros(1, 1, 4, 6))[0], torch.tensor([[-0.5, -0.5], [5.5, -0.5], [5.5, 3.5], [-0.5, 3.5]], dtype=torch.float64))


def test_a_shared_texture_is_one_frame_per_person_and_target(colour_model, glasses):
    x = torch.rand(4, 3, SIZE, SIZE)
    y = torch.tensor([0, 0, 1, 0])
    target = torch.tensor([2, 2, 2, 3])
    problem = make_problem(colour_model, x, y, mask=glasses, target=target)
    texture = MaskedTexture(problem, shared=True, initial="random", generator=torch.Generator().manual_seed(0))
    assert texture.values.shape[0] == 3  # (0 → 2), (1 → 2), (0 → 3)
    worn = texture.images()
    inside = (glasses[0] > 0).expand(3, -1, -1)
    assert torch.equal(worn[0][inside], worn[1][inside])
    assert not torch.equal(worn[0][inside], worn[2][inside]) and not torch.equal(worn[0][inside], worn[3][inside])
    assert torch.equal(worn[:, :, ~glasses[0, 0].bool()], x[:, :, ~glasses[0, 0].bool()])


# -- the attacks on a colour model ----------------------------------------------------------------


@pytest.mark.parametrize("attack_id", ["eyeglasses", "rp2"])
def test_the_printability_weight_makes_colours_printable(attack_id, colour_model, colour_batch, glasses):
    x, y = colour_batch
    palette = default_palette()
    scores = []
    for weight in (0.0, 2.0):
        attack = ATTACKS.get(attack_id)(steps=15, samples=2, nps_weight=weight, initial="random", shared=False)
        result = run_to_end(attack.run(colour_model, x, y, mask=glasses, seed=0))
        scores.append(non_printability(result.x_adv, glasses.expand(len(x), -1, -1, -1), palette).mean().item())
    assert scores[1] < 0.7 * scores[0]


def test_the_smoothness_weight_smooths_the_frame(colour_model, colour_batch, glasses):
    x, y = colour_batch
    variation = []
    for weight in (0.0, 2.0):
        attack = ATTACKS.get("eyeglasses")(steps=15, samples=2, tv_weight=weight, nps_weight=0, initial="random")
        result = run_to_end(attack.run(colour_model, x, y, mask=glasses, seed=0))
        variation.append(total_variation(result.x_adv, glasses.expand(len(x), -1, -1, -1)).mean().item())
    assert variation[1] < 0.7 * variation[0]


def test_a_palette_file_is_used_and_a_bad_one_named(colour_model, colour_batch, glasses, tmp_path):
    x, y = colour_batch
    (tmp_path / "bw.txt").write_text("0 0 0\n255 255 255\n")
    attack = ATTACKS.get("eyeglasses")(steps=15, samples=2, nps_weight=5.0, palette=str(tmp_path / "bw.txt"))
    result = run_to_end(attack.run(colour_model, x, y, mask=glasses, seed=0))
    inside = result.x_adv[glasses.expand(len(x), 3, -1, -1) > 0]
    assert ((inside - 0.5).abs() > 0.2).all()  # from grey towards black or white
    with pytest.raises(DataLoadError, match="missing.txt"):
        run_to_end(ATTACKS.get("eyeglasses")(palette=str(tmp_path / "missing.txt")).run(colour_model, x, y, mask=glasses))


def test_shared_frames_give_every_photo_of_a_person_the_same_frame(colour_model, colour_batch, glasses):
    x, y = colour_batch
    same = torch.zeros_like(y)
    result = run_to_end(ATTACKS.get("eyeglasses")(steps=5, samples=2, shared=True).run(colour_model, x, same, mask=glasses, seed=0))
    inside = (glasses[0] > 0).expand(3, -1, -1)
    frames = torch.stack([image[inside] for image in result.x_adv])
    assert torch.allclose(frames, frames[:1].expand_as(frames), atol=1e-6)
    assert not torch.equal(frames[0], x[0][inside])


def test_the_patch_is_one_patch_pasted_in_the_middle_of_each_mask(colour_model, colour_batch):
    x, y = colour_batch
    mask = torch.zeros(len(x), 1, SIZE, SIZE)
    mask[:3, :, 2:18, 2:18] = 1  # room for the whole patch: 10 pixels at the box's centre
    mask[3:, :, 20:26, 20:30] = 1  # too small: shrunk to 6 pixels
    attack = ATTACKS.get("patch")(steps=5, samples=2, size=0.3, shape="square")
    result = run_to_end(attack.run(colour_model, x, y, mask=mask, seed=0))
    changed = (result.x_adv != x).any(dim=1)
    assert changed[:3, 5:15, 5:15].float().mean() > 0.9 and not changed[:3, :5].any() and not changed[:3, 15:].any()
    assert torch.equal(result.x_adv[0, :, 5:15, 5:15], result.x_adv[1, :, 5:15, 5:15])
    assert changed[3:, 20:26, 22:28].float().mean() > 0.9 and not changed[3:, :, :22].any()


def test_targeted_patches_are_one_per_target(colour_model, colour_batch):
    x, y = colour_batch
    target = torch.tensor([0, 0, 1, 1, 2, 2])
    result = run_to_end(ATTACKS.get("patch")(steps=3, samples=1, size=0.3, shape="square").run(colour_model, x, y, target=target, seed=0))
    patches = result.x_adv[:, :, 11:21, 11:21]
    assert torch.equal(patches[0], patches[1]) and torch.equal(patches[2], patches[3])
    assert not torch.equal(patches[0], patches[2])


@pytest.mark.parametrize("attack_id", ["eyeglasses", "rp2", "patch"])
def test_physical_attacks_change_only_the_frame_and_repeat_under_a_seed(attack_id, colour_model, colour_batch, glasses):
    x, y = colour_batch
    attack = ATTACKS.get(attack_id)(steps=4, samples=2)
    first = run_to_end(attack.run(colour_model, x, y, mask=glasses, target=(y + 1) % 4, seed=5))
    second = run_to_end(attack.run(colour_model, x, y, mask=glasses, target=(y + 1) % 4, seed=5))
    outside = (glasses == 0).expand_as(x)
    assert torch.equal(first.x_adv[outside], x[outside]) and (first.x_adv != x).any()
    assert torch.equal(first.x_adv, second.x_adv)
