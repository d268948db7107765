"""Building blocks of the malicious-file tests: a tiny model, pickles that run code, and the
rewriting of a genuine torch.export archive's members."""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn


class CreatesFile:
    """Unpickling this creates the file ``path``: a stand-in for any code a pickle may run."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class CreatesFileAndReturns:
    """Unpickling this creates the file ``path`` and gives back ``value``, so that the file it
    hides in still works as if nothing had happened."""

    def __init__(self, path: Path, value: Any) -> None:
        self.path = str(path)
        self.value = value

    def __reduce__(self):
        return (eval, ("open(path, 'w').close() or value", {"path": self.path, "value": self.value}))


def tiny_net() -> nn.Module:
    """A model whose dense layer fixes its input size at 1×28×28 (10 outputs)."""
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10)).eval()


def raw_pickle(obj: Any) -> bytes:
    """``obj`` pickled with protocol 2, as a legacy file begins: no torch.save framing."""
    return pickle.dumps(obj, protocol=2)


def legacy_torch_save(obj: Any) -> bytes:
    """``obj`` in torch.save's legacy (non-zip) format."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def torch_save(obj: Any, protocol: int = 2) -> bytes:
    """``obj`` in torch.save's zip format."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, pickle_protocol=protocol)
    return buffer.getvalue()


def rewrite_archive(source: Path, rewrite: Callable[[str, bytes], bytes]) -> bytes:
    """The archive ``source`` with each member's bytes replaced by ``rewrite(name, bytes)``,
    where ``name`` is the member's name below the archive's top folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(buffer, "w") as target:
        for info in original.infolist():
            data = original.read(info)
            target.writestr(info.filename, rewrite(info.filename.split("/", 1)[-1], data))
    return buffer.getvalue()
