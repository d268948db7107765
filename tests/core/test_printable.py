"""Printable colours, the non-printability score and the export of a perturbation to print."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from workbench.core.errors import DataLoadError, MaskError
from workbench.core.printable import (
    default_palette, load_palette, non_printability, read_resolution, save_palette, write_printable,
)


def test_default_palette_is_rgb_in_the_unit_range():
    palette = default_palette()
    assert palette.shape == (30, 3)
    assert palette.min() >= 0 and palette.max() <= 1
    assert len({tuple(c) for c in palette.tolist()}) == 30


def test_palette_file_round_trip(tmp_path):
    palette = torch.tensor([[0.0, 0.5, 1.0], [0.2, 0.4, 0.6]])
    save_palette(tmp_path / "p.txt", palette)
    assert torch.allclose(load_palette(tmp_path / "p.txt"), palette, atol=1e-6)


def test_palette_file_accepts_comments_and_commas(tmp_path):
    (tmp_path / "p.txt").write_text("# measured\n255, 0, 0  # red\n\n0 0 255\n")
    assert torch.equal(load_palette(tmp_path / "p.txt"), torch.tensor([[1.0, 0, 0], [0, 0, 1.0]]))


@pytest.mark.parametrize("text, expected", [
    ("1 2\n", "line 1"),
    ("0 0 0\n300 0 0\n", "line 2"),
    ("red green blue\n", "line 1"),
    ("# nothing\n", "no colours"),
])
def test_bad_palette_files_name_the_problem(tmp_path, text, expected):
    (tmp_path / "p.txt").write_text(text)
    with pytest.raises(DataLoadError, match=expected):
        load_palette(tmp_path / "p.txt")


def test_missing_palette_file():
    with pytest.raises(DataLoadError, match="cannot read"):
        load_palette("/nonexistent/palette.txt")


def test_non_printability_is_zero_on_printable_colours_and_grows_off_them():
    palette = default_palette()
    mask = torch.ones(1, 1, 2, 2)
    printable = palette[:4].T.reshape(1, 3, 2, 2)
    assert non_printability(printable, mask, palette).item() == pytest.approx(0.0, abs=1e-5)
    near = (printable + 0.02).clamp(0, 1)
    far = torch.tensor([0.3, 0.3, 0.7]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert 0 < non_printability(near, mask, palette) < non_printability(far, mask, palette)


def test_non_printability_counts_only_the_mask():
    palette = default_palette()
    images = torch.full((2, 3, 4, 4), 0.2)
    images[:, :, :2] = 0.9  # printable (white-ish grid colour) in the top half
    top = torch.zeros(2, 1, 4, 4)
    top[:, :, :2] = 1
    assert torch.allclose(non_printability(images, top, palette), torch.zeros(2), atol=1e-5)
    assert (non_printability(images, 1 - top, palette) > 0.1).all()
    assert torch.equal(non_printability(images, torch.zeros(2, 1, 4, 4), palette), torch.zeros(2))


def test_non_printability_of_grey_images_uses_the_palettes_luma():
    palette = torch.tensor([[1.0, 0.0, 0.0]])  # luma 0.299
    grey = torch.full((1, 1, 1, 1), 0.299)
    assert non_printability(grey, torch.ones(1, 1, 1, 1), palette).item() == pytest.approx(0.0, abs=1e-5)


def test_non_printability_has_a_gradient():
    images = torch.full((1, 3, 2, 2), 0.2, requires_grad=True)
    non_printability(images, torch.ones(1, 1, 2, 2), default_palette()).sum().backward()
    assert images.grad.abs().sum() > 0 and torch.isfinite(images.grad).all()


def _read_rgba(path):
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)


def test_printable_has_the_physical_size_and_resolution(tmp_path):
    image = torch.rand(3, 20, 30)
    mask = torch.zeros(1, 1, 20, 30)
    mask[..., 5:9, 4:24] = 1  # 20 wide, 4 high
    width_mm, dpi = 60.0, 300
    size = write_printable(tmp_path / "print.png", image, mask, width_mm, dpi)
    expected_width = round(width_mm / 25.4 * dpi)
    assert size == (expected_width, round(expected_width * 4 / 20))
    assert read_resolution(tmp_path / "print.png") == pytest.approx(dpi, rel=1e-4)
    rgba = _read_rgba(tmp_path / "print.png")
    assert rgba.shape == (size[1], size[0], 4)


def test_printable_keeps_the_colours_and_is_transparent_outside_the_mask(tmp_path):
    image = torch.rand(3, 8, 8)
    mask = torch.zeros(8, 8)
    mask[2:6, 2:6] = 1
    mask[2, 2] = 0  # a transparent corner inside the bounding box
    write_printable(tmp_path / "print.png", image, mask, 25.4 * 40 / 300, 300)  # 10 pixels per image pixel
    rgba = _read_rgba(tmp_path / "print.png")
    assert rgba.shape == (40, 40, 4)
    assert rgba[0, 0, 3] == 0 and rgba[9, 9, 3] == 0 and rgba[10, 0, 3] == 255
    expected = np.rint(image[:, 3, 4].numpy() * 255)
    assert np.array_equal(rgba[15, 25, :3], expected.astype(np.uint8))


def test_printable_of_a_grey_image(tmp_path):
    image = torch.full((1, 1, 4, 4), 0.5)
    write_printable(tmp_path / "print.png", image, torch.ones(4, 4), 10, 100)
    rgba = _read_rgba(tmp_path / "print.png")
    assert (rgba[..., :3] == 128).all() and (rgba[..., 3] == 255).all()


def test_printable_refuses_an_empty_mask_and_impossible_sizes(tmp_path):
    image = torch.rand(3, 4, 4)
    with pytest.raises(MaskError, match="empty"):
        write_printable(tmp_path / "p.png", image, torch.zeros(4, 4), 10, 300)
    with pytest.raises(MaskError, match="mask"):
        write_printable(tmp_path / "p.png", image, torch.ones(5, 4), 10, 300)
    for width_mm, dpi in ((0, 300), (10, -1), (10_000, 1200)):
        with pytest.raises(ValueError):
            write_printable(tmp_path / "p.png", image, torch.ones(4, 4), width_mm, dpi)
    assert not (tmp_path / "p.png").exists()
