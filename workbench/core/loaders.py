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

Untrusted files stay data (ARCHITECTURE.md, contract 7): a pickled Python object — a
``torch.save``-d module, or the pickled payloads that a torch.export archive may hold — can
run code when unpickled, so it is refused unless the caller passes ``trust_pickle=True``.

Every problem with a file is raised as :class:`ModelLoadError` saying which it is: missing,
not a model, truncated or damaged, untrusted, not matching its architecture, or not taking
the input spec.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Sequence

import torch
from safetensors.torch import load_file as load_safetensors
from torch import nn

from workbench.core.architectures import build_architecture, builtin_architectures
from workbench.core.errors import ModelLoadError
from workbench.core.model import ModelHandle
from workbench.core.resources import resource_path
from workbench.core.spec import InputSpec

FORMAT_TITLES = {
    "torch-export": "torch.export archive",
    "torchscript": "TorchScript archive",
    "safetensors": "safetensors file",
    "torch-save": "torch.save file",
    "pickle": "Python pickle",
}

_TRUST_HINT = (
    "which can run code when loaded; load it only if you trust its source "
    "(--trust-pickle / 'Trust this file' in the GUI)"
)
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net")
_KEY_PREFIXES = ("module.", "_orig_mod.")
# Payloads of a torch.export archive that torch unpickles as arbitrary objects
# (torch/export/pt2_archive/constants.py: CUSTOM_OBJ_FILENAME_PREFIX, OPAQUE_OBJ_FILENAME_PREFIX).
_PT2_OBJECT_PREFIXES = ("custom_obj_", "opaque_obj_")
# Leading bytes of files people mistake for models, to say what a file is instead.
_MAGIC_NAMES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "gzip-compressed data",
    b"\x89HDF": "an HDF5 file (Keras?)",
}
# A class count no real classifier has: building an architecture with it on the meta device
# shows which tensors of a state_dict hold the classes.
_PROBE_CLASSES = 7919


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
    module = _module_from_state(
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
    module = _module_from_state(contents.model, arch, spec, labels, path.name) if weights_only else contents.model
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
        return _read_export(path, trust_pickle)
    if kind == "torchscript":
        return _Contents(_read_torchscript(path))
    if kind == "safetensors":
        return _Contents(_read_safetensors(path))
    if kind == "pickle":
        return _Contents(_read_pickle(path, trust_pickle))
    return _Contents(_read_torch_save(path, trust_pickle))


def _zip_format(path: Path) -> str:
    """Which PyTorch archive a zip is, from its member names (all under one top folder)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = {name.split("/", 1)[-1] for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelLoadError(
            f"{path.name} is truncated or damaged: its zip directory cannot be read ({_brief(error)})"
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
        raise _damaged(path, "safetensors", error) from error


def _read_torchscript(path: Path) -> nn.Module:
    try:
        with _quiet_torch(), path.open("rb") as handle:
            return torch.jit.load(handle, map_location="cpu")
    except Exception as error:
        raise _damaged(path, "torchscript", error) from error


def _read_torch_save(path: Path, trust_pickle: bool) -> nn.Module | dict[str, torch.Tensor]:
    """A state_dict (or, when trusted, a pickled module) from a ``torch.save`` file."""
    try:
        with _quiet_torch(), path.open("rb") as handle:
            content = torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if not _names_forbidden_global(error):
            raise _damaged(path, "torch-save", error) from error
        if not trust_pickle:
            raise ModelLoadError(f"{path.name} is a pickled Python object, {_TRUST_HINT}") from None
        content = _unpickle_trusted(path, lambda handle: torch.load(handle, map_location="cpu", weights_only=False))
    except Exception as error:
        raise _damaged(path, "torch-save", error) from error
    return _model_or_state(content, path.name)


def _read_pickle(path: Path, trust_pickle: bool) -> nn.Module | dict[str, torch.Tensor]:
    """A plain Python pickle (``pickle.dump``): unpickling it may run code, so only when trusted."""
    if not trust_pickle:
        raise ModelLoadError(f"{path.name} is a pickled Python object, {_TRUST_HINT}")
    return _model_or_state(_unpickle_trusted(path, pickle.load), path.name)


def _unpickle_trusted(path: Path, unpickle: Callable[[BinaryIO], Any]) -> Any:
    """The object in a file the user trusts, read with a full unpickler."""
    try:
        with _quiet_torch(), path.open("rb") as handle:
            return unpickle(handle)
    except Exception as error:
        raise ModelLoadError(f"{path.name} could not be unpickled: {_brief(error)}") from error


def _read_export(path: Path, trust_pickle: bool) -> _Contents:
    """The module of a torch.export archive and the input shape it was exported for."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickled = _pickled_member(archive)
        if pickled and not trust_pickle:
            raise ModelLoadError(
                f"{path.name} contains a pickled Python object ({pickled}) that only a full "
                f"unpickler reads, {_TRUST_HINT}"
            )
        with _quiet_torch(), path.open("rb") as handle:
            program = torch.export.load(handle)
        module = program.module()
    except ModelLoadError:
        raise
    except Exception as error:
        raise _damaged(path, "torch-export", error) from error
    batch, shape = _exported_input(program)
    return _Contents(ExportedModule(module, batch), shape)


def _pickled_member(archive: zipfile.ZipFile) -> str | None:
    """The first member of a torch.export archive that torch would read with a full
    unpickler, or None. torch unpickles custom and opaque objects outright, and falls back to
    full unpickling for any nested ``torch.save`` payload (sample inputs, pickled weights)
    that ``torch.load(weights_only=True)`` cannot read — whether it names a forbidden global,
    uses an opcode the safe unpickler lacks, or is damaged."""
    for info in archive.infolist():
        if info.filename.rsplit("/", 1)[-1].startswith(_PT2_OBJECT_PREFIXES):
            return info.filename
        with archive.open(info) as member:
            nested_zip = member.read(4) == b"PK\x03\x04"
        if nested_zip and not _loads_weights_only(archive.read(info)):
            return info.filename
    return None


def _loads_weights_only(data: bytes) -> bool:
    try:
        with _quiet_torch():
            torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:
        return False
    return True


def _names_forbidden_global(error: pickle.UnpicklingError) -> bool:
    """Whether ``torch.load(weights_only=True)`` failed because the pickle names a Python
    global outside its allow-list (a class, a function such as ``os.system``) rather than
    because the data is damaged."""
    return "GLOBAL " in str(error)  # "Unsupported global: GLOBAL x…", "unsupported GLOBAL x…"


def _exported_input(program: torch.export.ExportedProgram) -> tuple[int | None, tuple[int, int, int] | None]:
    """(fixed batch size or None, C×H×W or None) of the single image input an exported
    program was traced with, from the placeholder's recorded example value."""
    names = program.graph_signature.user_inputs
    values = [node.meta.get("val") for node in program.graph.nodes if node.op == "placeholder" and node.name in names]
    if len(values) != 1 or not isinstance(values[0], torch.Tensor) or values[0].dim() != 4:
        return None, None
    dims = tuple(values[0].shape)
    batch = dims[0] if isinstance(dims[0], int) else None
    shape = dims[1:] if all(isinstance(d, int) for d in dims[1:]) else None
    return batch, shape


class ExportedModule(nn.Module):
    """The module of a torch.export program, usable inside a :class:`ModelHandle`.

    Exported modules are traced in one mode and refuse ``train()``/``eval()``; this wrapper
    keeps its own mode flag without passing it on. A program exported for a fixed batch size
    runs on batches of any size in chunks of that size, the last one padded with zeros (and
    the padding's outputs dropped).
    """

    def __init__(self, inner: nn.Module, batch: int | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.batch = batch

    def train(self, mode: bool = True) -> "ExportedModule":
        self.training = mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.batch is None:
            return self.inner(x)
        outputs = []
        for chunk in x.split(self.batch):
            n = chunk.shape[0]
            if n < self.batch:
                chunk = torch.cat([chunk, chunk.new_zeros(self.batch - n, *chunk.shape[1:])])
            outputs.append(self.inner(chunk)[:n])
        return torch.cat(outputs)


# -- from weights to a module ---------------------------------------------------------------------


def _model_or_state(content: Any, name: str) -> nn.Module | dict[str, torch.Tensor]:
    """A module, or a state_dict unwrapped from the common checkpoint dictionaries."""
    if isinstance(content, nn.Module):
        return content
    if isinstance(content, Mapping):
        if content and all(isinstance(v, torch.Tensor) for v in content.values()):
            return _strip_key_prefixes({str(k): v for k, v in content.items()})
        for key in _CHECKPOINT_KEYS:
            if key in content:
                return _model_or_state(content[key], name)
        raise ModelLoadError(
            f"{name} holds a dictionary without model weights (keys: {_few(list(content))}); "
            "expected a state_dict"
        )
    raise ModelLoadError(f"{name} holds a {type(content).__name__}, not a model or a state_dict")


def _strip_key_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove the ``module.`` / ``_orig_mod.`` prefix that wrappers put on every key."""
    for prefix in _KEY_PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            return _strip_key_prefixes({key[len(prefix):]: v for key, v in state.items()})
    return state


def _module_from_state(
    state: dict[str, torch.Tensor], arch: str, spec: InputSpec, labels: Sequence[str] | None, name: str
) -> nn.Module:
    """The named architecture with ``state`` loaded strictly. The class count comes from the
    weights; when they lack the architecture's classifier (so that they do not fit it, which
    the fit check then reports), from the labels."""
    classes = _classes_in_state(arch, spec.channels, state) or (len(labels) if labels else 1)
    module = build_architecture(arch, num_classes=classes, in_channels=spec.channels)
    _check_state_fits(module.state_dict(), state, arch, name)
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as error:
        raise ModelLoadError(f"{name} does not fit architecture '{arch}': {_brief(error)}") from error
    return module


def _classes_in_state(arch: str, in_channels: int, state: Mapping[str, torch.Tensor]) -> int | None:
    """The class count that ``state`` was trained with: build ``arch`` on the meta device
    (no memory, no time) with a sentinel class count and read the size of the last tensor
    that has it from ``state``. None when that does not work out."""
    try:
        with torch.device("meta"):
            probe = build_architecture(arch, num_classes=_PROBE_CLASSES, in_channels=in_channels)
    except ModelLoadError:
        raise
    except Exception:
        return None
    keys = [key for key, t in probe.state_dict().items() if t.dim() and t.shape[0] == _PROBE_CLASSES]
    found = [key for key in keys if key in state and state[key].dim()]
    return int(state[found[-1]].shape[0]) if found else None


def _check_state_fits(expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor], arch: str, name: str) -> None:
    """Raise naming the first missing, unexpected and mis-sized keys, if any."""
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    mis_sized = [key for key in expected if key in found and found[key].shape != expected[key].shape]
    problems = []
    if missing:
        problems.append(f"missing keys {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_few(unexpected)}")
    if mis_sized:
        key = mis_sized[0]
        more = f" (and {len(mis_sized) - 1} more)" if len(mis_sized) > 1 else ""
        problems.append(
            f"size mismatch for {key}: {_dims(found[key])} in the file, {_dims(expected[key])} in the "
            f"architecture{more}"
        )
    if problems:
        raise ModelLoadError(f"{name} does not match architecture '{arch}': {'; '.join(problems)}")


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
        raise ModelLoadError(f"{name}: model does not accept input of shape {shape}: {_brief(error)}") from error
    if not isinstance(output, torch.Tensor) or output.dim() != 2 or output.shape[0] != 1:
        got = _dims(output) if isinstance(output, torch.Tensor) else type(output).__name__
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


def _damaged(path: Path, kind: str, error: BaseException) -> ModelLoadError:
    return ModelLoadError(
        f"{path.name} could not be read as a {FORMAT_TITLES[kind]}: it is truncated or damaged "
        f"({_brief(error)})"
    )


def _brief(error: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, shortened: enough to say why."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _few(keys: Sequence[Any], shown: int = 3) -> str:
    names = ", ".join(str(k) for k in keys[:shown])
    return names + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def _dims(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "scalar"


@contextmanager
def _quiet_torch() -> Iterator[None]:
    """Keep PyTorch's warnings and logged tracebacks about a file (deprecations, failed
    deserialization) off the console: the caller turns failures into one clear message."""
    loggers = [logging.getLogger(name) for name in ("torch.export", "torch._export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
