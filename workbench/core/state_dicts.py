"""From the weights of a file to a module: unwrapping checkpoints, and loading a state_dict
strictly into a named architecture, with messages that say what does not fit."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn

from workbench.core.architectures import build_architecture
from workbench.core.errors import ModelLoadError
from workbench.core.read_errors import brief
from workbench.core.spec import InputSpec

_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net")
_KEY_PREFIXES = ("module.", "_orig_mod.")
# A class count no real classifier has: building an architecture with it on the meta device
# shows which tensors of a state_dict hold the classes.
_PROBE_CLASSES = 7919


def model_or_state(content: Any, name: str) -> nn.Module | dict[str, torch.Tensor]:
    """A module, or a state_dict unwrapped from the common checkpoint dictionaries."""
    if isinstance(content, nn.Module):
        return content
    if isinstance(content, Mapping):
        if content and all(isinstance(v, torch.Tensor) for v in content.values()):
            return _strip_key_prefixes({str(k): v for k, v in content.items()})
        for key in _CHECKPOINT_KEYS:
            if key in content:
                return model_or_state(content[key], name)
        raise ModelLoadError(
            f"{name} holds a dictionary without model weights (keys: {few(list(content))}); "
            "expected a state_dict"
        )
    raise ModelLoadError(f"{name} holds a {type(content).__name__}, not a model or a state_dict")


def _strip_key_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove the ``module.`` / ``_orig_mod.`` prefix that wrappers put on every key."""
    for prefix in _KEY_PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            return _strip_key_prefixes({key[len(prefix):]: v for key, v in state.items()})
    return state


def module_from_state(
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
        raise ModelLoadError(f"{name} does not fit architecture '{arch}': {brief(error)}") from error
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
        problems.append(f"missing keys {few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {few(unexpected)}")
    if mis_sized:
        key = mis_sized[0]
        more = f" (and {len(mis_sized) - 1} more)" if len(mis_sized) > 1 else ""
        problems.append(
            f"size mismatch for {key}: {dims(found[key])} in the file, {dims(expected[key])} in the "
            f"architecture{more}"
        )
    if problems:
        raise ModelLoadError(f"{name} does not match architecture '{arch}': {'; '.join(problems)}")


def few(keys: Sequence[Any], shown: int = 3) -> str:
    """The first few of ``keys``, and how many more there are."""
    names = ", ".join(str(k) for k in keys[:shown])
    return names + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def dims(tensor: torch.Tensor) -> str:
    """A tensor's shape as ``2×3×4`` (``scalar`` for none)."""
    return "×".join(map(str, tensor.shape)) or "scalar"
