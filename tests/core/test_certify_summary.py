"""The certification summary lives on the result (``CertifyResult.summary``): the command line
and the Certify page read the same numbers, from tensors or from the GUI's NumPy snapshot."""
from __future__ import annotations

import dataclasses
import math

import torch

from workbench.core.events import CertifyResult


def result() -> CertifyResult:
    return CertifyResult(
        predictions=torch.tensor([0, 1, -1, 2, 1]), radii=torch.tensor([0.5, 0.1, 0.0, 0.9, 0.3]),
        p_lower=torch.tensor([0.9, 0.6, 0.4, 0.99, 0.7]), labels=torch.tensor([0, 2, 1, 2, -1]),
        settings={"sigma": 0.25}, seconds=1.5,
    )


def test_summary_counts_and_accuracies():
    found = result().summary((0.0, 0.25, 1.0))
    assert found["images"] == 5 and found["abstained"] == 1 and found["seconds"] == 1.5
    assert found["accuracy"] == 2 / 4  # of the four labelled images, two are right
    assert found["certified_accuracy"] == {0.0: 0.5, 0.25: 0.5, 1.0: 0.0}
    assert abs(found["median_radius"] - 0.3) < 1e-6  # of 0.1, 0.3, 0.5, 0.9: the lower middle one (as torch's median)
    assert found["median_radius"] == float(result().radii[result().predictions >= 0].median())


def test_predict_mode_has_no_radii_and_numpy_snapshots_agree():
    assert result().summary((0.5,), certified=False)["certified_accuracy"] is None
    assert result().summary(certified=False)["median_radius"] is None
    snapshot = dataclasses.replace(result(), **{k: getattr(result(), k).numpy()
                                                for k in ("predictions", "radii", "p_lower", "labels")})
    assert snapshot.summary((0.0, 0.5)) == result().summary((0.0, 0.5))


def test_all_abstaining_and_unlabelled():
    none = CertifyResult(predictions=torch.tensor([-1, -1]), radii=torch.zeros(2), p_lower=torch.zeros(2),
                         labels=torch.tensor([-1, -1]), settings={})
    found = none.summary((0.0,))
    assert found["abstained"] == 2 and found["accuracy"] == 0.0 and found["median_radius"] is None
    assert math.isnan(found["certified_accuracy"][0.0])
