"""Running the ``workbench`` command line as a subprocess, for the CLI tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A short attack on four sample images, for tests of options added to it.
ATTACK = ["attack", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "4",
          "--attack", "pgd", "--param", "steps=2"]


def workbench(
    *args: str, env: dict | None = None, cwd: Path | None = None, max_file_bytes: int | None = None
) -> subprocess.CompletedProcess:
    """Run ``workbench ARGS``; ``max_file_bytes`` caps the size of files it may write (writes
    beyond it fail with EFBIG), to provoke a failing write after the work is done."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        capture_output=True, text=True, timeout=600, env=environment, cwd=cwd or ROOT,
        preexec_fn=None if max_file_bytes is None else (lambda: _limit_file_size(max_file_bytes)),
    )


def _limit_file_size(limit: int) -> None:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write then fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def ok_json(*args: str) -> dict | list:
    completed = workbench(*args, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def one_error_line(completed: subprocess.CompletedProcess, code: int = 2) -> str:
    """The one ``workbench: error:`` line of a run that failed with ``code``, no traceback."""
    assert completed.returncode == code, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("workbench: error:"), completed.stderr
    return lines[0]
