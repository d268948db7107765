"""Checks shared by the tests of the built-in models trained on generated data
(``test_signs_cnn.py``, ``test_faces_cnn.py``): the shipped card, weights and samples against
the generator, and the recipe's determinism and cancellation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import safetensors.torch
import torch

from workbench.cli import main
from workbench.core.datasets import open_data
from workbench.core.images import read_image_array
from workbench.core.events import Progress, TrainEpoch, TrainResult
from workbench.core.landmarks import load_landmarks
from workbench.core.loaders import load_model
from workbench.core.model import ModelHandle
from workbench.core.resources import resource_path
from workbench.core.spec import InputSpec
from workbench.zoo import recipes
from workbench.zoo.synthetic import HELD_OUT_OFFSET, SyntheticRecipe, train_synthetic


def card_of(recipe: SyntheticRecipe) -> dict:
    return json.loads(resource_path("models", f"{recipe.model_id}.json").read_text(encoding="utf-8"))


def check_card(recipe: SyntheticRecipe, card: dict, model: ModelHandle) -> None:
    assert card["id"] == recipe.model_id and card["dataset"] == recipe.dataset
    assert card["labels"] == list(recipe.labels) and len(card["labels"]) >= 10
    assert card["architecture"] == recipe.architecture
    assert card["weights"] == f"{recipe.model_id}.safetensors"
    assert InputSpec.from_dict(card["input"]).shape == (3, recipe.size, recipe.size)
    assert set(card["metrics"]) == {"test_accuracy", "test_images", "held_out_seed", "train_accuracy"}
    assert card["metrics"]["held_out_seed"] == card["training"]["seed"] + HELD_OUT_OFFSET
    assert card["metrics"]["test_accuracy"] >= 0.95
    assert set(card["training"]) == {"seed", "epochs", "train_images", "optimizer", "seconds", "torch"}
    assert card["trained_with"].startswith(f"workbench zoo train {recipe.model_id} --seed ")
    weights = resource_path("models", card["weights"])
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == card["sha256"]
    assert model.weight_hash == card["sha256"]
    assert sum(p.numel() for p in model.module.inner.parameters()) == card["parameters"]


def held_out_accuracy(recipe: SyntheticRecipe, model: ModelHandle, card: dict, n: int) -> float:
    """Accuracy on the first ``n`` images of the card's held-out stream, re-rendered."""
    images, labels, _ = recipe.render(n, card["metrics"]["held_out_seed"])
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    predicted = model.predict(x, batch_size=500).argmax(1)
    return (predicted == torch.from_numpy(labels)).float().mean().item()


def check_samples(recipe: SyntheticRecipe, model: ModelHandle) -> list[dict]:
    """The shipped sample set: its classes, its accuracy, and landmarks for every image
    (returned in the set's order)."""
    folder = resource_path("samples", recipe.dataset)
    index = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    assert index["dataset"] == recipe.dataset
    assert [c["label"] for c in index["classes"]] == list(recipe.labels)
    data = open_data(f"samples:{recipe.dataset}", model.spec, model.labels)
    assert not data.skipped and not data.unknown_classes
    counts = np.bincount(data.labels.numpy(), minlength=len(recipe.labels))
    assert counts.min() >= 5 and counts.max() == counts.min()
    accuracy = (model.predict(data.images).argmax(1) == data.labels).float().mean().item()
    assert accuracy >= 0.9
    landmarks = load_landmarks(folder)
    assert set(landmarks) == set(data.names)
    return [landmarks[name] for name in data.names]


def inside(points, size: int) -> bool:
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return bool(((points >= -0.5) & (points <= size - 0.5)).all())


def check_generator_determinism(recipe: SyntheticRecipe) -> None:
    a_images, a_labels, a_marks = recipe.render(6, 11)
    b_images, b_labels, b_marks = recipe.render(6, 11)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_labels, b_labels) and a_marks == b_marks
    c_images, c_labels, c_marks = recipe.render(3, 11, start=3)  # continues the same stream
    assert np.array_equal(c_images, a_images[3:]) and np.array_equal(c_labels, a_labels[3:])
    assert c_marks == a_marks[3:]
    d_images, _, _ = recipe.render(6, 12)
    assert all(not np.array_equal(x, y) for x, y in zip(a_images, d_images))
    assert a_images.dtype == np.uint8 and a_images.shape == (6, recipe.size, recipe.size, 3)


def quick_run(recipe: SyntheticRecipe, out_dir, seed: int, global_seed: int) -> list:
    """A 1-epoch run on a few rendered images; seeding the global RNG first must not matter."""
    torch.manual_seed(global_seed)
    events = list(
        recipes.train(
            recipe.model_id, seed=seed, epochs=1, train_limit=48, test_limit=24, out_dir=out_dir, device="cpu"
        )
    )
    assert [type(e) for e in events] == [Progress, Progress, TrainEpoch, TrainResult]
    return events


def check_recipe_determinism(recipe: SyntheticRecipe, tmp_path) -> None:
    *_, epoch_a, result_a = quick_run(recipe, tmp_path / "a", seed=3, global_seed=1)
    *_, epoch_b, result_b = quick_run(recipe, tmp_path / "b", seed=3, global_seed=2)
    assert (epoch_a.train_loss, epoch_a.test_accuracy) == (epoch_b.train_loss, epoch_b.test_accuracy)
    card_a = json.loads((tmp_path / "a" / f"{recipe.model_id}.json").read_text(encoding="utf-8"))
    card_b = json.loads((tmp_path / "b" / f"{recipe.model_id}.json").read_text(encoding="utf-8"))
    assert card_a["sha256"] == card_b["sha256"]  # the weight files are byte for byte the same
    assert card_a["metrics"]["held_out_seed"] == 3 + HELD_OUT_OFFSET
    assert card_a["trained_with"] == (
        f"workbench zoo train {recipe.model_id} --seed 3 --epochs 1 --train-limit 48 --test-limit 24"
    )
    assert result_a.metrics == card_a["metrics"]
    *_, result_c = quick_run(recipe, tmp_path / "c", seed=4, global_seed=1)
    weights_a = safetensors.torch.load_file(result_a.weights_path)
    weights_c = safetensors.torch.load_file(result_c.weights_path)
    assert not torch.equal(weights_a["0.weight"], weights_c["0.weight"])


def check_closing_writes_nothing(recipe: SyntheticRecipe, tmp_path) -> None:
    torch.manual_seed(123)
    outside = torch.get_rng_state()
    run = train_synthetic(recipe, seed=0, epochs=2, train_limit=32, test_limit=16, out_dir=tmp_path, device="cpu")
    events = [next(run) for _ in range(3)]
    assert [type(e) for e in events] == [Progress, Progress, TrainEpoch]
    assert torch.equal(torch.get_rng_state(), outside)  # the training's RNG is its own
    assert not torch.are_deterministic_algorithms_enabled()  # not left on while paused
    run.close()
    assert list(tmp_path.iterdir()) == []


def builtin(recipe: SyntheticRecipe) -> ModelHandle:
    return load_model(recipe.model_id, device="cpu")


def check_samples_re_export(recipe: SyntheticRecipe, tmp_path, capsys) -> None:
    """``workbench zoo samples <set> --out DIR`` writes the shipped sample set again:
    the same files, labels and landmarks, and the same pixels up to OpenCV's rounding (its
    anti-aliased drawing and warps take other SIMD paths on other CPUs, which moves a rare
    pixel by one grey level: at most 1 level, on at most 0.01 % of a set's pixels)."""
    assert main(["zoo", "samples", recipe.dataset, "--out", str(tmp_path)]) == 0
    written = Path(json.loads(capsys.readouterr().out)["samples"][recipe.dataset])
    shipped = resource_path("samples", recipe.dataset)
    files = sorted(p.relative_to(shipped).as_posix() for p in shipped.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file())
    moved = total = 0
    for name in files:
        if name.endswith(".png"):
            original, again = read_image_array(shipped / name), read_image_array(written / name)
            assert original.shape == again.shape, name
            difference = np.abs(original.astype(np.int16) - again.astype(np.int16))
            assert difference.max() <= 1, name
            moved, total = moved + int((difference > 0).sum()), total + difference.size
        else:
            assert json.loads((shipped / name).read_text()) == json.loads((written / name).read_text()), name
    assert moved <= total * 1e-4
