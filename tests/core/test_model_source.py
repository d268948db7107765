"""``ModelSource``: one description of a model for the command line, the dialog and "copy as
command" — the options it writes parse back to the same source, and it loads what the CLI loads."""
from __future__ import annotations

import argparse

import pytest
import torch
from safetensors.torch import save_file

from workbench.cli.checks import UsageError, join_negative_values
from workbench.cli.options import add_model_arguments, load_model_from_args
from workbench.core.architectures import build_architecture
from workbench.core.errors import ParameterError
from workbench.core.source import ModelSource


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    return parser.parse_args(join_negative_values(argv))


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user model")
    torch.manual_seed(0)
    path = folder / "my net.safetensors"
    save_file(build_architecture("small-cnn", num_classes=10, in_channels=1).state_dict(), path)
    labels = folder / "labels.txt"
    labels.write_text("\n".join(f"thing {i}" for i in range(10)))
    return path, labels


SOURCES = [
    ModelSource("fashion-cnn", builtin=True),
    ModelSource("fashion-cnn", builtin=True, device="cpu"),
    ModelSource("/models/net.safetensors", arch="small-cnn", input_size=(28, 28), channels=1,
                mean=(0.286,), std=(0.353,)),
    ModelSource("/models/rgb.pt2", input_size=(32, 24), channels=3, mean=(0.4914, 0.4822, 0.4465),
                std=(0.247, 0.2435, 0.2616), labels_file="/models/labels.txt", trust_pickle=True),
    ModelSource("/models/centred.pt", arch="resnet18", input_size=(224, 224), channels=3, mean=(-0.5,),
                std=(2.0,), device="cpu"),
]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.source)
def test_source_to_options_and_back_is_the_same_source(source):
    assert ModelSource.from_cli_args(parse(source.to_cli_args())) == source


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.source)
def test_records_round_trip(source):
    assert ModelSource.from_dict(source.to_dict()) == source


@pytest.mark.parametrize("argv, message", [
    (["--model", "m.pt", "--channels", "1"], "--input-size is needed"),
    (["--model", "m.pt", "--input-size", "28by28"], "--input-size: '28by28'"),
    (["--model", "m.pt", "--input-size", "28", "--mean", "a,b"], "--mean: 'a,b'"),
    (["--model", "m.pt", "--input-size", "28", "--channels", "1", "--std", "1,1"], "std needs 1 or 1 values"),
])
def test_inconsistent_options_are_refused_naming_the_option(argv, message):
    with pytest.raises(ParameterError, match=message):
        ModelSource.from_cli_args(parse(argv))
    with pytest.raises(UsageError, match=message):
        load_model_from_args(parse(argv))


def test_a_user_model_loads_the_same_from_the_source_and_from_its_command_line(weights):
    path, labels = weights
    source = ModelSource(str(path), arch="small-cnn", input_size=(28, 28), channels=1, mean=(0.286,),
                         std=(0.353,), labels_file=str(labels))
    direct = source.load(device="cpu")
    via_cli = load_model_from_args(parse([*source.to_cli_args(), "--device", "cpu"]))
    assert direct.weight_hash == via_cli.weight_hash
    assert direct.spec == via_cli.spec and direct.labels == via_cli.labels == [f"thing {i}" for i in range(10)]
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(direct.predict(x), via_cli.predict(x))


def test_a_builtin_id_is_recognised_from_the_options():
    assert ModelSource.from_cli_args(parse(["--model", "fashion-cnn"])).builtin
    assert not ModelSource.from_cli_args(parse(["--model", "./fashion-cnn"])).builtin
