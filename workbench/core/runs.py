"""Run records (ARCHITECTURE.md, contract 6).

A run is its config (algorithm id, parameters, model id and weight hash, data ids, seed,
software versions), its metrics and its artifacts. :func:`write_run` writes them into a run
folder atomically: everything goes into a hidden temporary folder that is renamed into place
at the end, so a run folder is either complete or absent.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from workbench.core.errors import WorkbenchError
from workbench.core.files import write_bytes_atomic, write_json_atomic

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


def check_run_parent(parent: str | Path, option: str = "--out") -> Path:
    """Check, before any work, that run folders can be written under ``parent``: it is a
    folder (or can be created as one) and a folder can be made in it. Creates nothing that
    stays; raises :class:`WorkbenchError` naming ``option`` and the reason otherwise."""
    parent = Path(parent)
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == parent else f"cannot be created: {existing} is a file"
        raise WorkbenchError(f"{option} {parent} {what}, not a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".workbench-check.", dir=existing)).rmdir()
    except OSError as error:
        where = "" if existing == parent else f" (in {existing})"
        raise WorkbenchError(f"{option} {parent} is not writable{where}: {error.strerror or error}") from None
    return parent


def artifact_names(names: list[str], suffix: str = ".png") -> list[str]:
    """File names for artifacts named after their sources: the source's relative name without
    its extension, folders joined by ``_`` and characters other than letters, digits, ``.``,
    ``-`` and ``_`` replaced by ``_`` (``Coat/3.png`` → ``Coat_3.png``, ``t10k.idx#5`` →
    ``t10k.idx_5.png``); a name already taken gets ``-2``, ``-3``, … (compared ignoring case)."""
    taken: set[str] = set()
    result = []
    for name in names:
        stem = re.sub(r"\.(png|jpe?g|bmp|tiff?|webp)$", "", name, flags=re.IGNORECASE)
        stem = re.sub(r"[^\w.-]+", "_", stem.replace("\\", "/").replace("/", "_")).strip("._") or "image"
        candidate, count = stem, 1
        while candidate.lower() in taken:
            count += 1
            candidate = f"{stem}-{count}"
        taken.add(candidate.lower())
        result.append(candidate + suffix)
    return result


def csv_writer(rows: list[Mapping[str, Any]]) -> Callable[[Path], None]:
    """An artifact writer that writes ``rows`` (dicts with the same keys) as a UTF-8 CSV file."""
    def write(path: Path) -> None:
        text = io.StringIO()
        if rows:
            writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        write_bytes_atomic(path, text.getvalue().encode("utf-8"))

    return write


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
