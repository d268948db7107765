"""Every unpickling the workbench does happens here (ARCHITECTURE.md, contract 7).

Unpickling a Python object can run any code the file names, so there are exactly two ways in:

* :func:`load_weights_only` — PyTorch's weights-only unpickler (``torch.load(weights_only=True)``),
  which builds tensors, containers and numbers and refuses every other global. Untrusted bytes
  only ever go here, whatever they look like: nothing is decided from a payload's first bytes.
* :func:`unpickle_trusted` — a full unpickler, reached only when the user has said that the
  file is trusted (``trust_pickle=True``; ``--trust-pickle``, "Trust this file" in the GUI).

``tests/test_no_unsafe_unpickling.py`` checks that no other code in ``workbench`` calls an
unpickler, ``torch.load`` without ``weights_only=True`` or ``torch.export.load``.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import torch

from workbench.core.errors import ModelLoadError
from workbench.core.read_errors import brief, damaged, quiet_torch, untrusted


class UnsafePayload(Exception):
    """Bytes that the weights-only unpickler does not read: a Python object outside its
    allow-list, an opcode it lacks, or damage. Only a full unpickler could read them."""


def load_weights_only(data: bytes) -> Any:
    """What ``data`` (a ``torch.save`` payload) holds, read by PyTorch's weights-only unpickler
    onto the CPU; :class:`UnsafePayload` when that unpickler cannot read it, for any reason."""
    try:
        with quiet_torch():
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:
        raise UnsafePayload(brief(error)) from error


def read_torch_save(path: Path, trust_pickle: bool) -> Any:
    """The object in a ``torch.save`` file: weights-only, or — when the file names a Python
    object and the user trusts it — fully unpickled."""
    try:
        with quiet_torch(), path.open("rb") as handle:
            return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if not _names_forbidden_global(error):
            raise damaged(path, "torch-save", error) from error
        if not trust_pickle:
            raise untrusted(path) from None
        return unpickle_trusted(path, torch_format=True)
    except Exception as error:
        raise damaged(path, "torch-save", error) from error


def read_pickle(path: Path, trust_pickle: bool) -> Any:
    """The object in a plain Python pickle (``pickle.dump``): unpickling it may run code, so
    only when trusted."""
    if not trust_pickle:
        raise untrusted(path)
    return unpickle_trusted(path, torch_format=False)


def unpickle_trusted(path: Path, *, torch_format: bool) -> Any:
    """The object in a file the user trusts, read with a full unpickler: ``torch.load`` for a
    ``torch.save`` file, ``pickle.load`` otherwise. Call it only when ``trust_pickle`` is set."""
    try:
        with quiet_torch(), path.open("rb") as handle:
            if torch_format:
                return torch.load(handle, map_location="cpu", weights_only=False)
            return pickle.load(handle)
    except Exception as error:
        raise ModelLoadError(f"{path.name} could not be unpickled: {brief(error)}") from error


def _names_forbidden_global(error: pickle.UnpicklingError) -> bool:
    """Whether ``torch.load(weights_only=True)`` failed because the pickle names a Python
    global outside its allow-list (a class, a function such as ``os.system``) rather than
    because the data is damaged."""
    return "GLOBAL " in str(error)  # "Unsupported global: GLOBAL x…", "unsupported GLOBAL x…"
