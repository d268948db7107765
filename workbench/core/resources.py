"""The one way to find shipped resources (models, samples, masks, icons).

In a wheel, ``resources/`` is installed inside the package as ``workbench/resources``; in a
source checkout (and an editable install) it is the ``resources/`` folder beside the package.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def resources_root() -> Path:
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "resources", package.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the workbench's resources folder is missing (looked beside {package})")


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("models", "fashion-cnn.json")``."""
    return resources_root().joinpath(*parts)
