"""Image files: every format round trip, bit depths, channels, non-ASCII paths, bad files."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from workbench.core.errors import DataLoadError
from workbench.core.images import load_image, quantize_perturbation, read_image_array, save_png, to_uint8_hwc


def write_encoded(path: Path, pixels_bgr: np.ndarray, params: list[int] | None = None) -> Path:
    """Encode with OpenCV (BGR order, like the files in the wild) and write the bytes."""
    ok, encoded = cv2.imencode(path.suffix, pixels_bgr, params or [])
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded.tobytes())
    return path


def gradient_rgb(height: int = 12, width: int = 16) -> np.ndarray:
    """A smooth RGB image (uint8, RGB order) that lossy codecs keep close."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([cols * 255 // (width - 1), rows * 255 // (height - 1), np.full_like(rows, 128)], axis=2).astype(np.uint8)


FORMATS = [
    # suffix, encoder parameters, largest error allowed in [0, 1]
    (".png", [], 0.0),
    (".bmp", [], 0.0),
    (".tif", [], 0.0),
    (".tiff", [], 0.0),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], 0.0),  # quality above 100: lossless
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90], 0.1),
    (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95], 0.1),
    (".jpeg", [cv2.IMWRITE_JPEG_QUALITY, 95], 0.1),
]


@pytest.mark.parametrize("suffix, params, tolerance", FORMATS, ids=[f"{s}{p[1:] or ''}" for s, p, _ in FORMATS])
def test_every_format_round_trips_in_rgb_order(tmp_path, suffix, params, tolerance):
    rgb = gradient_rgb()
    path = write_encoded(tmp_path / f"image{suffix}", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    image = load_image(path)
    assert image.dtype == torch.float32 and image.shape == (3, 12, 16)
    expected = torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / 255)
    assert (image - expected).abs().max() <= tolerance + 1e-6


def test_grey_stays_one_channel_and_alpha_is_dropped(tmp_path):
    grey = write_encoded(tmp_path / "grey.png", np.full((5, 6), 51, np.uint8))
    assert load_image(grey).shape == (1, 5, 6)
    assert torch.allclose(load_image(grey), torch.full((1, 5, 6), 0.2))
    bgra = np.zeros((5, 6, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 255, 0  # red, fully transparent
    rgba = write_encoded(tmp_path / "rgba.png", bgra)
    image = load_image(rgba)
    assert image.shape == (3, 5, 6)
    assert image[0].eq(1).all() and image[1:].eq(0).all()
    assert read_image_array(rgba, keep_alpha=True).shape == (5, 6, 4)


def test_sixteen_bit_images_are_scaled_by_their_full_range(tmp_path):
    values = np.array([[0, 32768, 65535]], np.uint16)
    path = write_encoded(tmp_path / "deep.png", values)
    assert torch.allclose(load_image(path), torch.tensor([[[0.0, 32768 / 65535, 1.0]]]))


def test_float_tiff_is_clipped(tmp_path):
    path = write_encoded(tmp_path / "float.tif", np.array([[-0.5, 0.25, 2.0]], np.float32))
    assert torch.allclose(load_image(path), torch.tensor([[[0.0, 0.25, 1.0]]]))


def test_non_ascii_paths_work_both_ways(tmp_path):
    path = tmp_path / "Bilder" / "Ärmel ✓.png"
    path.parent.mkdir()
    image = torch.rand(3, 7, 9)
    save_png(path, image)
    loaded = load_image(path)
    assert torch.equal(loaded, torch.round(image * 255) / 255)


def test_save_png_writes_grey_from_a_plane_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "plane.png"
    path.write_bytes(b"old contents")
    save_png(path, torch.tensor([[0.0, 0.5, 1.0]]))
    assert [p.name for p in tmp_path.iterdir()] == ["plane.png"]
    assert read_image_array(path).tolist() == [[0, 128, 255]]


def test_to_uint8_hwc_rounds_and_clips():
    pixels = to_uint8_hwc(torch.tensor([[[-1.0, 0.2, 0.5, 2.0]]]))
    assert pixels.shape == (1, 4, 1) and pixels.dtype == np.uint8
    assert pixels[0, :, 0].tolist() == [0, 51, 128, 255]
    with pytest.raises(DataLoadError, match="1 or 3 channels"):
        to_uint8_hwc(torch.zeros(2, 4, 4))


def _truncated_png(path: Path) -> None:
    data = cv2.imencode(".png", gradient_rgb(40, 40))[1].tobytes()
    path.write_bytes(data[: len(data) // 2])


BAD_IMAGES = [
    ("missing.png", None, "cannot read"),
    ("empty.png", lambda p: p.write_bytes(b""), "empty"),
    ("text.png", lambda p: p.write_text("not an image"), "not an image"),
    ("cut.png", _truncated_png, "not an image"),
]


@pytest.mark.parametrize("name, make, message", BAD_IMAGES, ids=[row[0] for row in BAD_IMAGES])
def test_bad_images_raise_a_data_load_error_naming_the_file(tmp_path, name, make, message):
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(DataLoadError, match=message) as raised:
        load_image(path)
    assert name in str(raised.value)


def _perturbed(eps: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A clean image on the 8-bit grid (as a PNG gives) and a float perturbation at ±ε."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (2, 3, 8, 8), generator=generator).float() / 255
    sign = torch.randint(0, 2, x.shape, generator=generator).float() * 2 - 1
    return x, (x + eps * sign).clamp(0, 1)


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.03, 8 / 255])
def test_quantized_linf_perturbations_stay_within_eps_of_the_saved_clean_image(tmp_path, eps):
    x, x_adv = _perturbed(eps)
    saved = quantize_perturbation(x_adv, x, norm="linf", eps=eps)
    levels = (saved * 255 - x * 255).round().abs()
    assert levels.max() == math.floor(eps * 255 + 1e-6)
    assert (saved - x).abs().max() <= eps + 1e-7
    nearest = (x_adv * 255).round() - (x * 255).round()
    assert (nearest.abs().max() > levels.max()) == (eps * 255 % 1 >= 0.5)  # plain rounding would exceed ε
    save_png(tmp_path / "adv.png", saved[0])
    assert torch.equal(load_image(tmp_path / "adv.png"), saved[0])


def test_quantized_l2_perturbations_stay_within_eps():
    x, _ = _perturbed(0.0)
    direction = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    direction /= direction.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    x_adv = (x + 0.5 * direction).clamp(0, 1)
    eps = float((x_adv - x).flatten(1).norm(dim=1).max())
    saved = quantize_perturbation(x_adv, x, norm="l2", eps=eps)
    assert ((saved - x).flatten(1).norm(dim=1) <= eps + 1e-6).all()
    assert ((saved * 255 - (x_adv * 255).round()).abs() <= 1).all()


def test_quantizing_keeps_unchanged_pixels_and_works_on_one_image():
    x, x_adv = _perturbed(0.1)
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1
    x_adv = torch.where(mask > 0, x_adv, x)
    saved = quantize_perturbation(x_adv, x, norm="linf", eps=0.1)
    assert torch.equal(saved * (1 - mask), x * (1 - mask))
    assert torch.equal(quantize_perturbation(x_adv[0], x[0], norm="linf", eps=0.1), saved[0])
    assert torch.equal((quantize_perturbation(x_adv, x) * 255).round(), (x_adv.double() * 255).round().float())
