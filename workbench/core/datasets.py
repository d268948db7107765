"""Image sets: the shipped samples, Fashion-MNIST, folders, image files and IDX files, converted
to a model's input spec.

:func:`open_data` takes a source string:

* ``samples:<set>`` — a sample set shipped in ``resources/samples/<set>/`` (a class folder set).
* ``fashion-mnist:test`` / ``fashion-mnist:train`` — Debian's ``dataset-fashion-mnist`` IDX files.
* a folder — images in one sub-folder per class (searched recursively), images directly in
  the folder (label unknown), or both.
* an image file (PNG, JPEG, BMP, TIFF, WebP), label unknown.
* an IDX images file (``*-idx3-ubyte``, ``*.idx``, optionally ``.gz``), labelled when the
  sibling labels file of the MNIST naming scheme exists (``train-images-idx3-ubyte`` →
  ``train-labels-idx1-ubyte``).

Labels are indices into the model's class names, −1 where unknown. A class folder names its
class when its name equals a class name ignoring case, spaces, ``_``, ``-`` and ``/`` (so the
folder ``T-shirt-top`` is the class ``T-shirt/top``); through a ``labels.json`` in the folder
(``{"classes": [{"label": …, "folder": …}, …]}`` as the zoo writes for sample sets, or an
object from class name to folder name); or as a class index (``0``, ``1``, …). Folders
that name no class are not an error: their images get label −1 and the folder names are listed
in :attr:`ImageSet.unknown_classes`, so that a caller can say why labels are missing.

Image files that cannot be decoded are skipped and listed in :attr:`ImageSet.skipped`; only a
source from which nothing at all loads is an error. Order is deterministic: loose images, then
class folders in class order, then folders naming no class; files in natural order (``2.png``
before ``10.png``); IDX records in file order.
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from workbench.core.errors import DataLoadError
from workbench.core.idx import read_idx
from workbench.core.images import IMAGE_SUFFIXES, convert_to_spec, load_image
from workbench.core.resources import resource_path
from workbench.core.spec import InputSpec

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_CONVERT_CHUNK = 4096  # images converted to the spec at a time


@dataclass
class ImageSet:
    """Images ready for a model, with what is known about them.

    ``images`` is N×C×H×W float32 in [0, 1] at the model's input spec; ``labels`` int64 (N),
    indices into ``class_names`` or −1 where unknown; ``names`` one display name per image
    (its path relative to the source, or ``file#index`` for IDX records); ``skipped`` the
    (name, reason) of files that could not be read; ``unknown_classes`` the folder names that
    named no class; ``source`` the source string it was opened from.
    """

    images: torch.Tensor
    labels: torch.Tensor
    names: list[str]
    class_names: list[str]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unknown_classes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def open_data(
    source: str, spec: InputSpec, class_names: Sequence[str], *, limit: int | None = None
) -> ImageSet:
    """The images of ``source`` (see the module documentation) converted to ``spec``, labelled
    against ``class_names``.

    ``limit`` keeps the first N images; from class folders (and sample sets) it takes them
    round-robin over the classes, so that a limit of 20 on ten classes gives two of each.
    """
    if limit is not None and limit < 1:
        raise DataLoadError(f"the image limit must be at least 1, not {limit}")
    if not source.strip():  # Path("") is the working directory: never read it by accident
        raise DataLoadError("no images chosen: name a sample set, a folder, an image file or an IDX file")
    class_names = list(class_names)
    scheme, _, name = source.partition(":")
    if scheme == "samples" and name:
        return _open_samples(name, spec, class_names, limit)
    if scheme == "fashion-mnist" and name:
        return _open_fashion_mnist(name, spec, class_names, limit)
    path = Path(source)
    if path.is_dir():
        return _open_folder(path, spec, class_names, limit, source)
    if path.is_file():
        if _is_idx(path):
            return _open_idx(path, _sibling_labels(path), spec, class_names, limit, source)
        return _open_files([(path, path.name, -1)], spec, class_names, None, source)
    raise DataLoadError(
        f"no data at '{source}': give samples:<set>, fashion-mnist:test, fashion-mnist:train, "
        "a folder, an image file or an IDX file"
    )


def class_index(name: str, class_names: Sequence[str]) -> int | None:
    """The index of the class that a folder or data-set name denotes: equal to a class name
    ignoring case, spaces, ``_``, ``-`` and ``/``; else a class index written as digits."""
    key = _name_key(name)
    for index, class_name in enumerate(class_names):
        if _name_key(class_name) == key:
            return index
    if name.isdigit() and int(name) < len(class_names):
        return int(name)
    return None


# -- sources --------------------------------------------------------------------------------------


def _open_samples(name: str, spec: InputSpec, class_names: list[str], limit: int | None) -> ImageSet:
    folder = resource_path("samples", name)
    if not folder.is_dir():
        root = resource_path("samples")
        available = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise DataLoadError(
            f"no sample set '{name}' (available: {', '.join(available) or 'none'})"
        )
    return _open_folder(folder, spec, class_names, limit, f"samples:{name}")


def _open_fashion_mnist(split: str, spec: InputSpec, class_names: list[str], limit: int | None) -> ImageSet:
    if split not in _FASHION_MNIST_FILES:
        raise DataLoadError(f"Fashion-MNIST has the splits test and train, not '{split}'")
    images, labels = (FASHION_MNIST_DIR / name for name in _FASHION_MNIST_FILES[split])
    if not images.is_file():
        raise DataLoadError("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
    return _open_idx(
        images, labels, spec, class_names, limit, f"fashion-mnist:{split}",
        dataset_classes=FASHION_MNIST_CLASSES,
    )


def _open_folder(
    root: Path, spec: InputSpec, class_names: list[str], limit: int | None, source: str
) -> ImageSet:
    """A folder of class sub-folders and/or loose images."""
    aliases = _folder_aliases(root)
    entries = [(path, path.name, -1) for path in _image_files(root, recursive=False)]
    unknown: list[str] = []
    for folder, label in _class_folders(root, aliases, class_names):
        files = _image_files(folder, recursive=True)
        if label is None and files:
            unknown.append(folder.name)
        entries += [(path, path.relative_to(root).as_posix(), -1 if label is None else label) for path in files]
    if not entries:
        raise DataLoadError(f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder or its sub-folders")
    image_set = _open_files(entries, spec, class_names, limit, source)
    image_set.unknown_classes = unknown
    return image_set


def _open_files(
    entries: list[tuple[Path, str, int]],
    spec: InputSpec,
    class_names: list[str],
    limit: int | None,
    source: str,
) -> ImageSet:
    """Decode (path, name, label) entries, up to ``limit`` taken round-robin over labels;
    undecodable files are skipped and listed."""
    loaded: list[tuple[int, torch.Tensor]] = []
    skipped: list[tuple[str, str]] = []
    for order, (path, name, _) in _round_robin(entries):
        if limit is not None and len(loaded) == limit:
            break
        try:
            loaded.append((order, convert_to_spec(load_image(path), spec)[0]))
        except DataLoadError as error:
            skipped.append((name, _reason(error, path)))
    if not loaded:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in skipped[:3])
        raise DataLoadError(f"{source}: no image could be loaded ({reasons})")
    loaded.sort(key=lambda item: item[0])
    chosen = [entries[order] for order, _ in loaded]
    return ImageSet(
        images=torch.stack([image for _, image in loaded]),
        labels=torch.tensor([label for _, _, label in chosen], dtype=torch.int64),
        names=[name for _, name, _ in chosen],
        class_names=class_names,
        source=source,
        skipped=skipped,
    )


def _open_idx(
    images_path: Path,
    labels_path: Path | None,
    spec: InputSpec,
    class_names: list[str],
    limit: int | None,
    source: str,
    dataset_classes: Sequence[str] | None = None,
) -> ImageSet:
    """An IDX images file (N×H×W, or N×H×W×C with C = 1 or 3) and its optional labels file."""
    array = read_idx(images_path)
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[3] in (1, 3):
        array = array.transpose(0, 3, 1, 2)
    else:
        raise DataLoadError(
            f"{images_path}: IDX array of shape {'×'.join(map(str, array.shape))} is not N×H×W or N×H×W×C images"
        )
    count = len(array)
    array = array[:limit]
    labels = torch.full((len(array),), -1, dtype=torch.int64)
    if labels_path is not None:
        labels = _idx_labels(labels_path, count, class_names, dataset_classes)[: len(array)]
    names = [f"{images_path.name}#{i}" for i in range(len(array))]
    return ImageSet(
        images=_convert_batch(array, spec, images_path),
        labels=labels,
        names=names,
        class_names=class_names,
        source=source,
    )


# -- helpers --------------------------------------------------------------------------------------


def _idx_labels(
    path: Path, count: int, class_names: list[str], dataset_classes: Sequence[str] | None
) -> torch.Tensor:
    """Labels from an IDX labels file, mapped to the model's classes: by name when the data
    set's class names are known and the model names any of them, else as indices."""
    raw = read_idx(path)
    if raw.ndim != 1 or len(raw) != count or not np.issubdtype(raw.dtype, np.integer):
        raise DataLoadError(f"{path}: expected {count} integer labels, found an array of shape {raw.shape}")
    raw = raw.astype(np.int64)
    by_name = [class_index(name, class_names) for name in dataset_classes or ()]
    if any(index is not None for index in by_name):
        table = np.array([-1 if index is None else index for index in by_name], dtype=np.int64)
    else:
        table = np.arange(len(class_names), dtype=np.int64)
    inside = (raw >= 0) & (raw < len(table))
    return torch.from_numpy(np.where(inside, table[np.where(inside, raw, 0)], -1))


def _convert_batch(array: np.ndarray, spec: InputSpec, source: Path) -> torch.Tensor:
    """N×C×H×W samples (uint8 scaled by 255, floats clipped to [0, 1]) converted to ``spec``
    a chunk at a time."""
    if array.dtype == np.uint8:
        scale = 255.0
    elif np.issubdtype(array.dtype, np.floating):
        scale = 1.0
    else:
        raise DataLoadError(f"{source}: unsupported IDX sample type {array.dtype} for images")
    chunks = [
        convert_to_spec(torch.from_numpy(array[i : i + _CONVERT_CHUNK].astype(np.float32) / scale), spec)
        for i in range(0, len(array), _CONVERT_CHUNK)
    ]
    return torch.cat(chunks) if chunks else torch.zeros(0, *spec.shape)


def _round_robin(entries: list[tuple[Path, str, int]]) -> list[tuple[int, tuple[Path, str, int]]]:
    """(original position, entry) taking one entry of each label in turn, labels in order of
    first appearance."""
    groups: dict[int, list[tuple[int, tuple[Path, str, int]]]] = {}
    for order, entry in enumerate(entries):
        groups.setdefault(entry[2], []).append((order, entry))
    tiers = itertools.zip_longest(*groups.values())
    return [item for tier in tiers for item in tier if item is not None]


def _folder_aliases(root: Path) -> dict[str, str]:
    """Folder name → class name from a ``labels.json`` in ``root``: either the sample sets'
    ``{"classes": [{"label": …, "folder": …}, …]}`` or a plain object from class name to
    folder name."""
    path = root / "labels.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataLoadError(f"{path}: cannot read: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("classes"), list):
        pairs = [(entry.get("label"), entry.get("folder")) for entry in data["classes"] if isinstance(entry, dict)]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        pairs = [(None, None)]
    if not all(isinstance(label, str) and isinstance(folder, str) for label, folder in pairs):
        raise DataLoadError(
            f'{path}: expected {{"classes": [{{"label": …, "folder": …}}, …]}} or an object '
            "from class name to folder name"
        )
    return {folder: label for label, folder in pairs}


def _class_folders(root: Path, aliases: dict[str, str], class_names: list[str]) -> list[tuple[Path, int | None]]:
    """The sub-folders of ``root`` with the class each names (None if none), in class order
    and then, for those naming no class, in natural order of their names."""
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    labelled = [(folder, class_index(aliases.get(folder.name, folder.name), class_names)) for folder in folders]
    return sorted(labelled, key=lambda item: (item[1] is None, item[1] or 0, _natural_key(item[0].name)))


def _image_files(folder: Path, *, recursive: bool) -> list[Path]:
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    files = [
        p for p in candidates
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files, key=lambda p: _natural_key(p.relative_to(folder)))


def _natural_key(path: Path | str) -> list[object]:
    """Sort key comparing digit runs as numbers: ``2.png`` before ``10.png``."""
    text = path.as_posix() if isinstance(path, Path) else path
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", text)]


def _name_key(name: str) -> str:
    return re.sub(r"[\s/_-]+", "-", name.strip().lower())


def _is_idx(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((".idx", "ubyte")) or re.search(r"idx\d", name) is not None


def _sibling_labels(images: Path) -> Path | None:
    """The labels file beside an IDX images file in the MNIST naming scheme, if it exists."""
    name = images.name.replace("images", "labels").replace("idx3", "idx1")
    candidate = images.with_name(name)
    return candidate if candidate != images and candidate.is_file() else None


def _reason(error: DataLoadError, path: Path) -> str:
    """The message of a per-file error without the leading path (the name is shown beside it)."""
    return str(error).removeprefix(f"{path}: ")
