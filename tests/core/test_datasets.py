"""Image sets: class folders, loose images, IDX files, sample sets and Fashion-MNIST."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import workbench.core.datasets as datasets
from workbench.core.datasets import FASHION_MNIST_CLASSES, class_index, open_data
from workbench.core.errors import DataLoadError
from workbench.core.images import save_png
from workbench.core.spec import InputSpec

GREY_28 = InputSpec(channels=1, height=28, width=28)
CLASSES = ["T-shirt/top", "Trouser", "Ankle boot"]


def image(value: float, channels: int = 1, height: int = 28, width: int = 28) -> torch.Tensor:
    return torch.full((channels, height, width), value)


def write_idx(path: Path, array: np.ndarray) -> Path:
    """An IDX file (uint8 data): two zero bytes, type 0x08, the rank, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.fixture
def class_folders(tmp_path) -> Path:
    """Three class folders named in three styles, a folder that names no class, a loose
    image, a corrupt image and a file that is not an image."""
    root = tmp_path / "data"
    for folder, count, value in (("t-shirt-top", 3, 0.1), ("TROUSER", 2, 0.2), ("ankle_boot", 12, 0.3), ("misc", 1, 0.4)):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            save_png(root / folder / f"{i}.png", image(value))
    save_png(root / "loose.png", image(0.5))
    (root / "TROUSER" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "TROUSER" / "notes.txt").write_text("not an image")
    return root


def test_class_folders_are_matched_to_the_model_classes(class_folders):
    data = open_data(str(class_folders), GREY_28, CLASSES)
    assert data.images.shape == (1 + 3 + 2 + 12 + 1, 1, 28, 28)
    assert data.names[:5] == ["loose.png", "t-shirt-top/0.png", "t-shirt-top/1.png", "t-shirt-top/2.png", "TROUSER/0.png"]
    assert data.names[-1] == "misc/0.png"  # loose images first, then classes in order, then the rest
    assert data.labels.tolist() == [-1, 0, 0, 0, 1, 1] + [2] * 12 + [-1]
    assert data.unknown_classes == ["misc"]
    assert data.skipped == [("TROUSER/broken.png", "not an image that can be decoded (corrupt or unsupported format)")]
    assert data.class_names == CLASSES and data.source == str(class_folders)
    assert data.images.dtype == torch.float32
    assert torch.allclose(data.images[1], image(round(0.1 * 255) / 255))


def test_files_are_in_natural_order(class_folders):
    names = open_data(str(class_folders), GREY_28, CLASSES).names
    boots = [name for name in names if name.startswith("ankle_boot/")]
    assert boots == [f"ankle_boot/{i}.png" for i in range(12)]


def test_limit_takes_images_round_robin_over_the_classes(class_folders):
    data = open_data(str(class_folders), GREY_28, CLASSES, limit=7)
    assert data.names == [
        "loose.png", "t-shirt-top/0.png", "t-shirt-top/1.png", "TROUSER/0.png", "TROUSER/1.png",
        "ankle_boot/0.png", "misc/0.png",
    ]
    assert data.skipped == []  # the broken file was not reached


def test_labels_json_and_class_indices_name_folders(tmp_path):
    root = tmp_path / "data"
    for folder in ("shoe", "1"):
        (root / folder).mkdir(parents=True)
        save_png(root / folder / "0.png", image(0.5))
    (root / "labels.json").write_text(json.dumps({"Ankle boot": "shoe"}))
    data = open_data(str(root), GREY_28, CLASSES)
    assert dict(zip(data.names, data.labels.tolist())) == {"1/0.png": 1, "shoe/0.png": 2}
    (root / "labels.json").write_text(json.dumps(["Ankle boot", "shoe"]))
    with pytest.raises(DataLoadError, match="labels.json: expected"):
        open_data(str(root), GREY_28, CLASSES)


def test_images_are_converted_to_the_model_spec(tmp_path):
    save_png(tmp_path / "wide.png", torch.rand(3, 30, 40))
    data = open_data(str(tmp_path / "wide.png"), InputSpec(channels=3, height=28, width=28), CLASSES)
    assert data.images.shape == (1, 3, 28, 28)
    assert data.names == ["wide.png"] and data.labels.tolist() == [-1]
    grey = open_data(str(tmp_path / "wide.png"), GREY_28, CLASSES)
    assert grey.images.shape == (1, 1, 28, 28)


def test_a_folder_where_nothing_loads_is_an_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(DataLoadError, match="no image could be loaded.*bad.png"):
        open_data(str(tmp_path), GREY_28, CLASSES)
    (tmp_path / "bad.png").unlink()
    with pytest.raises(DataLoadError, match="no image files"):
        open_data(str(tmp_path), GREY_28, CLASSES)


def test_a_corrupt_single_image_is_an_error_naming_it(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataLoadError, match="bad.jpg"):
        open_data(str(tmp_path / "bad.jpg"), GREY_28, CLASSES)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_files_with_their_sibling_labels(tmp_path, suffix):
    pixels = np.arange(4 * 28 * 28).reshape(4, 28, 28) % 256
    images = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", pixels)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.array([2, 0, 7, 1]))
    data = open_data(str(images), GREY_28, CLASSES, limit=3)
    assert data.labels.tolist() == [2, 0, -1]  # 7 is no class of the model
    assert data.names == [f"{images.name}#{i}" for i in range(3)]
    assert torch.equal(data.images[:, 0] * 255, torch.from_numpy(pixels[:3].astype(np.float32)))


def test_idx_images_without_labels(tmp_path):
    images = write_idx(tmp_path / "pictures.idx", np.zeros((2, 28, 28)))
    assert open_data(str(images), GREY_28, CLASSES).labels.tolist() == [-1, -1]


def test_sample_sets_come_from_the_resources(tmp_path, monkeypatch):
    folder = tmp_path / "samples" / "tiny"
    for folder_name in ("T-shirt-top", "boots"):
        (folder / folder_name).mkdir(parents=True)
        for i in range(2):
            save_png(folder / folder_name / f"{i}.png", image(0.5))
    classes = [{"index": 0, "label": "T-shirt/top", "folder": "T-shirt-top"},
               {"index": 9, "label": "Ankle boot", "folder": "boots"}]  # as the zoo writes it
    (folder / "labels.json").write_text(json.dumps({"dataset": "tiny", "classes": classes}))
    monkeypatch.setattr(datasets, "resource_path", lambda *parts: tmp_path.joinpath(*parts))
    data = open_data("samples:tiny", GREY_28, CLASSES)
    assert data.labels.tolist() == [0, 0, 2, 2] and data.source == "samples:tiny"
    assert open_data("samples:tiny", GREY_28, CLASSES, limit=2).labels.tolist() == [0, 2]
    with pytest.raises(DataLoadError, match="no sample set 'other' \\(available: tiny\\)"):
        open_data("samples:other", GREY_28, CLASSES)


def test_the_shipped_samples_when_present():
    if not datasets.resource_path("samples", "fashion-mnist").is_dir():
        pytest.skip("the Fashion-MNIST samples are not built yet (make zoo)")
    data = open_data("samples:fashion-mnist", GREY_28, list(FASHION_MNIST_CLASSES))
    assert len(data) == 100 and data.skipped == []
    assert torch.bincount(data.labels).tolist() == [10] * 10


def test_fashion_mnist_maps_its_classes_to_the_model_by_name():
    if not (datasets.FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("dataset-fashion-mnist is not installed")
    reordered = list(reversed(FASHION_MNIST_CLASSES))
    data = open_data("fashion-mnist:test", GREY_28, reordered, limit=50)
    plain = open_data("fashion-mnist:test", GREY_28, [f"class {i}" for i in range(10)], limit=50)
    assert data.images.shape == (50, 1, 28, 28)
    assert (data.labels == 9 - plain.labels).all()  # by name; by index when no name matches


def test_missing_fashion_mnist_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path)
    with pytest.raises(DataLoadError, match="apt-get install dataset-fashion-mnist"):
        open_data("fashion-mnist:test", GREY_28, CLASSES)


@pytest.mark.parametrize("source, message", [
    ("fashion-mnist:validation", "splits test and train"),
    ("no/such/place", "no data at 'no/such/place'"),
])
def test_unknown_sources(source, message):
    with pytest.raises(DataLoadError, match=message):
        open_data(source, GREY_28, CLASSES)


@pytest.mark.parametrize("source", ["", "  "])
def test_an_empty_source_never_reads_the_working_directory(tmp_path, monkeypatch, source):
    save_png(tmp_path / "private.png", image(0.5))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataLoadError, match="no images chosen"):
        open_data(source, GREY_28, CLASSES)


def test_limit_must_be_positive(class_folders):
    with pytest.raises(DataLoadError, match="at least 1"):
        open_data(str(class_folders), GREY_28, CLASSES, limit=0)


@pytest.mark.parametrize("name, expected", [
    ("T-shirt-top", 0), ("t_shirt top", 0), ("TROUSER", 1), ("ankle-boot", 2), ("2", 2), ("3", None), ("shoe", None),
])
def test_class_index(name, expected):
    assert class_index(name, CLASSES) == expected
