"""Bad attack inputs and parameters get clear errors that name the problem."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS
from workbench.core.errors import MaskError, ParameterError, WorkbenchError


def test_unknown_parameter_is_named():
    with pytest.raises(ParameterError, match="unknown parameter 'epsilon'"):
        ATTACKS.get("pgd")(epsilon=0.1)


@pytest.mark.parametrize("key,value,message", [
    ("eps", 1.5, "'eps': 1.5 is above its maximum"),
    ("eps", -0.1, "'eps': -0.1 is below its minimum"),
    ("steps", 0, "'steps': 0 is below its minimum"),
    ("steps", 2.5, "'steps': 2.5 is not a valid int"),
    ("random_start", "perhaps", "'random_start': 'perhaps' is not a valid bool"),
    ("eps", "nan", "'eps': nan is not a finite number"),
])
def test_out_of_range_values_are_named(key, value, message):
    with pytest.raises(ParameterError, match=message):
        ATTACKS.get("pgd")(**{key: value})


def test_unknown_attack_lists_known_ones():
    with pytest.raises(WorkbenchError, match="unknown attack 'pgdx'.*pgd"):
        ATTACKS.get("pgdx")


def test_wrong_shapes_and_values(fashion_model, fashion_batch):
    x, y = fashion_batch
    attack = ATTACKS.get("pgd")(eps=0.1, steps=2)
    with pytest.raises(WorkbenchError, match="do not match the model's input"):
        attack.run(fashion_model, torch.rand(2, 3, 28, 28), y[:2])
    with pytest.raises(WorkbenchError, match="NaN"):
        attack.run(fashion_model, torch.full_like(x[:2], float("nan")), y[:2])
    with pytest.raises(WorkbenchError, match=r"\[0, 1\]"):
        attack.run(fashion_model, x[:2] * 255, y[:2])
    with pytest.raises(WorkbenchError, match="labels"):
        attack.run(fashion_model, x[:2], y[:3])
    with pytest.raises(MaskError, match="mask"):
        attack.run(fashion_model, x[:2], y[:2], mask=torch.ones(2, 1, 14, 14))
    with pytest.raises(WorkbenchError, match="target"):
        attack.run(fashion_model, x[:2], y[:2], target=torch.tensor([11, 0]))
