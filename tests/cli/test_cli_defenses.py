"""``workbench certify`` and ``workbench tradeoff`` (issue 6), run as subprocesses."""
from __future__ import annotations

import csv

from cli_run import ok_json, workbench

SMALL_DATA = ("--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "4")


def test_certify_reports_certified_accuracy_per_radius():
    summary = ok_json("certify", *SMALL_DATA, "--param", "sigma=0.05", "--param", "n0=20",
                      "--param", "n=200", "--radii", "0,0.1,5")
    assert summary["mode"] == "certify" and summary["images"] == 4
    certified = summary["certified_accuracy"]
    assert list(certified) == ["0", "0.1", "5"]
    assert certified["0"] >= certified["0.1"] >= certified["5"] == 0.0
    assert certified["0"] > 0


def test_tradeoff_writes_points_and_csv(tmp_path):
    out = tmp_path / "tradeoff.csv"
    summary = ok_json("tradeoff", *SMALL_DATA, "--defense", "bit-depth", "--strengths", "8,3",
                      "--param", "eps=0.1", "--param", "steps=5", "--csv", str(out))
    assert summary["parameter"] == "bits"
    points = summary["points"]
    assert [p["bits"] for p in points] == [8, 3]
    assert all(p["certified_accuracy"] is None for p in points)
    # Three-bit rounding fools the naive attack; BPDA does not care.
    assert points[1]["robust_naive"] > points[1]["robust_adaptive"]
    rows = list(csv.DictReader(out.open()))
    assert [float(r["bits"]) for r in rows] == [8, 3]


def test_bad_defense_and_black_box_attack_are_refused():
    unknown = workbench("tradeoff", *SMALL_DATA, "--defense", "moat", "--strengths", "1")
    assert unknown.returncode == 2 and "unknown defense 'moat'" in unknown.stderr
    blackbox = workbench("tradeoff", *SMALL_DATA, "--defense", "jpeg", "--strengths", "50", "--attack", "square")
    assert blackbox.returncode == 2 and "black-box" in blackbox.stderr
    assert "Traceback" not in unknown.stderr + blackbox.stderr
