"""``ModelSource``: how a model is named and loaded, shared by the command line, the Open-model
dialog, "Copy as command", recent files and run records.

A source is a built-in id or a model file with the loader's options (architecture of a weights
file, input size, channels, mean/std, a labels file, whether a pickled file is trusted) and an
optional device. Three conversions keep every front end in step:

* :meth:`ModelSource.load` — the loaded :class:`~workbench.core.model.ModelHandle`;
* :meth:`ModelSource.to_cli_args` — the ``--model …`` options of a ``workbench`` command;
* :meth:`ModelSource.from_cli_args` — back from those options once parsed (``argparse``).

``from_cli_args(parse(to_cli_args(source))) == source`` for every source the GUI makes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import ParameterError
from workbench.core.params import format_number
from workbench.core.spec import InputSpec


@dataclass(frozen=True)
class ModelSource:
    """A model by built-in id or file path (``source``) and the options that load it.

    ``input_size`` is (height, width); ``channels``, ``mean`` and ``std`` complete the input
    spec of a model file (channels 3, mean 0 and std 1 when not given). ``device`` None: the
    caller's choice (the GUI's device, or CUDA when available)."""

    source: str
    arch: str | None = None
    input_size: tuple[int, int] | None = None  # (height, width)
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    labels_file: str | None = None
    trust_pickle: bool = False
    builtin: bool = False
    device: str | None = None

    # -- loading ----------------------------------------------------------------------------------
    def input_spec(self) -> InputSpec | None:
        """The input spec of a model file, or None (a built-in model or a file that records it);
        raises ValueError when the values do not make one."""
        if self.input_size is None:
            return None
        return InputSpec(
            channels=self.channels or 3, height=int(self.input_size[0]), width=int(self.input_size[1]),
            mean=tuple(self.mean or (0.0,)), std=tuple(self.std or (1.0,)),
        )

    def load(self, device=None):
        """The model: ``device`` (else this source's, else CUDA when available) is checked first,
        so that an unknown device is refused before anything is read."""
        from workbench.core.device import choose_device
        from workbench.core.loaders import load_labels_file, load_model

        target = choose_device(device if device is not None else self.device)
        labels = load_labels_file(self.labels_file) if self.labels_file else None
        return load_model(self.source, arch=self.arch, input_spec=self.input_spec(), labels=labels,
                          device=target, trust_pickle=self.trust_pickle)

    # -- command line -----------------------------------------------------------------------------
    def to_cli_args(self) -> list[str]:
        """The model options of a ``workbench`` command (unquoted argv items)."""
        args = ["--model", self.source]
        if self.arch:
            args += ["--arch", self.arch]
        if self.input_size:
            args += ["--input-size", f"{int(self.input_size[0])}x{int(self.input_size[1])}"]
        if self.channels:
            args += ["--channels", str(int(self.channels))]
        if self.mean:
            args += ["--mean", ",".join(format_number(v) for v in self.mean)]
        if self.std:
            args += ["--std", ",".join(format_number(v) for v in self.std)]
        if self.labels_file:
            args += ["--labels", self.labels_file]
        if self.trust_pickle:
            args += ["--trust-pickle"]
        if self.device:
            args += ["--device", self.device]
        return args

    @classmethod
    def from_cli_args(cls, args: Any) -> "ModelSource":
        """The source that parsed model options (``args.model``, ``args.arch``, …) name.

        Raises :class:`ParameterError` naming the option when the input options do not fit
        together (``--channels`` without ``--input-size``, a size not of the form HxW, …)."""
        size = _input_size(args.input_size)
        if size is None and any(v is not None for v in (args.channels, args.mean, args.std)):
            raise ParameterError("--input-size is needed with --channels/--mean/--std")
        source = cls(
            source=str(args.model), arch=args.arch, input_size=size, channels=args.channels,
            mean=parse_floats(args.mean, "--mean"), std=parse_floats(args.std, "--std"), labels_file=args.labels,
            trust_pickle=bool(args.trust_pickle), builtin=is_builtin(str(args.model)), device=args.device,
        )
        try:
            source.input_spec()
        except ValueError as error:
            raise ParameterError(f"input spec: {error}") from None
        return source

    # -- records ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (lists for the tuples)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSource":
        """Back from :meth:`to_dict` (unknown keys are ignored)."""
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        for key in ("input_size", "mean", "std"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**known)


def is_builtin(name: str) -> bool:
    """Whether ``name`` is a built-in model id (an id wins over a file of the same name)."""
    from workbench.core.loaders import builtin_models

    return any(card.get("id") == name for card in builtin_models())


def recorded_input_shape(path: str | Path, trust_pickle: bool = False) -> tuple[int, int, int] | None:
    """The C×H×W input a torch.export archive (``.pt2``) records, or None: another format, an
    archive that records none, or one that cannot be read (the loader says why when it opens)."""
    from workbench.core.errors import ModelLoadError
    from workbench.core.export_archive import read_export
    from workbench.core.loaders import detect_format

    path = Path(path)
    try:
        if not path.is_file() or detect_format(path) != "torch-export":
            return None
        _module, shape = read_export(path, trust_pickle)
    except ModelLoadError:
        return None
    return None if shape is None else tuple(int(d) for d in shape)


def _input_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        parts = [int(v) for v in str(text).lower().replace("×", "x").split("x")]
    except ValueError:
        raise ParameterError(f"--input-size: '{text}' is not of the form HxW") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise ParameterError(f"--input-size: '{text}' is not of the form HxW")
    return (parts[0], parts[1])


def parse_floats(text: str | None, option: str) -> tuple[float, ...] | None:
    """Comma-separated numbers (None stays None); ParameterError names ``option``."""
    if text is None:
        return None
    try:
        return tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise ParameterError(f"{option}: '{text}' is not a comma-separated list of numbers") from None
