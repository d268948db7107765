"""The shipped ``fashion-cnn``: card, weights and samples re-checked; the recipe's determinism
and cancellation (ARCHITECTURE.md, "Where does it go?": a built-in model's card metrics are
re-measured by a test)."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import safetensors.torch
import torch

import workbench.zoo.architectures  # noqa: F401  (registers the zoo's architectures)
from workbench.core.architectures import build_architecture
from workbench.core.errors import DataLoadError, ParameterError, WorkbenchError
from workbench.core.events import TrainEpoch, TrainResult
from workbench.core.model import ModelHandle
from workbench.core.resources import resource_path
from workbench.core.spec import InputSpec
from workbench.zoo import recipes
from workbench.zoo.fashion import FASHION_DIR, FASHION_LABELS, load_fashion_mnist, train_fashion_cnn

needs_dataset = pytest.mark.skipif(
    not FASHION_DIR.is_dir(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
MODELS = resource_path("models")
SAMPLES = resource_path("samples", "fashion-mnist")


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads((MODELS / "fashion-cnn.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def handle(card) -> ModelHandle:
    module = build_architecture(card["architecture"], num_classes=10, in_channels=1)
    module.load_state_dict(safetensors.torch.load_file(MODELS / card["weights"]))
    return ModelHandle(
        module,
        spec=InputSpec.from_dict(card["input"]),
        labels=card["labels"],
        model_id="fashion-cnn",
        device="cpu",
    )


def accuracy(handle: ModelHandle, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (handle.predict(images, batch_size=1000).argmax(1) == labels).float().mean().item()


def test_card_schema(card):
    assert card["id"] == "fashion-cnn" and card["dataset"] == "fashion-mnist"
    assert card["labels"] == FASHION_LABELS
    assert card["weights"] == "fashion-cnn.safetensors"
    assert card["trained_with"].startswith("workbench zoo train fashion-cnn --seed ")
    assert set(card["metrics"]) == {"test_accuracy", "test_images", "train_accuracy"}
    assert set(card["training"]) == {"seed", "epochs", "optimizer", "seconds", "torch"}
    assert InputSpec.from_dict(card["input"]).shape == (1, 28, 28)


def test_sha256_matches_weights(card):
    assert hashlib.sha256((MODELS / card["weights"]).read_bytes()).hexdigest() == card["sha256"]


def test_parameter_count(card, handle):
    assert sum(p.numel() for p in handle.module.inner.parameters()) == card["parameters"]


@needs_dataset
def test_test_accuracy_matches_card(card, handle):
    images, labels = load_fashion_mnist("test")
    assert len(images) == card["metrics"]["test_images"] == 10_000
    measured = accuracy(handle, images, labels)
    assert measured == pytest.approx(card["metrics"]["test_accuracy"], abs=0.002)
    assert measured >= 0.91


def test_samples(handle):
    index = json.loads((SAMPLES / "labels.json").read_text(encoding="utf-8"))
    assert [c["label"] for c in index["classes"]] == FASHION_LABELS
    images, labels = [], []
    for entry in index["classes"]:
        files = sorted((SAMPLES / entry["folder"]).glob("*.png"))
        assert [f.name for f in files] == sorted(f"{n}.png" for n in range(10))
        for file in files:
            pixels = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            assert pixels.dtype == np.uint8 and pixels.shape == (28, 28)
            images.append(torch.from_numpy(pixels).float().div(255))
            labels.append(entry["index"])
    correct = accuracy(handle, torch.stack(images).unsqueeze(1), torch.tensor(labels))
    assert correct >= 0.90


def quick_run(out_dir, seed, global_seed):
    """A 1-epoch run on 1,024 training and 1,000 test images; the global RNG is seeded with
    ``global_seed`` first, which must not matter."""
    torch.manual_seed(global_seed)
    events = list(
        recipes.train(
            "fashion-cnn", seed=seed, epochs=1, train_limit=1024, test_limit=1000, out_dir=out_dir
        )
    )
    assert [type(e) for e in events] == [TrainEpoch, TrainResult]
    return events


@needs_dataset
def test_same_seed_same_weights(tmp_path):
    (epoch_a, result_a), (epoch_b, result_b) = (
        quick_run(tmp_path / "a", seed=3, global_seed=1),
        quick_run(tmp_path / "b", seed=3, global_seed=2),
    )
    assert (epoch_a.train_loss, epoch_a.test_accuracy) == (
        epoch_b.train_loss,
        epoch_b.test_accuracy,
    )
    weights_a = safetensors.torch.load_file(result_a.weights_path)
    weights_b = safetensors.torch.load_file(result_b.weights_path)
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    card_a = json.loads((tmp_path / "a" / "fashion-cnn.json").read_text(encoding="utf-8"))
    card_b = json.loads((tmp_path / "b" / "fashion-cnn.json").read_text(encoding="utf-8"))
    assert card_a["sha256"] == card_b["sha256"]  # the files are byte for byte the same
    assert card_a["trained_with"] == (
        "workbench zoo train fashion-cnn --seed 3 --epochs 1 --train-limit 1024 --test-limit 1000"
    )
    _, result_c = quick_run(tmp_path / "c", seed=4, global_seed=1)
    weights_c = safetensors.torch.load_file(result_c.weights_path)
    assert not torch.equal(weights_a["0.weight"], weights_c["0.weight"])


@needs_dataset
def test_closing_writes_nothing(tmp_path):
    torch.manual_seed(123)
    outside = torch.get_rng_state()
    run = train_fashion_cnn(seed=0, epochs=2, train_limit=512, test_limit=500, out_dir=tmp_path)
    assert isinstance(next(run), TrainEpoch)
    assert torch.equal(torch.get_rng_state(), outside)  # the training's RNG is its own
    assert not torch.are_deterministic_algorithms_enabled()  # not left on while paused
    run.close()
    assert list(tmp_path.iterdir()) == []


def test_bad_options():
    with pytest.raises(ParameterError, match="epochs must be at least 1, not 0"):
        next(train_fashion_cnn(epochs=0))
    with pytest.raises(ParameterError, match="train_limit must be at least 1"):
        next(train_fashion_cnn(train_limit=-5))


def test_unknown_recipe_and_option():
    with pytest.raises(WorkbenchError, match="no training recipe for 'nope'"):
        recipes.train("nope")
    with pytest.raises(ParameterError, match="unknown option 'speed'"):
        recipes.train("fashion-cnn", speed=2)


def test_missing_dataset(tmp_path):
    with pytest.raises(DataLoadError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train", root=tmp_path)
