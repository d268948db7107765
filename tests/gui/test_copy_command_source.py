""""Copy as command" of a user model: the command line it writes names the same source, and
the command loads the same model as the window did."""
from __future__ import annotations

import shlex

import torch
from safetensors.torch import save_file

from workbench.cli.checks import join_negative_values
from workbench.cli.options import load_model_from_args
from workbench.cli.parser import build_parser
from workbench.core.architectures import build_architecture
from workbench.core.source import ModelSource
from workbench.gui.widgets.attack_panel import build_command

from batch_helpers import window  # noqa: F401 - the main window fixture


def user_model(folder):
    """A small-cnn weights file and a labels file, as a user would open them."""
    torch.manual_seed(1)
    path = folder / "user model.safetensors"
    save_file(build_architecture("small-cnn", num_classes=10, in_channels=1).state_dict(), path)
    labels = folder / "names.txt"
    labels.write_text("\n".join(f"c{i}" for i in range(10)))
    return ModelSource(str(path), arch="small-cnn", input_size=(28, 28), channels=1, mean=(0.286,),
                       std=(0.353,), labels_file=str(labels))


def test_copy_as_command_of_a_user_model_reproduces_the_same_load(tmp_path):
    source = user_model(tmp_path)
    command = build_command(source, "samples:fashion-mnist", "pgd", {"eps": 0.05}, seed=3)
    argv = shlex.split(command)
    assert argv[:2] == ["workbench", "attack"]
    args = build_parser().parse_args(join_negative_values([*argv[1:], "--device", "cpu"]))
    assert ModelSource.from_cli_args(args) == ModelSource(**{**source.__dict__, "device": "cpu"})
    in_window = source.load(device="cpu")
    from_command = load_model_from_args(args)
    assert from_command.weight_hash == in_window.weight_hash
    assert from_command.spec == in_window.spec and from_command.labels == in_window.labels
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(from_command.predict(x), in_window.predict(x))


def test_copy_as_command_of_a_builtin_model_names_only_its_id():
    command = build_command(ModelSource("fashion-cnn", builtin=True), "samples:fashion-mnist", "pgd", {})
    assert command.startswith("workbench attack --model fashion-cnn --data samples:fashion-mnist ")


def test_the_window_source_record_copies_as_the_command_that_loads_its_model(qtbot, window, tmp_path):  # noqa: F811
    source = user_model(tmp_path)
    assert window.load_model(source, data="samples:fashion-mnist")
    assert window.state.model_source == source
    argv = shlex.split(build_command(window.state.model_source, "samples:fashion-mnist", "fgsm", {}))
    args = build_parser().parse_args(join_negative_values([*argv[1:], "--device", str(window.state.model.device)]))
    from_command = load_model_from_args(args)
    shown = window.state.model
    assert (from_command.weight_hash, from_command.spec, from_command.labels) == (shown.weight_hash, shown.spec, shown.labels)
