"""torch.export archives (``.pt2``), read so that an untrusted one stays data.

``torch.export.load`` is not safe on a file from elsewhere: it unpickles weights and constants
marked ``use_pickle`` with a full unpickler, falls back to one for sample inputs that the
weights-only unpickler refuses (a raw pickle, a legacy ``torch.save``, a forbidden global),
``pickle.loads`` opaque objects, loads AOTInductor shared libraries, and evaluates the program's
symbolic shape expressions with ``sympy.sympify`` (Python's ``eval``). So an untrusted archive
never reaches it. :func:`read_export` reads the members itself and hands torch's deserializer
only objects that are already decoded, for which it unpickles nothing:

* the program: JSON, parsed by torch's schema code, after every symbolic expression in it has
  been checked against the small grammar that torch writes (names of sympy and torch shape
  functions, symbols, numbers and operators; no attribute access, subscripts or other names);
* raw tensor payloads: torch's own reader of raw storage, which does not unpickle;
* every pickled payload — weights and constants marked ``use_pickle``, legacy weight files,
  the sample inputs — through :func:`~workbench.core.safe_pickle.load_weights_only`, whatever
  its first bytes; one that needs more is refused, and so are custom and opaque objects;
* AOTInductor code: never loaded.

A trusted archive (``trust_pickle=True``) goes to ``torch.export.load`` as it is. The untrusted
path uses torch's private serde helpers (``torch.export.pt2_archive._package``,
``torch._export.serde``); if a torch release changes them, archives fail to load as damaged —
they do not fall back to torch's loader.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path
from typing import Any

import sympy
import torch
import torch.utils._sympy.functions as shape_functions
from torch import nn
from torch._export.serde import schema
from torch._export.serde.serialize import (
    ExportedProgramDeserializer,
    _dict_to_dataclass,
    deserialize_size,
    deserialize_storage_offset,
    deserialize_stride,
)
from torch.export.pt2_archive import constants as layout
from torch.export.pt2_archive._package import PT2ArchiveReader, _build_file_map, _load_payload_config

from workbench.core.errors import ModelLoadError
from workbench.core.read_errors import damaged, quiet_torch, untrusted
from workbench.core.safe_pickle import UnsafePayload, load_weights_only

_MODEL = "model"  # the program torch.export.save writes, and the one torch.export.load returns
# The names a symbolic shape expression may use: what sympy's srepr writes for shape
# arithmetic and relations, and torch's shape functions. Anything else is not a shape.
_SHAPE_NAMES = frozenset({
    "Symbol", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "Abs", "floor", "ceiling",
    "Equality", "Unequality", "StrictLessThan", "LessThan", "StrictGreaterThan", "GreaterThan",
    "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "And", "Or", "Not", "Piecewise", "ExprCondPair",
    "true", "false", "True", "False", "oo", "zoo", "nan",
}) | frozenset(
    name for name, value in vars(shape_functions).items()
    if isinstance(value, type) and issubclass(value, sympy.Basic)
)
_SHAPE_OPERATORS = frozenset("( ) , + - * / // % ** < > <= >= == != & | ~ ^ =".split())
_SYMBOL = re.compile(r"[a-z]{1,3}[0-9]+")  # a shape symbol written bare: s0, u1, zuf2
_SHAPE_STRING = re.compile(r"""(['"])([A-Za-z_][A-Za-z0-9_]*|[-+0-9.eE]+)\1""")


def read_export(path: Path, trust_pickle: bool) -> tuple[nn.Module, tuple[int, int, int] | None]:
    """The module of a torch.export archive (as an :class:`ExportedModule`) and the C×H×W input
    shape it was exported for, if it records one."""
    try:
        with quiet_torch(), path.open("rb") as handle:
            program = _load_trusted(handle) if trust_pickle else _load_untrusted(path, handle)
            module = program.module()
    except ModelLoadError:
        raise
    except Exception as error:
        raise damaged(path, "torch-export", error) from error
    batch, shape = _exported_input(program)
    return ExportedModule(module, batch), shape


def _load_trusted(handle: io.BufferedReader) -> torch.export.ExportedProgram:
    """torch's own loader, full unpickling included: only for archives the user trusts."""
    return torch.export.load(handle)


def _load_untrusted(path: Path, handle: io.BufferedReader) -> torch.export.ExportedProgram:
    """The program of an archive read member by member, with no full unpickler reachable."""
    reader = PT2ArchiveReader(handle)
    version = reader.read_string(layout.ARCHIVE_VERSION_PATH)
    if version != layout.ARCHIVE_VERSION_VALUE:
        raise ValueError(f"archive version {version}, this PyTorch reads {layout.ARCHIVE_VERSION_VALUE}")
    names = set(reader.get_file_names())
    program = json.loads(reader.read_string(layout.MODELS_FILENAME_FORMAT.format(_MODEL)))
    _check_shape_expressions(path, program)
    state_dict = _payloads(path, reader, names, layout.WEIGHTS_DIR, layout.WEIGHTS_CONFIG_FILENAME_FORMAT)
    constants = _payloads(path, reader, names, layout.CONSTANTS_DIR, layout.CONSTANTS_CONFIG_FILENAME_FORMAT)
    sample_name = layout.SAMPLE_INPUTS_FILENAME_FORMAT.format(_MODEL)
    samples = reader.read_bytes(sample_name)
    example_inputs = _decoded(path, sample_name, samples, (tuple, dict)) if samples else None
    return ExportedProgramDeserializer().deserialize(
        _dict_to_dataclass(schema.ExportedProgram, program), state_dict, constants, example_inputs
    )


def _payloads(path: Path, reader: PT2ArchiveReader, names: set[str], folder: str, config_format: str) -> dict[str, Any]:
    """The weights (or constants) of the program by name: raw tensors as torch lays them out,
    pickled ones decoded weights-only; objects without a tensor form are refused."""
    legacy = f"{folder}{_MODEL}.pt"  # torch ≤ 2.6 wrote all of them as one torch.save payload
    if legacy in names:
        return _decoded(path, legacy, reader.read_bytes(legacy), (dict,))
    config = _load_payload_config(reader, config_format.format(_MODEL))
    raw = _build_file_map(reader, config, folder)  # skips the payloads marked use_pickle
    payloads: dict[str, Any] = {}
    for name, meta in config.config.items():
        member = folder + meta.path_name
        if meta.use_pickle:
            payloads[name] = _decoded(path, member, reader.read_bytes(member), (torch.Tensor,))
        elif meta.tensor_meta is None:
            raise untrusted(path, f"contains a Python object ({member}) that only a full unpickler reads")
        else:
            tensor = torch.as_strided(
                raw[meta.path_name],
                deserialize_size(meta.tensor_meta.sizes),
                deserialize_stride(meta.tensor_meta.strides),
                deserialize_storage_offset(meta.tensor_meta.storage_offset),
            )
            requires_grad = meta.tensor_meta.requires_grad
            payloads[name] = nn.Parameter(tensor, requires_grad=requires_grad) if meta.is_param else tensor
    return payloads


def _decoded(path: Path, member: str, data: bytes, kinds: tuple[type, ...]) -> Any:
    """A pickled member decoded weights-only, refused unless it is one of ``kinds`` (so that
    no bytes are passed on for torch to unpickle again)."""
    try:
        value = load_weights_only(data)
    except UnsafePayload:
        raise untrusted(path, f"contains a pickled Python object ({member}) that only a full unpickler reads") from None
    if not isinstance(value, kinds):
        raise ValueError(f"{member} holds a {type(value).__name__}, not a {' or '.join(k.__name__ for k in kinds)}")
    return value


def _check_shape_expressions(path: Path, program: Any) -> None:
    """Refuse a program whose symbolic shape expressions (``expr_str``, which torch evaluates
    as Python) are not plain shape arithmetic."""
    stack = [program]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            text = item.get("expr_str")
            if isinstance(text, str) and not _is_shape_expression(text):
                raise untrusted(path, f"contains a shape expression that is Python code ({text[:60]!r})")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _is_shape_expression(text: str) -> bool:
    """Whether every token of ``text`` is a number, a known shape name, a symbol, a keyword
    argument's name, an identifier-like or numeric string or an arithmetic operator."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.string.strip()]
    except (tokenize.TokenError, SyntaxError):
        return False
    for token, following in zip(tokens, tokens[1:] + [None]):
        keyword = following is not None and following.string == "=" and token.string.isidentifier()
        if token.type == tokenize.NUMBER or token.string in _SHAPE_NAMES or keyword or _SYMBOL.fullmatch(token.string):
            continue
        if token.type == tokenize.STRING and _SHAPE_STRING.fullmatch(token.string):
            continue
        if token.type == tokenize.OP and token.string in _SHAPE_OPERATORS:
            continue
        return False
    return True


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
    """The module of a torch.export program, usable inside a ``ModelHandle``.

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
