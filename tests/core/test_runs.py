"""Run records are written atomically: complete or absent."""
from __future__ import annotations

import json

import pytest

from workbench.core.runs import RunRecord, base_config, read_run, write_run


def test_write_and_read_back(tmp_path):
    config = base_config(algorithm="pgd", params={"eps": 0.1}, seed=3)
    record = RunRecord(
        config=config, metrics={"success_rate": 1.0},
        artifacts={"images/a.txt": lambda path: path.write_text("x")},
    )
    folder = write_run(tmp_path, record)
    assert folder.name.endswith("pgd-seed3")
    back = read_run(folder)
    assert back.config["params"] == {"eps": 0.1} and back.metrics == {"success_rate": 1.0}
    assert {"torch", "numpy", "python"} <= set(back.config["versions"])
    assert (folder / "images" / "a.txt").read_text() == "x"
    second = write_run(tmp_path, record, name=folder.name)
    assert second != folder and second.exists()


def test_a_failing_artifact_leaves_no_folder(tmp_path):
    def broken(path):
        path.write_text("partial")
        raise OSError("disk full")

    record = RunRecord(config={"algorithm": "pgd"}, metrics={}, artifacts={"a.png": broken})
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path, record)
    assert list(tmp_path.iterdir()) == []


def test_config_is_plain_json(tmp_path):
    folder = write_run(tmp_path, RunRecord(config={"algorithm": "fgsm", "note": "Ärmel ✓"}, metrics={}))
    assert json.loads((folder / "config.json").read_text(encoding="utf-8"))["note"] == "Ärmel ✓"
