"""How the model-file readers report problems, and keep PyTorch quiet while they read.

Shared by :mod:`workbench.core.loaders`, :mod:`workbench.core.safe_pickle` and
:mod:`workbench.core.export_archive`, so that every format words its failures the same way.
"""
from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from workbench.core.errors import ModelLoadError

FORMAT_TITLES = {
    "torch-export": "torch.export archive",
    "torchscript": "TorchScript archive",
    "safetensors": "safetensors file",
    "torch-save": "torch.save file",
    "pickle": "Python pickle",
}

TRUST_HINT = (
    "which can run code when loaded; load it only if you trust its source "
    "(--trust-pickle / 'Trust this file' in the GUI)"
)


def untrusted(path: Path, what: str = "is a pickled Python object") -> ModelLoadError:
    """The refusal of a file that only code execution could read: ``"<name> <what>, which can
    run code when loaded; …(--trust-pickle / 'Trust this file' in the GUI)"``."""
    return ModelLoadError(f"{path.name} {what}, {TRUST_HINT}")


def damaged(path: Path, kind: str, error: BaseException) -> ModelLoadError:
    """A file of format ``kind`` (a key of :data:`FORMAT_TITLES`) that cannot be read."""
    return ModelLoadError(
        f"{path.name} could not be read as a {FORMAT_TITLES[kind]}: it is truncated or damaged "
        f"({brief(error)})"
    )


def brief(error: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, shortened: enough to say why."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def quiet_torch() -> Iterator[None]:
    """Keep PyTorch's warnings and logged tracebacks about a file (deprecations, failed
    deserialization) off the console: the caller turns failures into one clear message."""
    loggers = [logging.getLogger(name) for name in ("torch.export", "torch._export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
