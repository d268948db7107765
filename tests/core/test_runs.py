"""Run records are written atomically: complete or absent."""
from __future__ import annotations

import json

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.runs import (
    RunRecord, artifact_names, base_config, check_run_parent, csv_writer, read_run, write_run,
)


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


def test_run_parents_are_checked_before_any_work(tmp_path):
    assert check_run_parent(tmp_path / "new" / "runs") == tmp_path / "new" / "runs"
    assert not (tmp_path / "new").exists(), "the check creates nothing"
    assert list(tmp_path.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkbenchError, match="--out .*file is a file, not a folder"):
        check_run_parent(blocker)
    with pytest.raises(WorkbenchError, match="cannot be created: .*file is a file"):
        check_run_parent(blocker / "sub", "--out")
    with pytest.raises(WorkbenchError, match="not writable"):
        check_run_parent("/proc/workbench-runs")


def test_artifacts_are_named_after_their_sources_and_unique():
    names = ["Coat/3.png", "coat_3.png", "COAT_3.PNG", "t10k-images-idx3-ubyte.gz#5", "a b/ü.jpg", ".png"]
    assert artifact_names(names) == [
        "Coat_3.png", "coat_3-2.png", "COAT_3-3.png", "t10k-images-idx3-ubyte.gz_5.png", "a_b_ü.png", "image.png",
    ]


def test_csv_writer_writes_rows(tmp_path):
    csv_writer([{"name": "a.png", "l2": 0.5}, {"name": "b,c.png", "l2": 1}])(tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text(encoding="utf-8") == 'name,l2\na.png,0.5\n"b,c.png",1\n'
