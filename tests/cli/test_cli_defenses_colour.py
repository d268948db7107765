"""``workbench tradeoff`` with the JPEG defense on the built-in colour models (issue 12, item 4:
it crashed on three-channel inputs), run as subprocesses."""
from __future__ import annotations

import pytest
from cli_run import ok_json, workbench


def test_jpeg_tradeoff_on_the_signs_model_prints_its_table():
    completed = workbench("tradeoff", "--model", "signs-cnn", "--data", "samples:signs", "--defense", "jpeg",
                          "--strengths", "90,50", "--limit", "8")
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr and "memory format" not in completed.stderr
    header, *rows = [line.split() for line in completed.stdout.strip().splitlines()]
    assert header[:4] == ["quality", "clean", "naive", "adaptive"]
    assert [row[0] for row in rows] == ["90", "50"]


@pytest.mark.parametrize(("model", "data"), [("signs-cnn", "samples:signs"), ("faces-cnn", "samples:faces")])
def test_jpeg_tradeoff_on_colour_models_reports_every_point(model, data):
    summary = ok_json("tradeoff", "--model", model, "--data", data, "--defense", "jpeg",
                      "--strengths", "90,50", "--limit", "8", "--param", "steps=5")
    assert summary["model_id"] == model and summary["images"] == 8
    assert summary["parameter"] == "quality"
    points = summary["points"]
    assert [p["quality"] for p in points] == [90, 50]
    for point in points:
        assert all(0.0 <= point[key] <= 1.0 for key in ("clean_accuracy", "robust_naive", "robust_adaptive"))
        assert point["certified_accuracy"] is None
        # JPEG hides the gradient from the naive attack; BPDA passes it straight through.
        assert point["robust_naive"] >= point["robust_adaptive"]
