"""The oracle (ARCHITECTURE.md, contract 5): what it answers, how it counts, the budget wall,
the query history, and that nothing public leads back to the model."""
from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.model import ModelHandle
from workbench.core.oracle import Oracle, OracleParams, QueryBudgetExhausted, QueryLog
from workbench.core.params import build, describe


def _oracle(model, n=4, **settings):
    oracle = Oracle(model, OracleParams(**settings))
    oracle.begin(n)
    return oracle


def test_settings_are_declared_once():
    names = [info.name for info in describe(OracleParams)]
    assert names == ["top_k", "decimals", "label_only", "budget", "latency_ms", "accounts", "switch_every"]
    with pytest.raises(ParameterError, match="'top_k'"):
        build(OracleParams, {"top_k": -1})
    with pytest.raises(ParameterError, match="'budget'"):
        build(OracleParams, {"budget": 2.5})


def test_top_k_labels_with_confidences(fashion_model, fashion_batch):
    x = fashion_batch[0][:4]
    answer = _oracle(fashion_model, top_k=3).query(x)
    probs = fashion_model.predict(x)
    expected_scores, expected_labels = probs.topk(3, dim=1)
    assert torch.equal(answer.labels, expected_labels)
    assert torch.allclose(answer.scores, expected_scores)
    visible = answer.visible(fashion_model.num_classes)
    assert (visible > 0).sum(dim=1).le(3).all()
    assert torch.equal(answer.top1, probs.argmax(dim=1))
    full = _oracle(fashion_model).query(x)
    assert full.labels.shape == (4, fashion_model.num_classes)


def test_rounding_and_labels_only(fashion_model, fashion_batch):
    x = fashion_batch[0][:4]
    rounded = _oracle(fashion_model, decimals=1).query(x)
    assert torch.allclose(rounded.scores * 10, (rounded.scores * 10).round(), atol=1e-5)
    assert torch.equal(rounded.top1, fashion_model.predict(x).argmax(dim=1))
    labels = _oracle(fashion_model, label_only=True, top_k=2).query(x)
    assert labels.scores is None and labels.labels.shape == (4, 2)
    assert torch.equal(labels.visible(fashion_model.num_classes).sum(dim=1), torch.ones(4))


def test_counts_per_image_and_in_total(fashion_model, fashion_batch):
    x = fashion_batch[0][:4]
    oracle = _oracle(fashion_model)
    oracle.query(x)
    oracle.query(x[[0, 0, 2]], images=torch.tensor([0, 0, 2]))
    assert oracle.queries.tolist() == [3, 1, 2, 1]
    assert oracle.total_queries == 7
    oracle.begin(2)
    oracle.query(x[:2])
    assert oracle.queries.tolist() == [1, 1] and oracle.total_queries == 9
    with pytest.raises(WorkbenchError, match="say which image"):
        oracle.query(x[:3])
    with pytest.raises(WorkbenchError, match="one per row"):
        oracle.query(x[:2], images=torch.tensor([0, 5]))
    with pytest.raises(WorkbenchError, match="call begin"):
        Oracle(fashion_model).query(x)


def test_budget_refuses_the_whole_query_and_counts_nothing(fashion_model, fashion_batch):
    x = fashion_batch[0][:2]
    oracle = _oracle(fashion_model, n=2, budget=2)
    oracle.query(x)
    oracle.query(x[:1], images=torch.tensor([0]))
    assert oracle.can_afford(1).tolist() == [False, True]
    with pytest.raises(QueryBudgetExhausted, match="budget of 2 per image exhausted for image\\(s\\) 0") as refused:
        oracle.query(x)
    assert refused.value.images == [0]
    assert oracle.queries.tolist() == [2, 1] and oracle.total_queries == 3
    assert len(oracle.log) == 3


def test_history_is_bounded_and_shared_between_accounts(fashion_model, fashion_batch):
    x = fashion_batch[0][:4]
    log = QueryLog(maxlen=5)
    alice = Oracle(fashion_model, account="alice", log=log)
    bob = Oracle(fashion_model, account="bob", log=log)
    alice.begin(4)
    bob.begin(4)
    alice.query(x)
    bob.query(x[1:3], images=torch.tensor([1, 2]))
    records = list(log)
    assert len(records) == 5
    assert [r.account for r in records] == ["alice"] * 3 + ["bob"] * 2
    assert [r.image for r in records] == [1, 2, 3, 1, 2]
    assert [r.number for r in records[:3]] == [1, 2, 3]
    assert records[-1].features.dtype == torch.uint8 and records[-1].features.shape == x.shape[1:]
    assert records[-1].label == int(fashion_model.predict(x[2:3]).argmax())


def test_latency_is_simulated(fashion_model, fashion_batch):
    oracle = _oracle(fashion_model, n=1, latency_ms=60)
    started = time.perf_counter()
    oracle.query(fashion_batch[0][:1])
    assert time.perf_counter() - started >= 0.06


def test_bad_queries_are_refused(fashion_model, fashion_batch):
    oracle = _oracle(fashion_model, n=2)
    with pytest.raises(WorkbenchError, match="M×1×28×28"):
        oracle.query(torch.rand(2, 3, 28, 28))
    with pytest.raises(WorkbenchError, match=r"\[0, 1\]"):
        oracle.query(fashion_batch[0][:2] * 2)
    assert oracle.total_queries == 0


def test_nothing_public_leads_to_the_model(fashion_model, fashion_batch):
    oracle = _oracle(fashion_model)
    for name in dir(oracle):
        if name.startswith("_"):
            continue
        value = getattr(oracle, name)
        assert not isinstance(value, (nn.Module, ModelHandle, nn.Parameter)), name
        assert not (isinstance(value, torch.Tensor) and value.requires_grad), name
    x = fashion_batch[0][:4].clone().requires_grad_(True)
    with torch.enable_grad():
        answer = oracle.query(x)
    assert not answer.scores.requires_grad and answer.scores.grad_fn is None
    assert answer.scores.device.type == "cpu"
    answer.scores.zero_()  # a fresh tensor: changing it changes nothing else
    assert oracle.query(x.detach()).scores.sum() > 0


def test_the_referee_is_uncounted_and_sealed_during_attacks(fashion_model, fashion_batch):
    x = fashion_batch[0][:4]
    oracle = _oracle(fashion_model)
    probs = oracle.judge(x)
    assert torch.allclose(probs, fashion_model.predict(x))
    assert oracle.total_queries == 0 and len(oracle.log) == 0
    with oracle.sealed(), pytest.raises(WorkbenchError, match="may not use the oracle's referee"):
        oracle.judge(x)
    oracle.judge(x)  # unsealed again
