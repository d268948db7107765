"""Stateful query monitoring (Chen, Carlini and Wagner 2019): calibration, benign streams,
black-box attacks flagged, and the Sybil attack that evades it."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.datasets import open_data
from workbench.core.errors import WorkbenchError
from workbench.core.oracle import Oracle, OracleParams
from workbench.defenses.monitor import MonitorParams, StatefulDetector


@pytest.fixture(scope="module")
def threshold(fashion_model):
    benign = open_data("fashion-mnist:train", fashion_model.spec, fashion_model.labels, limit=1000)
    return StatefulDetector().calibrate(benign.images)


def test_uncalibrated_detector_refuses_to_watch(fashion_model, fashion_batch):
    oracle = Oracle(fashion_model, log=StatefulDetector())
    oracle.begin(1)
    with pytest.raises(WorkbenchError, match="calibrate"):
        oracle.query(fashion_batch[0][:1])


def test_benign_stream_raises_few_alarms(fashion_model, threshold):
    stream = open_data("fashion-mnist:test", fashion_model.spec, fashion_model.labels, limit=600)
    detector = StatefulDetector(threshold=threshold)
    oracle = Oracle(fashion_model, account="benign", log=detector)
    oracle.begin(1)
    for i in range(len(stream)):
        oracle.query(stream.images[i:i + 1], torch.zeros(1))
    assert detector.queries_seen == len(stream)
    assert detector.flagged_fraction() <= 0.01


ATTACK_PARAMS = {
    "square": ({"eps": 0.03, "max_queries": 1000}, False),
    "simba": ({"max_queries": 400}, False),
    "hopskipjump": ({"max_queries": 400}, True),
}


@pytest.mark.parametrize("attack_id", sorted(ATTACK_PARAMS))
def test_blackbox_attack_is_flagged_within_1000_queries(attack_id, fashion_model, fashion_batch, threshold):
    params, label_only = ATTACK_PARAMS[attack_id]
    detector = StatefulDetector(threshold=threshold)
    oracle = Oracle(fashion_model, OracleParams(label_only=label_only), account="mallory", log=detector)
    x, y = fashion_batch
    run_to_end(ATTACKS.get(attack_id)(**params).run(oracle, x[:1], y[:1], seed=0))
    assert "mallory" in detector.first_alarm
    assert detector.first_alarm["mallory"].number < 1000


def test_sybil_accounts_evade_the_monitor(fashion_model, fashion_batch, threshold):
    k = MonitorParams().k
    detector = StatefulDetector(threshold=threshold)
    sybil = OracleParams(accounts=100, switch_every=k // 5)
    oracle = Oracle(fashion_model, sybil, account="mallory", log=detector)
    x, y = fashion_batch
    run_to_end(ATTACKS.get("square")(eps=0.03, max_queries=1000).run(oracle, x[:1], y[:1], seed=0))
    assert len(detector.accounts) > 1
    assert detector.alarms == []
