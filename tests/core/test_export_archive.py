"""torch.export archives crafted from a genuine export: every way that ``torch.export.load``
would run their code is refused without trust, runs nothing, and reaches no full unpickler."""
from __future__ import annotations

import contextlib
import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from workbench.core.errors import ModelLoadError
from workbench.core.loaders import load_model

from malicious_files import (
    CreatesFile, CreatesFileAndReturns, legacy_torch_save, raw_pickle, rewrite_archive, tiny_net, torch_save,
)

SAMPLES = "data/sample_inputs/model.pt"
WEIGHTS_CONFIG = "data/weights/model_weights_config.json"
CONSTANTS_CONFIG = "data/constants/model_constants_config.json"
PROGRAM = "models/model.json"
REFUSED = r"contains a (pickled Python object|Python object|shape expression).*can run code.*--trust-pickle"


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    """A genuine torch.export archive of :func:`tiny_net`, for any batch size."""
    path = tmp_path_factory.mktemp("export") / "genuine.pt2"
    batch = torch.export.Dim("batch", min=1)
    torch.export.save(torch.export.export(tiny_net(), (torch.zeros(2, 1, 28, 28),), dynamic_shapes=({0: batch},)), path)
    return path


def _weight(fqn: str) -> torch.nn.Parameter:
    """The parameter ``fqn`` of :func:`tiny_net`, as the genuine archive holds it."""
    return torch.nn.Parameter(tiny_net().state_dict()[fqn])


def _pickled_weight(genuine: Path, fqn: str, payload: bytes) -> bytes:
    """The archive with weight ``fqn`` stored as the pickle ``payload``, marked ``use_pickle``."""
    config = json.loads(_member(genuine, WEIGHTS_CONFIG))
    meta = config["config"][fqn]
    meta["use_pickle"] = True
    replaced = {WEIGHTS_CONFIG: json.dumps(config).encode(), "data/weights/" + meta["path_name"]: payload}
    return rewrite_archive(genuine, lambda name, data: replaced.get(name, data))


def _pickled_constant(genuine: Path, file_name: str, payload: bytes) -> bytes:
    """The archive with one more constant: ``payload`` as torch writes a pickled one."""
    config = {"config": {"evil": {"path_name": file_name, "is_param": False, "use_pickle": True, "tensor_meta": None}}}
    members = {CONSTANTS_CONFIG: json.dumps(config).encode(), "data/constants/" + file_name: payload}
    return _with_members(genuine, members)


def _with_members(genuine: Path, members: dict[str, bytes]) -> bytes:
    """The archive with ``members`` replaced or added (below its top folder)."""
    extra = dict(members)
    rewritten = rewrite_archive(genuine, lambda name, data: extra.pop(name, data))
    if not extra:
        return rewritten
    buffer = io.BytesIO(rewritten)
    with zipfile.ZipFile(buffer, "a") as archive:
        top = archive.namelist()[0].split("/", 1)[0]
        for name, data in extra.items():
            archive.writestr(f"{top}/{name}", data)
    return buffer.getvalue()


def _member(genuine: Path, name: str) -> bytes:
    with zipfile.ZipFile(genuine) as archive:
        return archive.read(next(n for n in archive.namelist() if n.split("/", 1)[-1] == name))


def _code_in_shape(genuine: Path, marker: Path) -> bytes:
    """The archive with a symbolic shape expression that is Python code (sympy evaluates it)."""
    program = _member(genuine, PROGRAM).decode()
    evil = f"__import__('pathlib').Path({str(marker)!r}).touch() or Symbol('s0')"
    start = program.index('"expr_str": "') + len('"expr_str": "')
    end = program.index('"', start)
    return _with_members(genuine, {PROGRAM: (program[:start] + evil.replace('"', '\\"') + program[end:]).encode()})


CRAFTED = {
    "sample inputs, raw pickle": lambda g, m: _with_members(g, {SAMPLES: raw_pickle(((CreatesFile(m),), {}))}),
    "sample inputs, legacy torch.save": lambda g, m: _with_members(
        g, {SAMPLES: legacy_torch_save(((CreatesFile(m),), {}))}
    ),
    "use_pickle weight, raw pickle": lambda g, m: _pickled_weight(g, "3.bias", raw_pickle(CreatesFile(m))),
    "use_pickle weight, torch.save": lambda g, m: _pickled_weight(g, "3.bias", torch_save(CreatesFile(m))),
    "use_pickle weight that returns the real tensor": lambda g, m: _pickled_weight(
        g, "3.bias", legacy_torch_save(CreatesFileAndReturns(m, _weight("3.bias")))
    ),
    "use_pickle constant, legacy torch.save": lambda g, m: _pickled_constant(
        g, "tensor_constant_0", legacy_torch_save(CreatesFile(m))
    ),
    "opaque object constant": lambda g, m: _pickled_constant(g, "opaque_obj_0", pickle.dumps(CreatesFile(m))),
    "shape expression": _code_in_shape,
}


@pytest.fixture
def only_weights_only_unpickling(monkeypatch) -> list[str]:
    """Record every call of a full unpickler (any ``torch.load`` not weights-only,
    ``pickle.load(s)``, TorchScript's object unpickler) made while the test runs."""
    calls: list[str] = []
    real_load = torch.load

    def checked_load(*args, **kwargs):
        if kwargs.get("weights_only") is not True:
            calls.append(f"torch.load(weights_only={kwargs.get('weights_only')})")
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", checked_load)
    for owner, name in ((pickle, "load"), (pickle, "loads"), (torch._C, "_pickle_load_obj")):
        monkeypatch.setattr(owner, name, lambda *args, name=name, **kwargs: calls.append(name))
    return calls


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_archive_is_refused_runs_nothing_and_reaches_no_full_unpickler(
    genuine, tmp_path, case, only_weights_only_unpickling
):
    marker = tmp_path / "created-by-the-archive"
    path = tmp_path / "crafted.pt2"
    path.write_bytes(CRAFTED[case](genuine, marker))
    with pytest.raises(ModelLoadError, match=REFUSED):
        load_model(path, device="cpu")
    assert not marker.exists()
    assert only_weights_only_unpickling == []


@pytest.mark.parametrize("case", CRAFTED)
def test_torch_export_load_itself_would_run_the_crafted_archive(genuine, tmp_path, case):
    """Each crafted archive is a real attack: PyTorch's own loader runs its code."""
    marker = tmp_path / "created-by-the-archive"
    path = tmp_path / "crafted.pt2"
    path.write_bytes(CRAFTED[case](genuine, marker))
    with contextlib.suppress(Exception):
        torch.export.load(path)
    assert marker.exists()


def test_a_hidden_payload_would_leave_the_model_working_if_trusted(genuine, tmp_path):
    """Why nothing short of refusing will do: trusted, the archive predicts like the genuine one."""
    marker = tmp_path / "created-by-the-archive"
    path = tmp_path / "crafted.pt2"
    path.write_bytes(CRAFTED["use_pickle weight that returns the real tensor"](genuine, marker))
    model = load_model(path, device="cpu", trust_pickle=True)
    x = torch.rand(3, 1, 28, 28)
    assert marker.exists()
    with torch.no_grad():
        assert torch.allclose(model(x), tiny_net()(x), atol=1e-5)


@pytest.mark.parametrize("trust_pickle", [False, True], ids=["untrusted", "trusted"])
def test_the_genuine_archive_loads_and_predicts_like_its_module(genuine, trust_pickle, only_weights_only_unpickling):
    model = load_model(genuine, device="cpu", trust_pickle=trust_pickle)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(model(x), tiny_net()(x), atol=1e-5)
    assert model.input_shape == (1, 28, 28) and model.num_classes == 10
    assert only_weights_only_unpickling == []  # a genuine archive needs no full unpickler, trusted or not


def test_the_command_line_refuses_a_crafted_archive_in_one_line(genuine, tmp_path):
    marker = tmp_path / "created-by-the-archive"
    path = tmp_path / "crafted.pt2"
    path.write_bytes(CRAFTED["use_pickle weight that returns the real tensor"](genuine, marker))
    completed = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "predict", "--model", str(path), "--data", "samples:fashion-mnist"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "--trust-pickle" in lines[0] and "crafted.pt2" in lines[0], completed.stderr
    assert not marker.exists()
