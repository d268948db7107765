"""Parameter declarations (ARCHITECTURE.md, contract 3).

An algorithm declares its parameters once, as a frozen dataclass whose fields are made with
:func:`param`. From that one declaration come the GUI form, the CLI's ``--param key=value``
parsing, JSON run configs and report tables::

    @dataclass(frozen=True)
    class PGDParams:
        eps: float = param(0.03, title="ε", description="L∞ budget", unit="pixel", low=0, high=1)

:func:`build` validates a mapping against the declaration and names the key in every error.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from workbench.core.errors import ParameterError

_META_KEY = "workbench.param"


@dataclass(frozen=True)
class ParamInfo:
    """Everything known about one declared parameter."""

    name: str
    kind: type  # bool, int, float or str
    default: Any
    title: str
    description: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    advanced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind.__name__,
            "default": self.default,
            "title": self.title,
            "description": self.description,
            "unit": self.unit,
            "low": self.low,
            "high": self.high,
            "choices": list(self.choices) if self.choices else None,
            "advanced": self.advanced,
        }

    def check(self, value: Any) -> Any:
        """Convert ``value`` to this parameter's type and check its bounds; raise ParameterError."""
        value = _coerce(self, value)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                f"parameter '{self.name}': {value!r} is not one of {', '.join(self.choices)}"
            )
        if self.kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ParameterError(f"parameter '{self.name}': {value} is not a finite number")
            if self.low is not None and value < self.low:
                raise ParameterError(
                    f"parameter '{self.name}': {value} is below its minimum {self.low}"
                )
            if self.high is not None and value > self.high:
                raise ParameterError(
                    f"parameter '{self.name}': {value} is above its maximum {self.high}"
                )
        return value


def param(
    default: Any,
    *,
    title: str,
    description: str,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] | None = None,
    advanced: bool = False,
) -> Any:
    """Declare one parameter as a dataclass field with its metadata."""
    meta = {
        "title": title,
        "description": description,
        "unit": unit,
        "low": low,
        "high": high,
        "choices": tuple(choices) if choices is not None else None,
        "advanced": advanced,
    }
    return dataclasses.field(default=default, metadata={_META_KEY: meta})


def describe(declaration: type) -> list[ParamInfo]:
    """The declared parameters of a dataclass made with :func:`param`, in declaration order."""
    hints = typing.get_type_hints(declaration)
    infos = []
    for field in dataclasses.fields(declaration):
        meta = field.metadata.get(_META_KEY)
        if meta is None:
            raise TypeError(f"{declaration.__name__}.{field.name} is not declared with param()")
        kind = hints[field.name]
        if kind not in (bool, int, float, str):
            raise TypeError(f"{declaration.__name__}.{field.name}: unsupported type {kind}")
        infos.append(ParamInfo(name=field.name, kind=kind, default=field.default, **meta))
    return infos


def build(declaration: type, values: Mapping[str, Any] | None = None):
    """An instance of ``declaration`` from ``values`` (defaults for the rest), validated."""
    values = dict(values or {})
    infos = {info.name: info for info in describe(declaration)}
    unknown = sorted(set(values) - set(infos))
    if unknown:
        raise ParameterError(
            f"unknown parameter '{unknown[0]}' (known: {', '.join(infos) or 'none'})"
        )
    checked = {name: infos[name].check(value) for name, value in values.items()}
    return declaration(**checked)


def parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    """``["eps=0.1", "steps=20"]`` → ``{"eps": "0.1", "steps": "20"}`` (values still strings)."""
    parsed: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"'{item}' is not of the form key=value")
        parsed[key] = value.strip()
    return parsed


def as_dict(instance: Any) -> dict[str, Any]:
    """The parameter values of a declaration instance, for run configs and reports."""
    return dataclasses.asdict(instance)


def _coerce(info: ParamInfo, value: Any) -> Any:
    kind = info.kind
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
                return True
            if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
                return False
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter '{info.name}': {value!r} is not a valid {kind.__name__}"
        ) from None


def format_number(value: float) -> str:
    """A float as short as it can be written exactly enough (``0.03``, ``1e-05``, ``2``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.8g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
