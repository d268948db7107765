"""`workbench attack` with an oracle: the black-box options, query statistics in the JSON
summary and the run record (as a subprocess), and the clear errors for options that cannot
apply (in-process, to keep the suite fast)."""
from __future__ import annotations

import json

import pytest

from workbench.cli import main

from cli_run import workbench

SAMPLES = ("--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "10")


def test_score_based_attack_through_a_rounded_top_k_oracle(tmp_path):
    completed = workbench(
        "attack", *SAMPLES, "--attack", "square", "--param", "eps=0.1", "--param", "max_queries=100",
        "--top-k", "3", "--round", "2", "--budget", "40", "--latency", "1", "--seed", "2",
        "--out", str(tmp_path), "--json",
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["oracle"] == {
        "model_id": "fashion-cnn", "account": "attacker", "top_k": 3, "decimals": 2,
        "label_only": False, "budget": 40, "latency_ms": 1.0, "accounts": 1, "switch_every": 100,
    }
    assert 0 < summary["queries"] <= 40 * summary["n"]
    assert summary["success_rate"] > 0
    assert 1 <= summary["queries_median"] <= 40 and 1 <= summary["queries_mean"] <= 40
    assert summary["budget_exhausted"] <= summary["n"]
    assert summary["max_linf"] <= 0.1 + 1e-6
    run_folder = next(tmp_path.iterdir())
    config = json.loads((run_folder / "config.json").read_text())
    assert config["oracle"]["budget"] == 40


def test_label_only_attack_reports_queries_to_success():
    completed = workbench("attack", *SAMPLES, "--attack", "hopskipjump", "--label-only",
                          "--budget", "30", "--json")
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["oracle"]["label_only"] is True
    assert summary["success_rate_on_correct"] == 1.0
    assert summary["queries"] <= 30 * summary["n"] and summary["queries_median"] >= 1


@pytest.mark.parametrize("options,message", [
    (("--attack", "square", "--label-only"), "needs confidences, but the oracle answers labels only"),
    (("--attack", "pgd", "--budget", "10"), "--budget applies to black-box attacks; pgd is white-box"),
    (("--attack", "square", "--top-k", "-1"), "--top-k: -1 is below its minimum 0"),
])
def test_oracle_options_that_cannot_apply_exit_2(options, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["attack", *SAMPLES, *options])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
