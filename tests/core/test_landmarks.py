"""Landmarks from files and OpenCV's cascades, and mask templates fitted to them."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from workbench.core.datasets import open_data
from workbench.core.errors import DataLoadError, MaskError
from workbench.core.images import save_png
from workbench.core.landmarks import detect_eyes, fit_template, landmarks_for, load_landmarks
from workbench.core.spec import InputSpec


def drawn_face(size: int = 64, eyes=((23.75, 27.5), (40.25, 27.5))) -> np.ndarray:
    """A cartoon face (RGB uint8, size²) with its eyes centred at ``eyes`` (in 64-pixel units)."""
    s = size / 64
    image = np.full((size, size, 3), 200, np.uint8)

    def pt(x, y):
        return int(round(x * s * 16)), int(round(y * s * 16))

    cv2.ellipse(image, pt(32, 32.5), (int(20 * s * 16), int(26 * s * 16)), 0, 0, 360, (224, 172, 140), -1, cv2.LINE_AA, 4)
    for x, y in eyes:
        cv2.ellipse(image, pt(x, y), (int(4.5 * s * 16), int(2.5 * s * 16)), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA, 4)
        cv2.circle(image, pt(x, y), int(2 * s * 16), (60, 40, 20), -1, cv2.LINE_AA, 4)
        cv2.circle(image, pt(x, y), int(1 * s * 16), (0, 0, 0), -1, cv2.LINE_AA, 4)
        cv2.line(image, pt(x - 5, y - 5), pt(x + 5, y - 5.5), (60, 40, 30), max(1, int(1.2 * s)), cv2.LINE_AA, 4)
    cv2.line(image, pt(32, 30), pt(30.5, 40), (170, 120, 100), max(1, int(s)), cv2.LINE_AA, 4)
    cv2.ellipse(image, pt(32, 47.5), (int(7.5 * s * 16), int(2.5 * s * 16)), 0, 0, 180, (150, 50, 50), max(1, int(1.2 * s)), cv2.LINE_AA, 4)
    return image


# -- landmark files -----------------------------------------------------------------------------


def test_a_folder_without_landmarks_has_none(tmp_path):
    assert load_landmarks(tmp_path) == {}


def test_landmarks_file_is_read(tmp_path):
    marks = {"a/1.png": {"left_eye": [1, 2], "right_eye": [3.5, 2]}, "b.png": {"sign": [[0, 0], [1, 0], [1, 1], [0, 1]]}}
    (tmp_path / "landmarks.json").write_text(json.dumps(marks))
    assert load_landmarks(tmp_path) == marks


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"a.png": [1, 2]}', '{"a.png": {"left_eye": "here"}}',
                                  '{"a.png": {"left_eye": [1, 2, 3]}}'])
def test_corrupt_landmarks_file_is_a_clear_error(tmp_path, text):
    (tmp_path / "landmarks.json").write_text(text)
    with pytest.raises(DataLoadError, match="landmarks.json"):
        load_landmarks(tmp_path)


def test_landmarks_for_an_image_of_a_folder_scaled_to_the_model_input(tmp_path):
    spec = InputSpec(channels=3, height=32, width=32)
    folder = tmp_path / "faces" / "alice"
    folder.mkdir(parents=True)
    save_png(folder / "1.png", torch.rand(3, 64, 64))
    save_png(folder / "2.png", torch.rand(3, 64, 64))
    (tmp_path / "faces" / "landmarks.json").write_text(
        json.dumps({"alice/1.png": {"left_eye": [19.5, 27.5], "right_eye": [43.5, 27.5]}})
    )
    data = open_data(str(tmp_path / "faces"), spec, ["alice"])
    index = data.names.index("alice/1.png")
    # Pixel centres stay pixel centres: (x + 0.5) / 2 − 0.5.
    assert landmarks_for(data, index) == {"left_eye": [9.5, 13.5], "right_eye": [21.5, 13.5]}
    assert landmarks_for(data, data.names.index("alice/2.png")) is None


def test_sets_without_a_folder_have_no_landmarks(fashion_model):
    data = open_data("samples:fashion-mnist", fashion_model.spec, fashion_model.labels, limit=2)
    assert landmarks_for(data, 0) is None


# -- eye detection --------------------------------------------------------------------------------


def test_no_eyes_in_noise_or_a_blank_image():
    rng = np.random.default_rng(0)
    assert detect_eyes(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) is None
    assert detect_eyes(np.full((64, 64, 3), 128, np.uint8)) is None


def test_the_eyes_of_a_drawn_face_are_found():
    """OpenCV's Haar cascades fire on this cartoon face at 64 pixels (enlarged for them); not on
    every drawn face: a bolder drawing of the same face at 256 pixels finds only one eye."""
    found = detect_eyes(drawn_face(64))
    assert found is not None
    for key, (x, y) in zip(("left_eye", "right_eye"), ((23.75, 27.5), (40.25, 27.5))):
        assert abs(found[key][0] - x) <= 2.5 and abs(found[key][1] - y) <= 2.5


def test_eye_detection_refuses_other_pixel_types():
    with pytest.raises(DataLoadError, match="uint8"):
        detect_eyes(np.zeros((64, 64, 3), np.float32))


# -- fitting templates ----------------------------------------------------------------------------


def test_eyeglasses_fit_the_eyes():
    eyes = {"left_eye": [20.0, 28.0], "right_eye": [43.0, 28.0]}
    mask = fit_template("eyeglasses", eyes, (64, 64))
    assert mask.shape == (1, 1, 64, 64) and set(mask.unique().tolist()) == {0.0, 1.0}
    frame = mask[0, 0]
    # The eyes look through the holes; the rims lie around them; nothing far away.
    for x, y in eyes.values():
        assert frame[round(y), round(x)] == 0
        row = frame[round(y)]
        assert row[: round(x)].any() and row[round(x) :].any()
    assert not frame[45:].any() and not frame[:15].any()
    # Symmetric about the middle between the eyes (to a pixel).
    mirrored = frame[:, 1:].flip(1)[:, : 63]  # x ↦ 63 − x about 31.5, the midpoint 31.5
    assert (frame[:, : 63] != mirrored).float().mean() < 0.02
    assert 0.03 < frame.mean() < 0.10


def test_eyeglasses_follow_tilted_and_wider_set_eyes():
    level = fit_template("eyeglasses", {"left_eye": [20.0, 28.0], "right_eye": [43.0, 28.0]}, (64, 64))
    tilted = fit_template("eyeglasses", {"left_eye": [20.0, 24.0], "right_eye": [43.0, 32.0]}, (64, 64))
    wide = fit_template("eyeglasses", {"left_eye": [14.0, 28.0], "right_eye": [49.0, 28.0]}, (64, 64))
    rows = torch.arange(64.0).view(64, 1)
    left_half, right_half = tilted[0, 0, :, :32], tilted[0, 0, :, 32:]
    assert (rows * right_half).sum() / right_half.sum() > (rows * left_half).sum() / left_half.sum() + 4
    assert wide.sum() > level.sum() * 1.8  # 1.52× larger: area ×2.3 minus pixel rounding


def test_stop_stickers_lie_above_and_below_the_middle_of_the_sign():
    quad = [[4.0, 6.0], [27.0, 5.0], [28.0, 28.0], [3.0, 27.0]]
    mask = fit_template("stop-stickers", {"sign": quad}, (32, 32))[0, 0]
    rows = mask.any(dim=1).nonzero().squeeze(1).tolist()
    cols = mask.any(dim=0).nonzero().squeeze(1).tolist()
    assert min(cols) >= 3 and max(cols) <= 28 and min(rows) >= 5 and max(rows) <= 28
    middle = (6 + 27) // 2
    assert mask[:middle].sum() > 0 and mask[middle:].sum() > 0
    assert not mask[middle - 2 : middle + 2].any()  # the lettering stays clear
    assert 0.04 < mask.mean() < 0.15


def test_a_template_needs_its_landmarks():
    with pytest.raises(MaskError, match="left_eye"):
        fit_template("eyeglasses", {"sign": [[0, 0], [1, 0], [1, 1], [0, 1]]}, (64, 64))


def test_unknown_templates_and_templates_without_anchors(tmp_path):
    with pytest.raises(MaskError, match="no mask template 'monocle'"):
        fit_template("monocle", {}, (64, 64))
    save_png(tmp_path / "mine.png", torch.ones(1, 8, 8))
    with pytest.raises(MaskError, match="mine.json"):
        fit_template(tmp_path / "mine.png", {}, (64, 64))


def test_a_template_of_ones_own_with_anchors(tmp_path):
    save_png(tmp_path / "dot.png", torch.ones(1, 4, 4))
    # Anchored at its top corners (pixel edges), doubled: the 8×8 pixels from (10, 10).
    (tmp_path / "dot.json").write_text(json.dumps({"anchors": {"a": [-0.5, -0.5], "b": [3.5, -0.5]}}))
    mask = fit_template(tmp_path / "dot.png", {"a": [9.5, 9.5], "b": [17.5, 9.5]}, (32, 32))[0, 0]
    assert mask[10:18, 10:18].all() and mask.sum() == 64


def test_a_template_fitted_outside_the_image():
    with pytest.raises(MaskError, match="outside"):
        fit_template("eyeglasses", {"left_eye": [200.0, 200.0], "right_eye": [220.0, 200.0]}, (64, 64))


def _ring_template(folder, coverage=None):
    """A ring template (a 2-pixel-thick square outline, 16×16) anchored at its top corners."""
    ring = torch.zeros(1, 16, 16)
    ring[:, :2], ring[:, -2:], ring[:, :, :2], ring[:, :, -2:] = 1, 1, 1, 1
    save_png(folder / "ring.png", ring)
    spec = {"anchors": {"a": [-0.5, -0.5], "b": [15.5, -0.5]}}
    if coverage is not None:
        spec["coverage"] = coverage
    (folder / "ring.json").write_text(json.dumps(spec))
    return folder / "ring.png"


def test_a_coverage_budget_thickens_the_template_as_far_as_it_allows(tmp_path):
    marks = {"a": [7.5, 7.5], "b": [23.5, 7.5]}  # the ring, 16 pixels wide, at (8, 8) of 32×32
    plain = fit_template(_ring_template(tmp_path), marks, (32, 32))
    assert plain.sum() == 112  # 16² − 12²
    budget = 0.25  # 256 pixels: the ring grows a pixel out and in (18² − 10² = 224), not two (336)
    thick = fit_template(_ring_template(tmp_path, budget), marks, (32, 32))
    assert set(thick.unique().tolist()) == {0.0, 1.0}
    assert (thick >= plain).all()  # it only grows
    assert 200 < thick.sum() <= budget * 32 * 32  # 224, and the hole's corners round off
    assert not thick[0, 0, 14:18, 14:18].any()  # the hole stays open
    # A budget the plain fit already exceeds leaves it as it is (never thinner).
    assert torch.equal(fit_template(_ring_template(tmp_path, 0.01), marks, (32, 32)), plain)


@pytest.mark.parametrize("coverage", [0, 1.5, "a lot", [0.1]])
def test_a_bad_coverage_budget_is_a_clear_error(tmp_path, coverage):
    with pytest.raises(MaskError, match="'coverage' must be a fraction"):
        fit_template(_ring_template(tmp_path, coverage), {"a": [7.5, 7.5], "b": [23.5, 7.5]}, (32, 32))
