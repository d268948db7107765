"""Masks: shapes drawn at display resolution, rasterized to model resolution by one rule."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from workbench.core.errors import DataLoadError, MaskError
from workbench.core.masks import (
    Bitmap, Ellipse, Everything, Mask, Operation, Polygon, Rect, Stroke,
    clip_rect, load_mask_png, rasterize, rect_mask, require_nonempty, same_aspect, save_mask_png,
)

DISPLAY = (280, 280)  # a 28×28 image shown ten times larger
MODEL = (28, 28)


def pixels(rows: range | list[int], cols: range | list[int]) -> torch.Tensor:
    """The expected 1×1×28×28 mask with the given rows × columns set."""
    mask = torch.zeros(1, 1, *MODEL)
    mask[0, 0, list(rows)[0] : list(rows)[-1] + 1, list(cols)[0] : list(cols)[-1] + 1] = 1
    return mask


SHAPES = [
    # (case, what is drawn at 280×280, the 28×28 mask expected)
    ("rectangle", Rect(40, 40, 200, 100), pixels(range(4, 14), range(4, 24))),
    ("rectangle dragged backwards", Rect(240, 140, -200, -100), pixels(range(4, 14), range(4, 24))),
    ("rectangle half-covering its edge pixels (its corners only a quarter)", Rect(35, 35, 210, 110),
     pixels(range(3, 15), range(3, 25)) - pixels([3], [3]) - pixels([3], [24]) - pixels([14], [3]) - pixels([14], [24])),
    ("rectangle covering less than half of its edge pixels", Rect(36, 36, 208, 108), pixels(range(4, 14), range(4, 24))),
    ("polygon", Polygon([(40, 40), (240, 40), (240, 140), (40, 140)]), pixels(range(4, 14), range(4, 24))),
    ("brush stroke", Stroke([(0, 145), (280, 145)], radius=5), pixels([14], range(0, 28))),
    ("brush dot", Stroke([(145, 145)], radius=5), pixels([14], [14])),
    ("everything", Everything(), torch.ones(1, 1, *MODEL)),
    ("tiny dot keeps its pixel", Rect(41, 41, 3, 3), pixels([4], [4])),
    ("tiny square on a corner keeps the four pixels", Rect(45, 45, 10, 10), pixels([4, 5], [4, 5])),
    ("hairline keeps a one-pixel line", Stroke([(10, 143), (270, 143)], radius=0), pixels([14], range(1, 27))),
    ("eraser", Mask().add(Rect(0, 0, 280, 100)).subtract(Stroke([(0, 55), (280, 55)], radius=3)),
     pixels(range(0, 10), range(0, 28)) - pixels([5], range(0, 28))),
    ("invert", Mask().add(Rect(0, 0, 140, 280)).invert(), pixels(range(0, 28), range(14, 28))),
    ("union of masks", Mask().add(Rect(0, 0, 100, 100)).add(Mask().add(Rect(100, 0, 100, 100))),
     pixels(range(0, 10), range(0, 20))),
    ("intersection", Mask().add(Rect(0, 0, 200, 200)).intersect(Rect(100, 100, 180, 180)),
     pixels(range(10, 20), range(10, 20))),
    ("fill then clear", Mask().add(Rect(0, 0, 10, 10)).fill().clear(), torch.zeros(1, 1, *MODEL)),
    ("shapes outside are clipped", Rect(-100, 200, 150, 500), pixels(range(20, 28), range(0, 5))),
]


@pytest.mark.parametrize("case, drawn, expected", SHAPES, ids=[row[0] for row in SHAPES])
def test_each_shape_rasterizes_to_the_expected_model_pixels(case, drawn, expected):
    mask = rasterize(drawn, display_size=DISPLAY, model_size=MODEL)
    assert mask.shape == (1, 1, 28, 28) and mask.dtype == torch.float32
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(mask, expected)


def test_ellipse_is_a_disc_of_the_right_area():
    mask = rasterize(Ellipse(0, 0, 280, 280), DISPLAY, MODEL)[0, 0]
    assert abs(mask.sum().item() - math.pi * 14**2) < 4
    assert torch.equal(mask, mask.flip(0)) and torch.equal(mask, mask.flip(1)) and torch.equal(mask, mask.T)
    assert mask[14, 14] == 1 and mask[0, 0] == 0 and mask[14, 0] == 1


def test_a_list_of_shapes_is_their_union():
    a, b = Rect(0, 0, 100, 100), Ellipse(150, 150, 100, 100)
    union = rasterize([a, b], DISPLAY, MODEL)
    assert torch.equal(union, torch.maximum(rasterize(a, DISPLAY, MODEL), rasterize(b, DISPLAY, MODEL)))


def test_equal_sizes_take_the_drawing_as_it_is():
    mask = rasterize(Stroke([(2.5, 2.5), (2.5, 2.5)], radius=1), display_size=(6, 5), model_size=(5, 6))[0, 0]
    assert mask.tolist() == [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]


def test_non_square_sizes_and_upscaling():
    wide = rasterize(Rect(0, 0, 280, 70), display_size=(560, 140), model_size=(28, 56))[0, 0]
    assert wide.sum() == 14 * 28 and wide[:14, :28].eq(1).all()
    small = rasterize(Rect(0, 0, 7, 14), display_size=(14, 14), model_size=MODEL)
    assert torch.equal(small[0, 0], torch.cat([torch.ones(28, 14), torch.zeros(28, 14)], dim=1))


def test_masks_are_immutable_values():
    empty = Mask()
    drawn = empty.add(Rect(0, 0, 10, 10))
    assert empty.operations == () and len(drawn.operations) == 1
    assert drawn == Mask().add(Rect(0, 0, 10, 10))
    with pytest.raises(MaskError, match="unknown mask operation 'xor'"):
        Operation("xor", Rect(0, 0, 1, 1))
    with pytest.raises(MaskError, match="needs a shape"):
        Operation("add")


def test_rect_mask_is_in_model_pixels_and_clipped():
    assert torch.equal(rect_mask(4, 4, 20, 10, MODEL), pixels(range(4, 14), range(4, 24)))
    assert rect_mask(20, 20, 50, 50, MODEL).sum() == 64
    with pytest.raises(MaskError, match="outside the 28×28 image"):
        rect_mask(30, 0, 5, 5, MODEL)
    with pytest.raises(MaskError, match="at least 1"):
        rect_mask(0, 0, 0, 5, MODEL)


def test_mask_png_round_trip(tmp_path):
    mask = rasterize(Mask().add(Ellipse(20, 30, 200, 150)).subtract(Rect(100, 100, 30, 30)), DISPLAY, MODEL)
    path = tmp_path / "mask.png"
    save_mask_png(path, mask)
    assert set(np.unique(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)).tolist()) == {0, 255}
    assert torch.equal(load_mask_png(path, MODEL), mask)


def test_a_png_of_another_size_is_rasterized_by_the_same_rule(tmp_path):
    drawn = Mask().add(Stroke([(20, 20), (250, 200)], radius=6)).add(Rect(200, 30, 4, 4))
    path = tmp_path / "big.png"
    save_mask_png(path, torch.from_numpy(drawn.draw(DISPLAY).astype(np.float32)))
    assert torch.equal(load_mask_png(path, MODEL), rasterize(drawn, DISPLAY, MODEL))


def test_colour_and_alpha_pngs(tmp_path):
    colour = np.zeros((28, 28, 3), np.uint8)
    colour[:10, :, 0] = 200  # blue in BGR: bright in one channel is enough
    colour[10:20, :, 1] = 100  # too dark to count
    cv2.imwrite(str(tmp_path / "colour.png"), colour)
    assert torch.equal(load_mask_png(tmp_path / "colour.png", MODEL), pixels(range(0, 10), range(0, 28)))
    sticker = np.full((28, 28, 4), 255, np.uint8)
    sticker[..., 3] = 0
    sticker[5:7, 5:9, 3] = 255  # the opaque part is the mask, whatever its colour
    sticker[5:7, 5:9, :3] = 0
    cv2.imwrite(str(tmp_path / "sticker.png"), sticker)
    assert torch.equal(load_mask_png(tmp_path / "sticker.png", MODEL), pixels(range(5, 7), range(5, 9)))


def test_bitmap_shapes_stretch_over_the_canvas():
    quarter = np.zeros((2, 2), bool)
    quarter[0, 0] = True
    assert torch.equal(rasterize(Bitmap(quarter), DISPLAY, MODEL), pixels(range(0, 14), range(0, 14)))


def test_a_corrupt_mask_png_names_the_file(tmp_path):
    path = tmp_path / "broken mask.png"
    path.write_bytes(b"\x89PNG broken")
    with pytest.raises(DataLoadError, match="broken mask.png"):
        load_mask_png(path, MODEL)


def test_only_binary_masks_are_saved(tmp_path):
    with pytest.raises(MaskError, match="only the values 0 and 1"):
        save_mask_png(tmp_path / "m.png", torch.full((1, 1, 4, 4), 0.5))
    with pytest.raises(MaskError, match="one H×W plane"):
        save_mask_png(tmp_path / "m.png", torch.ones(2, 1, 4, 4))


def test_a_mask_png_of_another_aspect_ratio_is_refused_naming_both_sizes(tmp_path):
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), np.full((20, 40), 255, np.uint8))
    with pytest.raises(MaskError, match=r"40×20 \(W×H\) but the model takes 28×28"):
        load_mask_png(path, MODEL)


def test_a_mask_png_of_the_same_aspect_ratio_is_resampled(tmp_path):
    path = tmp_path / "big.png"
    big = np.zeros((280, 280), np.uint8)
    big[40:140, 40:240] = 255
    cv2.imwrite(str(path), big)
    assert torch.equal(load_mask_png(path, MODEL), pixels(range(4, 14), range(4, 24)))


@pytest.mark.parametrize("size, other, same", [
    ((28, 28), (280, 280), True), ((28, 28), (20, 40), False), ((224, 224), (225, 224), True),
    ((64, 48), (32, 24), True), ((64, 48), (48, 64), False), ((100, 75), (4, 3), True),
])
def test_same_aspect_allows_one_pixel_of_rounding(size, other, same):
    assert same_aspect(size, other) is same


def test_an_empty_mask_is_refused_by_name():
    with pytest.raises(MaskError, match="the mask is empty: black.png"):
        require_nonempty(torch.zeros(1, 1, 28, 28), "black.png")
    full = torch.ones(1, 1, 28, 28)
    assert require_nonempty(full, "x") is full


def test_rectangles_are_clipped_to_the_image():
    assert clip_rect(-5, 0, 10, 10, MODEL) == (0, 0, 5, 10)
    assert clip_rect(20, 25, 10, 10, MODEL) == (20, 25, 8, 3)
    assert clip_rect(1, 2, 3, 4, MODEL) == (1, 2, 3, 4)
    assert torch.equal(rect_mask(-5, 0, 10, 10, MODEL), pixels(range(0, 10), range(0, 5)))
    with pytest.raises(MaskError, match="outside"):
        clip_rect(-50, 0, 10, 10, MODEL)
