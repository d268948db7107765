"""Command-line outputs (issue 12): output locations checked before any work, results never
lost, per-image iterations and budget counts, and the run folder's 8-bit PNGs (within ε of the
clean image, unchanged outside the mask, named after their sources) with per-image metrics."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli_run import ATTACK, ROOT, one_error_line, workbench

SAMPLES = ROOT / "resources" / "samples" / "fashion-mnist"


@pytest.mark.parametrize("case", ["a-file", "under-a-file", "not-creatable"])
def test_an_unusable_out_is_refused_before_any_work(case, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    out = {"a-file": blocker, "under-a-file": blocker / "runs", "not-creatable": Path("/proc/workbench-runs")}[case]
    completed = workbench(*ATTACK, "--out", str(out))
    line = one_error_line(completed)
    assert line.startswith(f"workbench: error: --out {out}")
    assert "batch" not in completed.stderr and completed.stdout == ""


def test_a_failing_write_at_the_end_still_prints_the_results(tmp_path):
    out = tmp_path / "runs"
    completed = workbench(*ATTACK, "--out", str(out), "--json", max_file_bytes=300)
    assert completed.returncode == 1, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["n"] == 4 and "run_folder" not in summary
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("workbench: error: the results above were not saved:")
    assert "Traceback" not in completed.stderr
    assert not out.exists() or not any(out.iterdir()), "a partial run folder was left"


def _run(tmp_path: Path, *extra: str) -> tuple[dict, Path]:
    out = tmp_path / "runs"
    completed = workbench(*extra, "--out", str(out), "--json")
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    return summary, Path(summary["run_folder"])


def test_iterations_mean_is_per_image(tmp_path):
    summary, folder = _run(tmp_path, "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist",
                           "--limit", "20", "--attack", "pgd", "--param", "eps=0.05", "--param", "steps=20")
    images = json.loads((folder / "metrics.json").read_text())["images"]
    per_image = [image["iterations"] for image in images]
    assert all(1 <= count <= 20 for count in per_image)
    assert any(not image["success"] for image in images), "needs an image that ran all 20 steps"
    assert summary["iterations_mean"] == pytest.approx(sum(per_image) / len(per_image), abs=1e-3)
    assert summary["iterations_mean"] < 15  # the batch ran 20 steps; most images stopped early


def test_budget_exhausted_counts_every_image_the_budget_stopped(tmp_path):
    summary, folder = _run(tmp_path, "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist",
                           "--limit", "20", "--attack", "nes", "--param", "eps=0.03", "--budget", "50")
    images = json.loads((folder / "metrics.json").read_text())["images"]
    failed = [image for image in images if not image["success"]]
    assert failed and summary["budget_exhausted"] == len(failed)
    assert any(image["queries"] < 50 for image in failed), "NES stops short of the budget (3+ queries a step)"
    table = workbench("attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "20",
                      "--attack", "nes", "--param", "eps=0.03", "--budget", "50")
    assert f"budget exhausted on {len(failed)} images" in table.stdout


def _grey(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.int64)


@pytest.mark.parametrize("eps", [0.05, 0.1])
def test_saved_pngs_stay_within_eps_of_the_clean_png_and_inside_the_mask(tmp_path, eps):
    summary, folder = _run(tmp_path, "attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist",
                           "--limit", "20", "--attack", "pgd", "--param", f"eps={eps}", "--param", "steps=10",
                           "--param", "early_stop=false", "--mask-rect", "4,4,20,20")
    bound = math.floor(eps * 255 + 1e-6)
    outside = np.ones((28, 28), bool)
    outside[4:24, 4:24] = False
    with open(folder / "images.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20
    largest = 0
    for row in rows:
        assert Path(row["file"]).name == row["name"].replace("/", "_").replace(" ", "_")
        clean, adversarial = _grey(SAMPLES / row["name"]), _grey(folder / row["file"])
        difference = np.abs(adversarial - clean)
        largest = max(largest, int(difference.max()))
        assert difference.max() <= bound, row["name"]
        assert not difference[outside].any(), row["name"]
        assert float(row["linf_saved"]) <= eps + 1e-6
        for key in ("clean_confidence", "adversarial_confidence", "linf", "l2", "l0"):
            assert float(row[key]) >= 0
        assert row["clean"] and row["adversarial"]
    assert largest == bound, "the perturbation should use the whole bound"


def test_saved_files_are_named_after_their_sources_and_unique(tmp_path):
    data = tmp_path / "data"
    for folder in ("Coat", "coat_x"):
        (data / folder).mkdir(parents=True)
    for source, target in (("Coat/0.png", "Coat/3.png"), ("Coat/1.png", "coat_3.png"), ("Coat/2.png", "coat_x/3.png")):
        (data / target).write_bytes((SAMPLES / source).read_bytes())
    (data / "Coat_3.png").write_bytes((SAMPLES / "Bag/0.png").read_bytes())
    _, folder = _run(tmp_path, "attack", "--model", "fashion-cnn", "--data", str(data), "--attack", "fgsm")
    files = sorted(p.name for p in (folder / "adversarial").iterdir())
    assert len(files) == 4 and len({name.lower() for name in files}) == 4
    assert "coat_x_3.png" in files
    images = json.loads((folder / "metrics.json").read_text())["images"]
    assert sorted(Path(image["file"]).name for image in images) == files
    for image in images:
        source, saved = image["name"].removesuffix(".png").replace("/", "_"), Path(image["file"]).stem
        assert saved == source or saved.startswith(source + "-"), (source, saved)


def test_a_reader_that_stops_early_is_not_an_error():
    """`workbench attacks | head -0`: the reader closes the pipe before the command writes (it is
    still importing PyTorch), and the command ends quietly with exit 0."""
    process = subprocess.Popen([sys.executable, "-m", "workbench.cli", "attacks"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert "error" not in stderr and "Traceback" not in stderr
