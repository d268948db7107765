"""``workbench defend`` and ``workbench monitor`` print what the Defenses lab's Naive-vs-adaptive
and Monitoring pages show for the same settings and seed: the pages run in the real lab with
small settings (clicks and typing), the commands as subprocesses, and the numbers must be
equal. The pages' defaults are the commands' defaults, too."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from defenses_lab_helpers import click_and_wait, fill_form, lab, lab_state, type_into  # noqa: F401  (fixtures)

from workbench.core.datasets import open_data

ROOT = Path(__file__).resolve().parents[2]
IMAGES = 6


def cli_json(*args: str) -> dict:
    completed = subprocess.run([sys.executable, "-m", "workbench.cli", *args, "--device", "cpu", "--json", "--quiet"],
                               capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def open_first_images(lab, count: int) -> None:
    """The gallery holds exactly what ``--data samples:fashion-mnist --limit count`` loads."""
    model = lab.state.model
    lab.state.set_images(open_data("samples:fashion-mnist", model.spec, model.labels, limit=count))


def test_page_defaults_are_the_commands_defaults(lab):  # noqa: F811
    from workbench.cli.defend import DEFAULT_EOT
    from workbench.defenses.evaluation import BLACK_BOX_QUERIES, COMPARISON_ATTACK, COMPARISON_ATTACK_VALUES
    from workbench.defenses.monitoring import (
        BENIGN_QUERIES, CALIBRATION_IMAGES, MONITOR_ATTACK, MONITOR_ATTACK_VALUES, SWITCH_EVERY,
    )

    compare, monitor = lab.compare, lab.monitor
    assert compare.attack.attack_class().id == COMPARISON_ATTACK
    assert COMPARISON_ATTACK_VALUES.items() <= compare.attack.values().items()
    assert compare.eot_draws.value() == DEFAULT_EOT and compare.black_box_queries.value() == BLACK_BOX_QUERIES
    assert monitor.attack.attack_class().id == MONITOR_ATTACK
    assert MONITOR_ATTACK_VALUES.items() <= monitor.attack.values().items()
    assert monitor.calibration.value() == CALIBRATION_IMAGES and monitor.benign.value() == BENIGN_QUERIES
    assert monitor.oracle_params() == {"accounts": 1, "switch_every": SWITCH_EVERY}


def test_defend_json_equals_the_naive_vs_adaptive_page(qtbot, lab):  # noqa: F811
    open_first_images(lab, IMAGES)
    view = lab.compare
    (defense_id, values), = view.stack.stack()
    fill_form(qtbot, view.attack.form, {"steps": 4})
    type_into(qtbot, view.images, str(IMAGES))
    type_into(qtbot, view.black_box_queries, "40")
    click_and_wait(qtbot, lab, view.run_button)

    stack = defense_id + "".join((":" if i == 0 else ",") + f"{key}={value}" for i, (key, value) in enumerate(values.items()))
    summary = cli_json("defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", str(IMAGES),
                       "--defense", stack, "--param", "steps=4", "--square-queries", "40")
    assert list(summary["stages"]) == list(view.cards)
    for stage, card in view.cards.items():
        printed = summary["stages"][stage]
        assert printed["clean_accuracy"] == card.clean_accuracy(), stage
        assert printed["robust_accuracy"] == card.robust_accuracy(), stage
        assert printed["warnings"] == card.warnings(), stage
    assert summary["adaptive"] == view.adaptive().describe()


def test_monitor_json_equals_the_monitoring_page(qtbot, lab):  # noqa: F811
    open_first_images(lab, 2)
    view = lab.monitor
    lab.show_page(view)
    type_into(qtbot, view.calibration, "200")
    fill_form(qtbot, view.attack.form, {"max_queries": 200})
    click_and_wait(qtbot, lab, view.attack_button)

    summary = cli_json("monitor", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "2",
                       "--index", "0", "--calibration", "200", "--param", "max_queries=200")
    assert summary["queries"] == view.queries()
    assert summary["threshold"] == view.threshold()
    account, number = view.first_alarm()
    assert summary["first_alarm"] == {"account": account, "query": number + 1}
    assert f"alarms: {summary['alarms']:,}" in view.counters.text()
    assert summary["verdict"] in view.verdict.text() or summary["verdict"] in view.counters.text()

    type_into(qtbot, view.benign, "30")
    click_and_wait(qtbot, lab, view.benign_button)
    benign = cli_json("monitor", "--model", "fashion-cnn", "--calibration", "200", "--benign", "30")
    assert benign["queries"] == view.queries() == 30 and benign["threshold"] == view.threshold()
    assert benign["verdict"] in view.counters.text().replace("<b>", "").replace("</b>", "")
