"""Issue 6's defense checks at full size: every randomization or obfuscation defense against
plain PGD and against the matching adaptive attack (BPDA / EOT), and stateful monitoring's
false-positive rate on a long benign stream — on the first 200 Fashion-MNIST test images.

Prints one JSON object of figures per check; the default test run has faster versions of the
same checks (tests/defenses)."""
from __future__ import annotations

import json

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.datasets import open_data
from workbench.core.oracle import Oracle, OracleParams
from workbench.defenses import DEFENSES, Adaptive, DefendedModel
from workbench.defenses.evaluation import adaptive_for, evaluate_defense
from workbench.defenses.monitor import StatefulDetector

pytestmark = pytest.mark.bench

N, EPS = 200, 0.1
SETTINGS = {
    "gaussian-noise": {"sigma": 0.1, "clip": True},
    "resize-pad": {"min_scale": 0.8},
    "jpeg": {"quality": 50},
    "bit-depth": {"bits": 3},
    "thermometer": {"levels": 16},
}


@pytest.fixture(scope="module")
def test_images(fashion_model):
    data = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=N)
    return data.images, data.labels


def _robust(attack, defended, x, y, adaptive):
    return list(evaluate_defense(attack, defended, x, y, adaptive=adaptive, seed=0))[-1].robust_accuracy


@pytest.mark.parametrize("defense_id", sorted(SETTINGS))
def test_defense_against_plain_and_adaptive_pgd(defense_id, fashion_model, test_images):
    x, y = test_images
    plain = ATTACKS.get("pgd")(eps=EPS, steps=20)
    undefended = float((run_to_end(plain.run(fashion_model, x, y)).probs.argmax(1) == y).float().mean())
    defended = DefendedModel(fashion_model, [DEFENSES.get(defense_id)(**SETTINGS[defense_id])], seed=1)
    naive = _robust(plain, defended, x, y, Adaptive())
    adaptive = adaptive_for(defended, eot=16)
    strong = ATTACKS.get("pgd")(eps=EPS, steps=40, early_stop=False)
    broken = _robust(strong, defended, x, y, adaptive)
    figures = {"defense": defense_id, **SETTINGS[defense_id], "undefended_robust": undefended,
               "naive_robust": naive, "adaptive": adaptive.describe(), "adaptive_robust": broken}
    print("\nDefense check:", json.dumps(figures))
    assert naive >= undefended + 0.2
    assert broken <= undefended + 0.1


def test_monitor_false_positives_on_a_long_benign_stream(fashion_model):
    calibration = open_data("fashion-mnist:train", fashion_model.spec, fashion_model.labels, limit=2000)
    stream = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=5000)
    detector = StatefulDetector()
    threshold = detector.calibrate(calibration.images)
    oracle = Oracle(fashion_model, OracleParams(), account="benign", log=detector)
    oracle.begin(1)
    for i in range(len(stream)):
        oracle.query(stream.images[i:i + 1], torch.zeros(1))
    figures = {"threshold": threshold, "benign_queries": detector.queries_seen,
               "false_positive_rate": detector.flagged_fraction()}
    flagged = {}
    for attack_id, params, label_only in (("square", {"eps": 0.05, "max_queries": 1000}, False),
                                          ("simba", {"max_queries": 1000}, False),
                                          ("hopskipjump", {"max_queries": 1000}, True)):
        watcher = StatefulDetector(threshold=threshold)
        attacked = Oracle(fashion_model, OracleParams(label_only=label_only), account="mallory", log=watcher)
        x, y = stream.images[:10], stream.labels[:10]
        for i in range(len(x)):
            run_to_end(ATTACKS.get(attack_id)(**params).run(attacked, x[i:i + 1], y[i:i + 1], seed=i))
        alarm = watcher.first_alarm.get("mallory")
        flagged[attack_id] = {"queries": watcher.queries_seen, "first_alarm_at": alarm.number if alarm else None}
    figures["attacks"] = flagged
    print("\nMonitoring:", json.dumps(figures, indent=2))
    assert figures["false_positive_rate"] <= 0.01
    for outcome in flagged.values():
        assert outcome["first_alarm_at"] is not None and outcome["first_alarm_at"] < 1000
