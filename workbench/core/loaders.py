"""Model loaders: the built-in zoo by id, and model files in the common PyTorch formats.

A file's format is recognised by its content; its suffix does not matter:

* **torch.export archive** (``.pt2``, written by ``torch.export.save``): a zip holding the
  program as JSON and the tensors as raw bytes. It records its input shape, so an input spec
  is optional (the default then is that shape with mean 0 and std 1). A program exported
  with a fixed batch size runs on larger batches chunk by chunk.
* **TorchScript archive** (``torch.jit.save``, often ``.pt``): a zip with ``code/`` and
  ``constants.pkl``. Its code is TorchScript, interpreted by PyTorch, not Python.
* **safetensors** (``.safetensors``): an 8-byte little-endian header length, a JSON header
  and raw tensors (https://huggingface.co/docs/safetensors). Weights only.
* **torch.save file** (``.pt``, ``.pth``, ``.bin``; zip or legacy pickle format): read with
  ``torch.load(weights_only=True)``. A state_dict, also inside a ``{"state_dict": …}``,
  ``{"model_state_dict": …}``, ``{"model": …}`` or ``{"net": …}`` checkpoint, with keys
  optionally prefixed ``module.`` (DataParallel) or ``_orig_mod.`` (``torch.compile``).
* **Python pickle** (``pickle.dump``, any newer pickle protocol): only when trusted, see below.

Weights-only files need an architecture (``arch``: a zoo name such as ``small-cnn`` or any
torchvision classification model such as ``resnet18``) and an input spec; the class count
comes from the weights. Complete models (torch.export, TorchScript, trusted pickles) carry no
normalization: unless the caller's input spec says a mean and std, the model is taken to
expect pixels in [0, 1] (mean 0, std 1).

Untrusted files stay data, by construction (ARCHITECTURE.md, contract 7). Unless the caller
passes ``trust_pickle=True``, every byte that a loader hands to an unpickler goes through
PyTorch's weights-only unpickler (:mod:`workbench.core.safe_pickle`) or the file is refused,
whatever the payload's first bytes or member name: a pickled module or a plain pickle is
refused, and a torch.export archive is read member by member (:mod:`~workbench.core.export_archive`),
not by ``torch.export.load``, so that none of its pickled payloads (sample inputs, weights or
constants marked ``use_pickle``, custom objects) and none of its shape expressions run code.
The refusal names the trust option. Only the trusted path reaches a full unpickler
(``safe_pickle.unpickle_trusted``, ``export_archive._load_trusted``); a test scans for others.

Every problem with a file is raised as :class:`ModelLoadError` saying which it is: missing,
not a model, truncated or damaged, untrusted, not matching its architecture, or not taking
the input spec.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors.torch import load_file as load_safetensors
from torch import nn

from workbench.core.architectures import builtin_architectures
from workbench.core.errors import ModelLoadError
from workbench.core.export_archive import ExportedModule, read_export
from workbench.core.model import ModelHandle
from workbench.core.read_errors import FORMAT_TITLES, brief, damaged, quiet_torch
from workbench.core.resources import resource_path
from workbench.core.safe_pickle import read_pickle, read_torch_save
from workbench.core.spec import InputSpec
from workbench.core.state_dicts import dims, model_or_state, module_from_state

__all__ = ["FORMAT_TITLES", "ExportedModule", "builtin_models", "detect_format", "file_sha256",
           "load_builtin", "load_labels_file", "load_model"]

# Leading bytes of files people mistake for models, to say what a file is instead.
_MAGIC_NAMES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "gzip-compressed data",
    b"\x89HDF": "an HDF5 file (Keras?)",
}
@dataclass
class _Contents:
    """What a file holds: a complete module or a state_dict, and the input shape C×H×W it
    records (torch.export archives only)."""

    model: nn.Module | dict[str, torch.Tensor]
    input_shape: tuple[int, int, int] | None = None


# -- public API -----------------------------------------------------------------------------------


def builtin_models() -> list[dict[str, Any]]:
    """The model cards of the built-in models (``resources/models/<id>.json``), sorted by id."""
    return [_read_card(path) for path in _card_paths()]


def load_builtin(model_id: str, device: str | torch.device | None = None) -> ModelHandle:
    """A built-in model by id: its safetensors weights, checked against the sha256 of its
    card, in the architecture, input spec and labels the card names."""
    paths = {path.stem: path for path in _card_paths()}
    if model_id not in paths:
        raise ModelLoadError(
            f"unknown built-in model '{model_id}' (built-in: {', '.join(paths) or 'none'})"
        )
    card = _read_card(paths[model_id])
    weights = paths[model_id].with_name(Path(card["weights"]).name)
    if not weights.is_file():
        raise ModelLoadError(
            f"the weights of built-in model '{model_id}' are missing ({weights}); "
            "rebuild them with `make zoo`"
        )
    digest = file_sha256(weights)
    if digest != str(card["sha256"]).lower():
        raise ModelLoadError(
            f"weights of '{model_id}' do not match their card (sha256 {digest[:16]}… of the file, "
            f"{str(card['sha256'])[:16]}… on the card); rebuild them with `make zoo`"
        )
    spec = InputSpec.from_dict(card["input"])
    module = module_from_state(
        _read_safetensors(weights), card["architecture"], spec, card["labels"], weights.name
    )
    return _make_handle(
        module, spec, card["labels"], model_id=model_id, weight_hash=digest, card=card, device=device
    )


def load_model(
    source: str | Path,
    *,
    arch: str | None = None,
    input_spec: InputSpec | None = None,
    labels: Sequence[str] | None = None,
    device: str | torch.device | None = None,
    trust_pickle: bool = False,
) -> ModelHandle:
    """A model from a built-in id (see :func:`builtin_models`) or a model file.

    For a file: ``arch`` names the architecture of weights-only files; ``input_spec`` says
    the input (required except for torch.export archives, which record their input shape);
    ``labels`` names the classes (default ``"class 0"``, ``"class 1"``, …, one per output);
    ``trust_pickle`` allows unpickling Python objects, which can run code from the file.
    A built-in id wins over a file of the same name; write ``./name`` for the file.
    """
    if isinstance(source, str) and source in {path.stem for path in _card_paths()}:
        if arch is not None or input_spec is not None or labels is not None:
            raise ModelLoadError(
                f"built-in model '{source}' takes its architecture, input and labels from its "
                "card; give them only with model files"
            )
        return load_builtin(source, device=device)
    return _load_file(Path(source), arch, input_spec, labels, device, trust_pickle)


def detect_format(path: str | Path) -> str:
    """The format of a model file from its content: ``"torch-export"``, ``"torchscript"``,
    ``"safetensors"``, ``"torch-save"`` or ``"pickle"`` (keys of :data:`FORMAT_TITLES`).

    Raises :class:`ModelLoadError` when the file cannot be read, is recognisably truncated, or
    is not a model file at all.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise ModelLoadError(f"{path}: cannot read: {error.strerror or error}") from error
    if head.startswith(b"PK"):  # a zip archive (APPNOTE.TXT: local file header "PK\3\4")
        return _zip_format(path)
    if len(head) >= 9 and head[8:9] == b"{":  # safetensors: u64 header length, then JSON
        header_length = int.from_bytes(head[:8], "little")
        if 8 + header_length > size:
            raise ModelLoadError(
                f"{path.name} is truncated: its safetensors header needs {header_length} bytes, "
                f"the file has {size - 8} after the length field"
            )
        return "safetensors"
    if head[:2] == b"\x80\x02":  # pickle protocol 2 (PEP 307): torch.save's legacy format
        return "torch-save"
    if head[:1] == b"\x80":  # a newer pickle protocol: written by pickle.dump, not torch.save
        return "pickle"
    raise ModelLoadError(
        f"{path.name} is not a model file ({_describe_content(head, size)}); the workbench loads "
        "torch.export (.pt2), TorchScript, safetensors and torch.save state_dict files"
    )


def load_labels_file(path: str | Path) -> list[str]:
    """Class names from a file, in class-index order: a JSON list of names; a JSON object
    from index to name (as ImageNet's class-index file, where the name is the last item of a
    list); or text with one name per line (blank lines ignored, UTF-8)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"{path}: cannot read the labels file: {error}") from error
    if path.suffix.lower() == ".json":
        labels = _labels_from_json(path, text)
    else:
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise ModelLoadError(f"{path}: the labels file names no classes")
    return labels


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, as lowercase hex (the weight hash of model files and cards)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- model files ----------------------------------------------------------------------------------


def _load_file(
    path: Path,
    arch: str | None,
    input_spec: InputSpec | None,
    labels: Sequence[str] | None,
    device: str | torch.device | None,
    trust_pickle: bool,
) -> ModelHandle:
    """A model file of any format as a handle (see :func:`load_model`)."""
    if not path.is_file():
        if path.exists():
            raise ModelLoadError(f"{path} is a folder, not a model file")
        builtin = ", ".join(card.stem for card in _card_paths()) or "none"
        raise ModelLoadError(f"no model file {path} (and no built-in model of that name; built-in: {builtin})")
    kind = detect_format(path)
    contents = _read_model_file(path, kind, trust_pickle)
    weights_only = not isinstance(contents.model, nn.Module)
    if weights_only and arch is None:
        raise ModelLoadError(
            f"{path.name} holds only weights: give its architecture (--arch: "
            f"{', '.join(builtin_architectures())}, or a torchvision model such as resnet18)"
        )
    spec = input_spec or _spec_from_shape(contents.input_shape)
    if spec is None:
        what = "holds only weights" if weights_only else f"is a {FORMAT_TITLES[kind]}, which does not record its input"
        raise ModelLoadError(
            f"{path.name} {what}: give its input size (--input-size HxW and --channels; "
            "--mean/--std if it expects normalized input)"
        )
    module = module_from_state(contents.model, arch, spec, labels, path.name) if weights_only else contents.model
    card = {"format": kind, "path": str(path.resolve()), "architecture": arch}
    return _make_handle(
        module, spec, labels, model_id=path.name, weight_hash=file_sha256(path), card=card, device=device
    )


# -- built-in cards -------------------------------------------------------------------------------


def _card_paths() -> list[Path]:
    return sorted(resource_path("models").glob("*.json"))


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"model card {path.name} cannot be read: {error}") from error
    if not isinstance(card, dict):
        raise ModelLoadError(f"model card {path.name} is not a JSON object")
    missing = [k for k in ("architecture", "weights", "sha256", "input", "labels") if k not in card]
    if missing:
        raise ModelLoadError(f"model card {path.name} lacks {', '.join(missing)}")
    return {"id": path.stem, **card}


# -- reading files --------------------------------------------------------------------------------


def _read_model_file(path: Path, kind: str, trust_pickle: bool) -> _Contents:
    """The contents of a model file of a detected format; damage is reported as such."""
    if kind == "torch-export":
        return _Contents(*read_export(path, trust_pickle))
    if kind == "torchscript":
        return _Contents(_read_torchscript(path))
    if kind == "safetensors":
        return _Contents(_read_safetensors(path))
    if kind == "pickle":
        return _Contents(model_or_state(read_pickle(path, trust_pickle), path.name))
    return _Contents(model_or_state(read_torch_save(path, trust_pickle), path.name))


def _zip_format(path: Path) -> str:
    """Which PyTorch archive a zip is, from its member names (all under one top folder)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = {name.split("/", 1)[-1] for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelLoadError(
            f"{path.name} is truncated or damaged: its zip directory cannot be read ({brief(error)})"
        ) from error
    if "archive_format" in names:
        return "torch-export"
    if "constants.pkl" in names and any(name.startswith("code/") for name in names):
        return "torchscript"
    if "data.pkl" in names:
        return "torch-save"
    raise ModelLoadError(
        f"{path.name} is a zip archive but not a PyTorch model "
        "(no torch.export program, TorchScript code or torch.save data)"
    )


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors(str(path), device="cpu")
    except Exception as error:  # safetensors raises its own error types for bad headers
        raise damaged(path, "safetensors", error) from error


def _read_torchscript(path: Path) -> nn.Module:
    try:
        with quiet_torch(), path.open("rb") as handle:
            return torch.jit.load(handle, map_location="cpu")
    except Exception as error:
        raise damaged(path, "torchscript", error) from error


# -- the handle -----------------------------------------------------------------------------------


def _make_handle(
    module: nn.Module,
    spec: InputSpec,
    labels: Sequence[str] | None,
    *,
    model_id: str,
    weight_hash: str,
    card: dict[str, Any],
    device: str | torch.device | None,
) -> ModelHandle:
    """Check the weights and a forward pass, then wrap the module in a handle."""
    module.eval()
    _check_finite(module, model_id)
    outputs = _count_outputs(module, spec, model_id)
    if labels is None:
        labels = [f"class {i}" for i in range(outputs)]
    elif len(labels) != outputs:
        raise ModelLoadError(f"{model_id}: {len(labels)} labels given for a model with {outputs} outputs")
    return ModelHandle(
        module, spec=spec, labels=[str(label) for label in labels], model_id=model_id,
        device=device, weight_hash=weight_hash, card=card,
    )


def _check_finite(module: nn.Module, name: str) -> None:
    for key, tensor in module.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelLoadError(f"{name}: the weights contain NaN or infinite values (in {key})")


def _count_outputs(module: nn.Module, spec: InputSpec, name: str) -> int:
    """K, from a forward pass on one black image of the spec's shape."""
    shape = "×".join(map(str, (1, *spec.shape)))
    try:
        with torch.no_grad():
            output = module(torch.zeros(1, *spec.shape))
    except Exception as error:
        raise ModelLoadError(f"{name}: model does not accept input of shape {shape}: {brief(error)}") from error
    if not isinstance(output, torch.Tensor) or output.dim() != 2 or output.shape[0] != 1:
        got = dims(output) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ModelLoadError(f"{name}: for input {shape} the model returns {got}, not logits of shape 1×K")
    return int(output.shape[1])


# -- messages and helpers -------------------------------------------------------------------------


def _spec_from_shape(shape: tuple[int, int, int] | None) -> InputSpec | None:
    if shape is None or shape[0] not in (1, 3):
        return None
    return InputSpec(channels=shape[0], height=shape[1], width=shape[2])


def _labels_from_json(path: Path, text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ModelLoadError(f"{path}: not valid JSON: {error}") from error
    if isinstance(data, dict):
        try:
            items = sorted((int(k), v) for k, v in data.items())
        except ValueError:
            raise ModelLoadError(f"{path}: a JSON object of labels needs class indices as keys") from None
        if [i for i, _ in items] != list(range(len(items))):
            raise ModelLoadError(f"{path}: the class indices are not 0…{len(items) - 1}")
        data = [v[-1] if isinstance(v, list) and v else v for _, v in items]
    if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
        raise ModelLoadError(f"{path}: expected a JSON list of class names")
    return [v.strip() for v in data]


def _describe_content(head: bytes, size: int) -> str:
    if size == 0:
        return "the file is empty"
    for magic, what in _MAGIC_NAMES.items():
        if head.startswith(magic):
            return f"it is {what}"
    return "its content is in no known model format"
