"""Running the ``workbench`` command line as a subprocess, for the CLI tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def workbench(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        capture_output=True, text=True, timeout=600, env=environment, cwd=cwd or ROOT,
    )


def ok_json(*args: str) -> dict | list:
    completed = workbench(*args, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
