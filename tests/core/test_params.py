"""Parameter declarations: described once, validated with messages that name the key."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.core.errors import ParameterError
from workbench.core.params import as_dict, build, describe, param, parse_assignments


@dataclass(frozen=True)
class Example:
    eps: float = param(0.1, title="ε", description="budget", unit="pixel", low=0.0, high=1.0)
    steps: int = param(10, title="Steps", description="iterations", low=1, high=100)
    loss: str = param("ce", title="Loss", description="loss", choices=("ce", "dlr"))
    restart: bool = param(False, title="Restart", description="restart", advanced=True)


def test_describe_keeps_order_and_metadata():
    infos = describe(Example)
    assert [i.name for i in infos] == ["eps", "steps", "loss", "restart"]
    eps = infos[0]
    assert (eps.kind, eps.default, eps.low, eps.high, eps.unit) == (float, 0.1, 0.0, 1.0, "pixel")
    assert infos[2].choices == ("ce", "dlr") and infos[3].advanced


def test_build_converts_strings_from_the_command_line():
    values = parse_assignments(["eps=0.25", "steps=20", "loss=dlr", "restart=yes"])
    built = build(Example, values)
    assert as_dict(built) == {"eps": 0.25, "steps": 20, "loss": "dlr", "restart": True}


def test_defaults_fill_the_rest():
    assert build(Example, {"steps": 5}) == Example(steps=5)


@pytest.mark.parametrize("values,message", [
    ({"epsilon": 1}, "unknown parameter 'epsilon'"),
    ({"eps": 1.01}, "'eps': 1.01 is above its maximum 1.0"),
    ({"steps": 0}, "'steps': 0 is below its minimum 1"),
    ({"steps": "ten"}, "'steps': 'ten' is not a valid int"),
    ({"loss": "mse"}, "'loss': 'mse' is not one of ce, dlr"),
    ({"eps": float("inf")}, "'eps': inf is not a finite number"),
    ({"restart": 3}, "'restart': 3 is not a valid bool"),
])
def test_bad_values_are_named(values, message):
    with pytest.raises(ParameterError, match=message):
        build(Example, values)


def test_assignment_without_equals_is_rejected():
    with pytest.raises(ParameterError, match="key=value"):
        parse_assignments(["eps"])
