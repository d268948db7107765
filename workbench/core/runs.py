"""Run records (ARCHITECTURE.md, contract 6).

A run is its config (algorithm id, parameters, model id and weight hash, data ids, seed,
software versions), its metrics and its artifacts. :func:`write_run` writes them into a run
folder atomically: everything goes into a hidden temporary folder that is renamed into place
at the end, so a run folder is either complete or absent.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from workbench.core.files import write_json_atomic

_CONFIG = "config.json"
_METRICS = "metrics.json"


def software_versions() -> dict[str, str]:
    """Versions that determine a run's result."""
    import numpy
    import torch
    import torchvision

    try:
        from importlib.metadata import version

        workbench_version = version("adversarial-workbench")
    except Exception:  # not installed as a distribution (source checkout)
        workbench_version = "source"
    return {
        "workbench": workbench_version,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


@dataclass
class RunRecord:
    """What a run folder holds. ``artifacts`` maps a relative file name to a writer
    ``(path) -> None`` (e.g. saving a PNG)."""

    config: dict[str, Any]
    metrics: dict[str, Any]
    artifacts: Mapping[str, Callable[[Path], None]] = field(default_factory=dict)


def run_folder_name(config: Mapping[str, Any]) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    algorithm = str(config.get("algorithm", "run")).replace("/", "-")
    return f"{stamp}-{algorithm}-seed{config.get('seed', 0)}"


def write_run(parent: str | Path, record: RunRecord, name: str | None = None) -> Path:
    """Write ``record`` into a new folder under ``parent`` and return its path.

    The folder appears complete or not at all; an existing name gets a numeric suffix.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    base = name or run_folder_name(record.config)
    final = parent / base
    suffix = 1
    while final.exists():
        suffix += 1
        final = parent / f"{base}-{suffix}"
    staging = Path(tempfile.mkdtemp(prefix=f".{base}.", dir=parent))
    try:
        write_json_atomic(staging / _CONFIG, record.config)
        write_json_atomic(staging / _METRICS, record.metrics)
        for relative, writer in record.artifacts.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            writer(target)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def read_run(folder: str | Path) -> RunRecord:
    """The config and metrics of a run folder (artifacts stay on disk)."""
    folder = Path(folder)
    with open(folder / _CONFIG, encoding="utf-8") as handle:
        config = json.load(handle)
    with open(folder / _METRICS, encoding="utf-8") as handle:
        metrics = json.load(handle)
    return RunRecord(config=config, metrics=metrics)


def base_config(**entries: Any) -> dict[str, Any]:
    """A run config with the software versions, the Python command line and the given entries."""
    return {
        **entries,
        "versions": software_versions(),
        "command": sys.argv[:],
    }
