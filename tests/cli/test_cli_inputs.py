"""Command-line input checks (issue 12): devices, masks, class names, negative rectangles,
labelling notes, out-of-memory errors and the ``--limit`` help. Bad input ends with exit 2
and one line on stderr, never a traceback."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from cli_run import ATTACK, ROOT, one_error_line, workbench

SAMPLES = ROOT / "resources" / "samples" / "fashion-mnist"


@pytest.mark.parametrize("device", ["gpu", "cuda:abc", "tpu", "cpu:0"])
def test_unknown_devices_name_the_accepted_spellings(device):
    line = one_error_line(workbench("predict", "--model", "fashion-cnn", "--data", "samples:fashion-mnist",
                                    "--limit", "2", "--device", device))
    assert f"unknown device '{device}'" in line and "cpu, cuda, cuda:N, mps" in line


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine offers MPS")
def test_mps_without_mps_is_refused_in_one_line():
    line = one_error_line(workbench(*ATTACK, "--device", "mps"))
    assert "MPS" in line and "--device cpu" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_in_one_line():
    assert "no CUDA device" in one_error_line(workbench(*ATTACK, "--device", "cuda:0"))


def test_device_names_ignore_case():
    completed = workbench("predict", "--model", "fashion-cnn", "--data", "samples:fashion-mnist",
                          "--limit", "2", "--device", "CPU", "--json")
    assert completed.returncode == 0, completed.stderr


def _png(path: Path, pixels: np.ndarray) -> Path:
    cv2.imwrite(str(path), pixels.astype(np.uint8))
    return path


def test_a_mask_of_another_aspect_ratio_is_refused_naming_both_sizes(tmp_path):
    mask = _png(tmp_path / "wide.png", np.full((20, 40), 255))
    line = one_error_line(workbench(*ATTACK, "--mask", str(mask)))
    assert "40×20" in line and "28×28" in line


def test_a_mask_of_the_same_aspect_ratio_is_resampled(tmp_path):
    pixels = np.zeros((56, 56))
    pixels[8:48, 8:48] = 255
    completed = workbench(*ATTACK, "--mask", str(_png(tmp_path / "big.png", pixels)), "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["pixels_changed_outside_mask"] == 0


def test_an_empty_mask_is_refused(tmp_path):
    mask = _png(tmp_path / "black.png", np.zeros((28, 28)))
    line = one_error_line(workbench(*ATTACK, "--mask", str(mask)))
    assert "the mask is empty: " in line and "black.png" in line


@pytest.mark.parametrize("form", [["--mask-rect", "-5,0,10,10"], ["--mask-rect=-5,0,10,10"]])
def test_a_negative_mask_rect_origin_parses_and_is_clipped(form):
    completed = workbench(*ATTACK, *form, "--param", "eps=0.3", "--json")
    assert completed.returncode == 0, completed.stderr
    assert "clipped to 0,0,5,10" in completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["pixels_changed_outside_mask"] == 0 and 0 < summary["mean_l0"] <= 50


def test_a_mask_rect_wholly_outside_is_one_line():
    assert "lies outside the 28×28 image" in one_error_line(workbench(*ATTACK, "--mask-rect", "-50,0,10,10"))


@pytest.mark.parametrize("spelling", ["T-shirt-top", "t_shirt top", "0"])
def test_target_takes_the_spellings_of_class_folders(spelling):
    completed = workbench(*ATTACK, "--target", spelling, "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["targeted"] is True


def _class_folders(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for source, folder in (("Coat", "coat"), ("Bag", "umbrella"), ("Sandal", "flip flops")):
        (data / folder).mkdir(parents=True)
        for name in ("0.png", "1.png"):
            shutil.copy(SAMPLES / source / name, data / folder / name)
    return data


def test_folders_matching_no_class_are_named_with_the_labelled_count(tmp_path):
    completed = workbench("predict", "--model", "fashion-cnn", "--data", str(_class_folders(tmp_path)), "--json")
    assert completed.returncode == 0, completed.stderr
    assert "folders matching no class of fashion-cnn: flip flops, umbrella" in completed.stderr
    assert "2 of 6 images are labelled" in completed.stderr
    assert json.loads(completed.stdout)["accuracy"] is not None


class _Flat(nn.Module):
    """A tiny classifier of 1×28×28 images that runs out of memory on more than ``most`` images."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > self.most:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.fc(x.flatten(1))


def _scripted(tmp_path: Path, most: int) -> list[str]:
    path = tmp_path / f"flat{most}.pt"
    torch.jit.script(_Flat(most)).save(str(path))
    return ["--model", str(path), "--input-size", "28x28", "--channels", "1"]


def test_predict_without_labels_says_why_accuracy_is_missing(tmp_path):
    completed = workbench("predict", *_scripted(tmp_path, 1000), "--data", str(_class_folders(tmp_path)), "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["accuracy"] is None
    assert "0 of 6 images are labelled" in completed.stderr and "--labels FILE" in completed.stderr
    assert "folders matching no class" in completed.stderr and "coat" in completed.stderr


@pytest.mark.parametrize("most", [0, 2])
def test_out_of_memory_is_named_with_the_batch_size_advice(tmp_path, most):
    """At loading (the one-image probe: most = 0) or while attacking a batch of 4."""
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(p.name for p in sorted(SAMPLES.iterdir()) if p.is_dir()))
    line = one_error_line(workbench("attack", *_scripted(tmp_path, most), "--labels", str(labels),
                                    "--data", "samples:fashion-mnist", "--limit", "4", "--attack", "fgsm",
                                    "--batch-size", "4"), code=1)
    assert "out of memory" in line and "--batch-size (now 4)" in line
    assert "does not accept input" not in line


def test_limit_help_says_round_robin():
    completed = workbench("attack", "--help")
    assert completed.returncode == 0
    text = " ".join(completed.stdout.split())
    assert "round-robin over the classes" in text and "first N" in text
