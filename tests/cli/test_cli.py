"""The ``workbench`` command line, run as a subprocess: results on stdout, progress on stderr,
exit code 2 and a one-line message for every kind of bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_run import ok_json, workbench


def test_models_lists_the_builtin_model_with_its_accuracy():
    models = ok_json("models")
    fashion = next(m for m in models if m["id"] == "fashion-cnn")
    assert fashion["metrics"]["test_accuracy"] >= 0.91
    assert fashion["classes"] == 10
    synthetic = {m["id"]: m for m in models if m["id"] in ("signs-cnn", "faces-cnn")}
    assert set(synthetic) == {"signs-cnn", "faces-cnn"}
    assert all(m["metrics"]["test_accuracy"] >= 0.95 and m["classes"] >= 10 for m in synthetic.values())


def test_attacks_lists_declared_parameters():
    attacks = {a["id"]: a for a in ok_json("attacks")}
    assert {"fgsm", "pgd", "pgd-l2"} <= set(attacks)
    eps = next(p for p in attacks["pgd"]["parameters"] if p["name"] == "eps")
    assert eps["type"] == "float" and eps["low"] == 0.0 and eps["high"] == 1.0
    assert eps["description"]


def test_predict_on_the_samples():
    result = ok_json("predict", "--model", "fashion-cnn", "--data", "samples:fashion-mnist")
    assert result["n"] == 100
    assert result["accuracy"] >= 0.9
    assert {"name", "label", "predicted", "confidence"} <= set(result["predictions"][0])


def test_the_done_when_command():
    completed = workbench(
        "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--attack", "pgd",
        "--param", "eps=0.1", "--param", "steps=20", "--json",
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    for key in ("n", "clean_accuracy", "adversarial_accuracy", "success_rate", "max_linf",
                "mean_l2", "pixels_changed_outside_mask", "seconds"):
        assert key in summary
    assert summary["n"] == 100
    assert summary["adversarial_accuracy"] <= 0.05
    assert summary["max_linf"] <= 0.1
    assert summary["pixels_changed_outside_mask"] == 0
    assert "batch 1/1" in completed.stderr


def test_masked_attack_changes_nothing_outside_and_writes_a_run(tmp_path):
    out = tmp_path / "runs"
    completed = workbench(
        "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "20",
        "--attack", "pgd", "--param", "eps=0.2", "--param", "steps=10", "--mask-rect", "4,4,20,20",
        "--seed", "5", "--out", str(out), "--json",
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["n"] == 20
    assert summary["pixels_changed_outside_mask"] == 0
    assert summary["success_rate"] > 0.5
    folder = Path(summary["run_folder"])
    assert folder.parent == out
    config = json.loads((folder / "config.json").read_text())
    assert config["seed"] == 5 and config["algorithm"] == "pgd"
    assert config["params"]["eps"] == 0.2
    assert len(config["model"]["weight_hash"]) == 64
    assert {"torch", "numpy", "python", "workbench"} <= set(config["versions"])
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n"] == 20 and len(metrics["images"]) == 20
    assert len(list((folder / "adversarial").glob("*.png"))) == 20
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a temporary folder was left"


def test_targeted_attack_by_class_name():
    summary = ok_json(
        "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "10",
        "--attack", "pgd", "--param", "eps=0.2", "--param", "steps=30", "--target", "Bag",
    )
    assert summary["targeted"] is True
    assert summary["success_rate"] >= 0.8


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", [
    "unknown-attack", "unknown-param", "out-of-range", "not-a-number", "missing-model",
    "corrupt-model", "missing-data", "corrupt-image", "bad-mask-rect", "unknown-target",
    "bad-param-form", "mask-file-missing",
])
def test_bad_input_exits_2_with_one_line(case, tmp_path):
    base = ["attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "2",
            "--attack", "pgd", "--param", "steps=1"]
    bad_model = _write(tmp_path / "model.pt", b"\x80\x02this is not a model at all")
    bad_image = _write(tmp_path / "broken.png", b"\x89PNG\r\n\x1a\n-truncated")
    arguments = {
        "unknown-attack": base[:-4] + ["--attack", "nope"],
        "unknown-param": base + ["--param", "epsilon=0.1"],
        "out-of-range": base + ["--param", "eps=2"],
        "not-a-number": base + ["--param", "eps=abc"],
        "missing-model": ["attack", "--model", str(tmp_path / "absent.pt"), "--arch", "small-cnn",
                          "--data", "samples:fashion-mnist", "--attack", "pgd"],
        "corrupt-model": ["predict", "--model", str(bad_model), "--arch", "small-cnn",
                          "--input-size", "28x28", "--channels", "1", "--data", "samples:fashion-mnist"],
        "missing-data": ["predict", "--model", "fashion-cnn", "--data", str(tmp_path / "nothing")],
        "corrupt-image": ["predict", "--model", "fashion-cnn", "--data", str(bad_image)],
        "bad-mask-rect": base + ["--mask-rect", "1,2,three,4"],
        "unknown-target": base + ["--target", "Umbrella"],
        "bad-param-form": base + ["--param", "eps"],
        "mask-file-missing": base + ["--mask", str(tmp_path / "absent.png")],
    }[case]
    completed = workbench(*arguments)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("workbench: error:"), completed.stderr
    assert len(lines) == 1, completed.stderr
