"""CUDA parity: every attack, run by the command line on the GPU, against the same run on the CPU.

Skipped where PyTorch sees no CUDA device (this is never part of the default run). For each
registered attack the same command runs with ``--device cpu`` and ``--device cuda`` on a few
samples with one seed; the GPU run must keep the mask invariant and the norm bound, and its
success rate may differ from the CPU's by at most one image of the eight (floating-point sums run
in another order on the GPU, so an image at the boundary can tip either way). The ratio of wall
times is printed, not asserted. A second check streams the Evasion lab's live recipe (attack,
boundary slices, tracking) on the GPU the way the GUI worker consumes it.
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

IMAGES = 8
DEFAULT_SETUP = ["--model", "fashion-cnn", "--data", "samples:fashion-mnist"]
# Attacks that need another model, data set or mask than fashion-cnn's samples.
SETUPS = {
    "eyeglasses": ["--model", "faces-cnn", "--data", "samples:faces", "--mask-template", "eyeglasses"],
    "rp2": ["--model", "signs-cnn", "--data", "samples:signs", "--mask-template", "stop-stickers"],
    "patch": ["--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--mask-rect", "4,4,10,10"],
    "transfer": [*DEFAULT_SETUP, "--param", "surrogate=fashion-cnn-pgd"],
}


def _attack_ids() -> list[str]:
    import workbench.attacks  # noqa: F401  (registers every attack)
    from workbench.attacks.registry import ATTACKS

    return ATTACKS.ids()


def _run(attack: str, device: str) -> dict:
    """The command's JSON summary, run in this process (one PyTorch start for every attack)."""
    from workbench.cli import main

    argv = ["attack", *SETUPS.get(attack, DEFAULT_SETUP), "--attack", attack,
            "--limit", str(IMAGES), "--seed", "0", "--device", device, "--json"]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exit_:  # a refusal: exit 2 and one line on stderr
            code = exit_.code
    assert code == 0, f"{attack} on {device}: {stderr.getvalue().strip()[-400:]}"
    return json.loads(stdout.getvalue())


def test_live_recipe_streams_on_cuda():
    """The Evasion lab's live run (attack ∘ boundary slices) on the GPU: events arrive, numpy
    snapshots can be taken of everything the views show, the run ends with a result."""
    from workbench.attacks.registry import ATTACKS
    from workbench.audit.boundary import with_boundary_slices
    from workbench.core.datasets import open_data
    from workbench.core.events import AttackResult
    from workbench.core.loaders import load_model

    model = load_model("fashion-cnn", device="cuda")
    data = open_data("samples:fashion-mnist", model.spec, model.labels)
    x, y = data.images[:1], data.labels[:1]
    attack = ATTACKS.get("pgd")(steps=200)
    events = list(with_boundary_slices(attack.run(model, x, y, seed=0), model, 0, x, None))
    assert isinstance(events[-1], AttackResult)
    assert events[-1].x_adv.device.type == "cpu"  # the events contract: results come back on the CPU
    slices = [e for e in events if type(e).__name__ == "BoundarySlice"]
    assert slices, "no boundary slice was streamed"
    print(f"\nlive recipe on cuda: {len(events)} events, {len(slices)} slices")


@pytest.mark.parametrize("attack", _attack_ids())
def test_attack_on_cuda_matches_cpu(attack):
    from workbench.attacks.registry import ATTACKS

    cpu, cuda = _run(attack, "cpu"), _run(attack, "cuda")
    print(f"\n{attack:>16}: success cpu {cpu['success_rate']:.3f} cuda {cuda['success_rate']:.3f}  "
          f"max_linf cpu {cpu['max_linf']:.4f} cuda {cuda['max_linf']:.4f}  "
          f"seconds cpu {cpu['seconds']:.2f} cuda {cuda['seconds']:.2f}")
    assert cuda["pixels_changed_outside_mask"] == 0
    assert abs(cuda["success_rate"] - cpu["success_rate"]) <= 1 / 8 + 1e-9
    eps = getattr(ATTACKS.get(attack)(), "params").__dict__.get("eps")
    if eps is not None and ATTACKS.get(attack).norm == "linf":  # a bounded attack keeps its bound
        assert cuda["max_linf"] <= eps + 1e-6
