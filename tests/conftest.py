"""Fixtures shared by the Qt-free tests: the shipped model and a batch of its samples."""
from __future__ import annotations

import pytest



@pytest.fixture(scope="session")
def fashion_model():
    """The shipped ``fashion-cnn`` on the CPU."""
    from workbench.core.loaders import load_model

    return load_model("fashion-cnn", device="cpu")


@pytest.fixture(scope="session")
def fashion_samples(fashion_model):
    """The shipped Fashion-MNIST samples at the model's input spec."""
    from workbench.core.datasets import open_data

    return open_data("samples:fashion-mnist", fashion_model.spec, fashion_model.labels)


@pytest.fixture(scope="session")
def fashion_batch(fashion_model, fashion_samples):
    """32 samples (balanced over classes) that the model classifies correctly: (x, y)."""
    x, y = fashion_samples.images, fashion_samples.labels
    correct = fashion_model.predict(x).argmax(dim=1) == y
    chosen = []
    for label in range(fashion_model.num_classes):
        chosen += (correct & (y == label)).nonzero().squeeze(1)[:4].tolist()
    chosen = sorted(chosen)[:32]
    return x[chosen].clone(), y[chosen].clone()
