"""Model loaders: every format good and bad, untrusted pickles, built-in cards, labels files."""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import workbench.core.loaders as loaders
from workbench.core.architectures import build_architecture
from workbench.core.errors import ModelLoadError
from workbench.core.loaders import builtin_models, detect_format, load_builtin, load_labels_file, load_model
from workbench.core.spec import InputSpec

from malicious_files import CreatesFile, rewrite_archive, tiny_net, torch_save

GREY_28 = InputSpec(channels=1, height=28, width=28)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path | nn.Module]:
    """One file per format (and a few variants), and the modules they came from ("cnn", "tiny")."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    cnn = build_architecture("small-cnn", num_classes=10, in_channels=1).eval()
    state = cnn.state_dict()
    tiny = tiny_net()
    example = (torch.zeros(2, 1, 28, 28),)
    paths = {name: folder / name for name in (
        "weights.safetensors", "state.pt", "legacy.pt", "checkpoint.pth", "scripted.pt",
        "exported.pt2", "static.pt2", "module.pt",
    )}
    save_file(state, paths["weights.safetensors"])
    torch.save(state, paths["state.pt"])
    torch.save(state, paths["legacy.pt"], _use_new_zipfile_serialization=False)
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, paths["checkpoint.pth"])
    with warnings.catch_warnings():  # torch.jit.script is deprecated, TorchScript files are not
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(tiny).save(str(paths["scripted.pt"]))
    batch = torch.export.Dim("batch", min=1)
    torch.export.save(torch.export.export(tiny, example, dynamic_shapes=({0: batch},)), paths["exported.pt2"])
    torch.export.save(torch.export.export(tiny, example), paths["static.pt2"])
    torch.save(cnn, paths["module.pt"])
    return {**paths, "cnn": cnn, "tiny": tiny}


# -- good files -----------------------------------------------------------------------------------

GOOD = [
    ("weights.safetensors", "cnn", dict(arch="small-cnn", input_spec=GREY_28)),
    ("state.pt", "cnn", dict(arch="small-cnn", input_spec=GREY_28)),
    ("legacy.pt", "cnn", dict(arch="small-cnn", input_spec=GREY_28)),
    ("checkpoint.pth", "cnn", dict(arch="small-cnn", input_spec=GREY_28)),
    ("scripted.pt", "tiny", dict(input_spec=GREY_28)),
    ("exported.pt2", "tiny", dict()),  # the input shape comes from the archive
    ("static.pt2", "tiny", dict()),  # exported for batches of 2: run in chunks
    ("module.pt", "cnn", dict(input_spec=GREY_28, trust_pickle=True)),
]


@pytest.mark.parametrize("name, reference, options", GOOD, ids=[row[0] for row in GOOD])
def test_each_format_loads_and_computes_like_its_source(files, name, reference, options):
    model = load_model(files[name], device="cpu", **options)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = files[reference](x)
    assert model.input_shape == (1, 28, 28)
    assert model.labels == [f"class {i}" for i in range(10)]
    assert model.weight_hash == hashlib.sha256(files[name].read_bytes()).hexdigest()
    assert torch.allclose(model(x), expected, atol=1e-5)
    x.requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(x).sum(), x)
    assert gradient.abs().sum() > 0


def test_formats_are_detected_by_content_not_suffix(files, tmp_path):
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(files["scripted.pt"].read_bytes())
    assert detect_format(renamed) == "torchscript"
    assert detect_format(files["exported.pt2"]) == "torch-export"
    assert detect_format(files["weights.safetensors"]) == "safetensors"
    assert detect_format(files["legacy.pt"]) == "torch-save"
    assert load_model(renamed, input_spec=GREY_28, device="cpu").num_classes == 10


def test_mean_and_std_of_the_spec_are_applied_inside_the_handle(files):
    spec = InputSpec(channels=1, height=28, width=28, mean=(0.5,), std=(0.25,))
    model = load_model(files["scripted.pt"], input_spec=spec, device="cpu")
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), files["tiny"]((x - 0.5) / 0.25), atol=1e-5)


def test_given_labels_name_the_classes(files):
    labels = [f"kind {i}" for i in range(10)]
    model = load_model(files["weights.safetensors"], arch="small-cnn", input_spec=GREY_28, labels=labels, device="cpu")
    assert model.labels == labels


def test_torchvision_architecture_by_name_with_the_class_count_from_the_weights(tmp_path):
    net = build_architecture("squeezenet1_1", num_classes=5, in_channels=3).eval()
    path = tmp_path / "squeezenet.safetensors"
    save_file(net.state_dict(), path)
    spec = InputSpec(channels=3, height=32, width=32)
    model = load_model(path, arch="squeezenet1_1", input_spec=spec, device="cpu")
    x = torch.rand(2, 3, 32, 32)
    assert model.num_classes == 5
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), atol=1e-5)
    with pytest.raises(ModelLoadError, match="3-channel input"):
        load_model(path, arch="squeezenet1_1", input_spec=GREY_28, device="cpu")


# -- bad files ------------------------------------------------------------------------------------


def _png_bytes() -> bytes:
    return cv2.imencode(".png", np.zeros((8, 8), np.uint8))[1].tobytes()


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def _nan_weights(files) -> bytes:
    state = {k: v.clone() for k, v in files["cnn"].state_dict().items()}
    state["0.weight"][0, 0, 0, 0] = float("nan")
    return torch_save(state)


def _half(name):
    return lambda files: files[name].read_bytes()[: files[name].stat().st_size // 2]


WITH_ARCH = dict(arch="small-cnn", input_spec=GREY_28)
BAD = [
    # (case, contents of the file or None for no file, options, what the message must say)
    ("missing", None, {}, "no model file"),
    ("png renamed", lambda f: _png_bytes(), {}, "not a model file .*PNG image"),
    ("random bytes", lambda f: os.urandom(4096), {}, "not a model file"),
    ("empty", lambda f: b"", {}, "empty"),
    ("other zip", lambda f: _zip_bytes(), {}, "zip archive but not a PyTorch model"),
    ("cut safetensors", _half("weights.safetensors"), WITH_ARCH, "truncated"),
    ("cut safetensors header", lambda f: f["weights.safetensors"].read_bytes()[:40], WITH_ARCH, "truncated"),
    ("cut torch.save zip", _half("state.pt"), WITH_ARCH, "truncated"),
    ("cut legacy torch.save", _half("legacy.pt"), WITH_ARCH, "truncated"),
    ("cut TorchScript", _half("scripted.pt"), {"input_spec": GREY_28}, "truncated"),
    ("cut torch.export", _half("exported.pt2"), {}, "truncated"),
    ("wrong torchvision architecture", lambda f: f["weights.safetensors"].read_bytes(),
     dict(arch="resnet18", input_spec=InputSpec(3, 28, 28)), "does not match architecture 'resnet18': missing keys conv1.weight"),
    ("wrong input channels", lambda f: f["weights.safetensors"].read_bytes(),
     dict(arch="small-cnn", input_spec=InputSpec(3, 28, 28)), r"size mismatch for 0\.weight: 32×1×3×3 in the file, 32×3×3×3"),
    ("unknown architecture", lambda f: f["weights.safetensors"].read_bytes(),
     dict(arch="no-such-net", input_spec=GREY_28), "unknown architecture 'no-such-net'"),
    ("weights without architecture", lambda f: f["weights.safetensors"].read_bytes(), {"input_spec": GREY_28}, "--arch"),
    ("weights without input spec", lambda f: f["weights.safetensors"].read_bytes(), {"arch": "small-cnn"}, "--input-size"),
    ("TorchScript without input spec", lambda f: f["scripted.pt"].read_bytes(), {}, "TorchScript archive, which does not record its input"),
    ("input the model does not take", lambda f: f["scripted.pt"].read_bytes(),
     {"input_spec": InputSpec(1, 32, 32)}, "does not accept input of shape 1×1×32×32"),
    ("NaN in the weights", _nan_weights, WITH_ARCH, "NaN"),
    ("too few labels", lambda f: f["state.pt"].read_bytes(), {**WITH_ARCH, "labels": ["a", "b", "c"]},
     "3 labels given for a model with 10 outputs"),
    ("checkpoint without weights", lambda f: torch_save({"epoch": 3, "lr": 0.1}), WITH_ARCH, "without model weights"),
    ("pickled module, untrusted", lambda f: f["module.pt"].read_bytes(), {"input_spec": GREY_28}, "is a pickled Python object"),
]


@pytest.mark.parametrize("case, contents, options, message", BAD, ids=[row[0] for row in BAD])
def test_bad_files_raise_a_model_load_error_that_says_which(files, tmp_path, case, contents, options, message):
    path = tmp_path / "model.pt"
    if contents is not None:
        path.write_bytes(contents(files))
    with pytest.raises(ModelLoadError, match=message):
        load_model(path, device="cpu", **options)


def _evil_raw_pickle(marker: Path) -> bytes:
    return pickle.dumps({"state_dict": CreatesFile(marker)})


def _evil_torch_save(marker: Path) -> bytes:
    return torch_save({"state_dict": CreatesFile(marker)})


def _evil_export(files, marker: Path, protocol: int = 2) -> bytes:
    """A genuine torch.export archive whose sample inputs unpickle to code: torch.export.load
    falls back to full unpickling for them. With pickle protocol 4 the safe unpickler fails
    on an opcode before it ever sees the forbidden global."""
    payload = torch_save(((CreatesFile(marker),), {}), protocol)
    return rewrite_archive(
        files["exported.pt2"], lambda name, data: payload if name.startswith("data/sample_inputs/") else data
    )


@pytest.mark.parametrize("maker", ["raw pickle", "torch.save", "torch.export", "torch.export, protocol 4"])
def test_a_pickle_that_runs_code_is_refused_and_runs_nothing(files, tmp_path, maker):
    marker = tmp_path / "created-by-the-pickle"
    contents = {
        "raw pickle": lambda: _evil_raw_pickle(marker),
        "torch.save": lambda: _evil_torch_save(marker),
        "torch.export": lambda: _evil_export(files, marker),
        "torch.export, protocol 4": lambda: _evil_export(files, marker, protocol=4),
    }[maker]()
    path = tmp_path / "innocent.pt2"
    path.write_bytes(contents)
    with pytest.raises(ModelLoadError, match="pickled Python object.*can run code.*--trust-pickle"):
        load_model(path, arch="small-cnn", input_spec=GREY_28, device="cpu")
    assert not marker.exists()


def test_trusting_the_file_is_what_lets_the_export_payload_run(files, tmp_path):
    """The guard matters: torch.export.load itself would run the pickle."""
    marker = tmp_path / "created-by-the-pickle"
    path = tmp_path / "evil.pt2"
    path.write_bytes(_evil_export(files, marker))
    load_model(path, device="cpu", trust_pickle=True)
    assert marker.exists()


# -- built-in models ------------------------------------------------------------------------------


@pytest.fixture
def zoo(tmp_path, monkeypatch, files) -> Path:
    """A resources folder with one built-in model, 'toy-cnn', in place of the shipped ones."""
    models = tmp_path / "models"
    models.mkdir()
    weights = models / "toy-cnn.safetensors"
    weights.write_bytes(files["weights.safetensors"].read_bytes())
    card = {
        "id": "toy-cnn", "title": "Toy", "architecture": "small-cnn", "weights": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "input": {"channels": 1, "height": 28, "width": 28, "mean": [0.5], "std": [0.5], "resize": "resize"},
        "labels": [f"thing {i}" for i in range(10)], "metrics": {"test_accuracy": 0.5},
    }
    (models / "toy-cnn.json").write_text(json.dumps(card))
    monkeypatch.setattr(loaders, "resource_path", lambda *parts: tmp_path.joinpath(*parts))
    return models


def test_builtin_models_are_listed_and_loaded_by_id(zoo, files):
    (card,) = builtin_models()
    assert card["id"] == "toy-cnn" and card["metrics"]["test_accuracy"] == 0.5
    model = load_model("toy-cnn", device="cpu")
    assert model.model_id == "toy-cnn"
    assert model.labels[3] == "thing 3"
    assert model.spec.mean == (0.5,)
    assert model.weight_hash == card["sha256"]
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), files["cnn"]((x - 0.5) / 0.5), atol=1e-5)


def test_builtin_weights_that_do_not_match_their_card_are_refused(zoo):
    weights = zoo / "toy-cnn.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=r"weights of 'toy-cnn' do not match their card \(sha256"):
        load_builtin("toy-cnn", device="cpu")


def test_unknown_builtin_and_options_for_a_builtin(zoo):
    with pytest.raises(ModelLoadError, match="unknown built-in model 'nope' .*toy-cnn"):
        load_builtin("nope")
    with pytest.raises(ModelLoadError, match="takes its architecture, input and labels from its card"):
        load_model("toy-cnn", arch="resnet18")


SHIPPED = [("fashion-cnn", 10, (1, 28, 28)), ("signs-cnn", 13, (3, 32, 32)), ("faces-cnn", 12, (3, 64, 64))]


@pytest.mark.parametrize("model_id, classes, input_shape", SHIPPED, ids=[row[0] for row in SHIPPED])
def test_the_shipped_model_matches_its_card(model_id, classes, input_shape):
    if not any(card["id"] == model_id for card in builtin_models()):
        pytest.skip(f"{model_id} is not built yet (make zoo)")
    model = load_model(model_id, device="cpu")
    assert model.num_classes == classes and model.input_shape == input_shape
    assert model.weight_hash == model.card["sha256"]


# -- labels files ---------------------------------------------------------------------------------

LABEL_FILES = [
    ("labels.txt", "cat\n\ndog\n  bird  \n", ["cat", "dog", "bird"]),
    ("labels.json", '["cat", "dog"]', ["cat", "dog"]),
    ("imagenet.json", '{"1": ["n02", "dog"], "0": ["n01", "cat"]}', ["cat", "dog"]),
    ("plain.json", '{"0": "cat", "1": "dog"}', ["cat", "dog"]),
]


@pytest.mark.parametrize("name, text, expected", LABEL_FILES, ids=[row[0] for row in LABEL_FILES])
def test_labels_files(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_labels_file(path) == expected


@pytest.mark.parametrize("name, text, message", [
    ("empty.txt", "\n\n", "names no classes"),
    ("broken.json", "[1, 2", "not valid JSON"),
    ("numbers.json", "[1, 2]", "JSON list of class names"),
    ("gaps.json", '{"0": "a", "2": "b"}', "not 0…1"),
])
def test_bad_labels_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelLoadError, match=message):
        load_labels_file(path)
