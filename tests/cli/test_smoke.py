"""`workbench --smoke`, the self-test every installer build runs, as a user's shell runs it:
in a subprocess, without a display (it falls back to Qt's offscreen platform)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display fallback is for X11/Wayland")


def run_workbench(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(OMP_NUM_THREADS="1", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)


def test_smoke_opens_the_window_attacks_and_reports_one_line(tmp_path):
    done = run_workbench(["-m", "workbench.cli", "--smoke"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith("smoke ok: fashion-cnn, pgd, 5/5 images fooled in ")
    assert "torchvision " in lines[0] and "window shown " in lines[0]
    assert not list((tmp_path / "config").rglob("*.conf")), "the smoke wrote the user's settings"


def test_smoke_failure_is_one_line_and_non_zero(tmp_path):
    missing = tmp_path / "no-such-images"
    done = run_workbench(["-m", "workbench.gui.app", "--smoke", "--data", str(missing)], tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip().splitlines() == [done.stdout.strip()]
    assert done.stdout.startswith("smoke failed: ") and str(missing) in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_smoke_takes_no_subcommand(tmp_path):
    done = run_workbench(["-m", "workbench.cli", "--smoke", "models"], tmp_path)
    assert done.returncode == 2 and "takes no subcommand" in done.stderr
