"""``workbench defend`` and ``workbench monitor`` as a subprocess (their help, bad input: exit 2
and one line), and the progress printer: plain lines when stderr is not a terminal, a bar with
rate on a terminal, nothing under ``--quiet``. That their ``--json`` equals what the pages show
is tests/gui/test_cli_matches_pages.py."""
from __future__ import annotations

import io
import json

import pytest
from cli_run import one_error_line, workbench

from workbench.cli.progress import ProgressPrinter, plain_line
from workbench.core.events import ProgressReport

TINY_DEFEND = ["defend", "--model", "fashion-cnn", "--device", "cpu", "--data", "samples:fashion-mnist", "--limit", "4",
               "--defense", "bit-depth:bits=2", "--param", "steps=3", "--square-queries", "20"]
TINY_BENIGN = ["monitor", "--model", "fashion-cnn", "--device", "cpu", "--calibration", "60", "--benign", "5"]


@pytest.mark.parametrize("command, option", [("defend", "--square-queries"), ("monitor", "--benign")])
def test_help(command, option):
    completed = workbench(command, "--help")
    assert completed.returncode == 0, completed.stderr
    assert option in completed.stdout and "--json" in completed.stdout and "--quiet" in completed.stdout


@pytest.mark.parametrize("arguments, named", [
    (["defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--defense", "moat"], "moat"),
    (["defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--defense", "bits=2"], "--defense"),
    (["defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--defense", "bit-depth:bits=99"], "bits"),
    (["defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--defense", "jpeg", "--attack", "square"],
     "--attack"),
    (["defend", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--defense", "jpeg", "--eot", "0"], "--eot"),
    (["monitor", "--model", "fashion-cnn", "--attack", "pgd", "--data", "samples:fashion-mnist"], "--attack"),
    (["monitor", "--model", "fashion-cnn"], "--data"),
    (["monitor", "--model", "fashion-cnn", "--benign", "5", "--calibration", "10"], "--calibration"),
    (["monitor", "--model", "fashion-cnn", "--benign", "5", "--monitor-param", "k=0"], "k"),
    (["monitor", "--model", "fashion-cnn", "--data", "samples:fashion-mnist", "--limit", "2", "--index", "7"], "--index"),
])
def test_bad_input_is_one_line_and_exit_2(arguments, named):
    assert named in one_error_line(workbench(*arguments))


def test_defend_prints_plain_progress_lines_when_stderr_is_not_a_terminal():
    completed = workbench(*TINY_DEFEND, "--json")
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert list(summary["stages"]) == ["reference", "naive", "adaptive", "black-box"]
    assert summary["stages"]["reference"]["name"] == "undefended" and summary["adaptive"] == "BPDA"
    lines = completed.stderr.splitlines()
    assert "\r" not in completed.stderr and "it/s" not in completed.stderr
    assert any(line.startswith("naive batch 1/1: step 3/3") for line in lines), completed.stderr
    assert any(line.startswith("black-box batch 1/1: step") and "queries" in line for line in lines)
    assert any(line.startswith("adaptive: clean") for line in lines)


def test_quiet_prints_nothing_on_stderr():
    for arguments in (TINY_BENIGN, [*TINY_DEFEND, "--square-queries", "0"]):
        completed = workbench("--quiet", *arguments, "--json")
        assert completed.returncode == 0, completed.stderr
        assert completed.stderr == ""
        json.loads(completed.stdout)
    completed = workbench(*TINY_BENIGN, "-q")  # after the command too
    assert completed.returncode == 0 and completed.stderr == ""
    assert "False-positive rate on 5 benign queries" in completed.stdout


def test_monitor_without_quiet_reports_the_queries():
    completed = workbench(*TINY_BENIGN, "--json")
    assert completed.returncode == 0, completed.stderr
    assert "monitor: 5 queries" in completed.stderr
    assert json.loads(completed.stdout)["queries"] == 5


def test_printer_draws_a_bar_with_rate_and_time_left_on_a_terminal():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True)
    for done in range(1, 11):
        printer.show(ProgressReport(done, 10, "step", label="batch 1/1", detail=f"success {done}/10"))
    printer.note("a note")
    printer.show(ProgressReport(10, 10, "step", label="batch 1/1", detail="success 10/10", milestone=True))
    printer.close()
    text = stream.getvalue()
    assert "batch 1/1" in text and "10/10" in text and "step/s" in text and "<" in text  # rate, time left
    assert "a note" in text


def test_printer_plain_lines_are_throttled_but_keep_milestones_and_the_last():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=False, interval=3600)
    for done in range(1, 6):
        printer.show(ProgressReport(done, 0, "queries", label="monitor"))
    printer.show(ProgressReport(1, 1, "step", label="stage", detail="done", milestone=True))
    printer.show(ProgressReport(7, 0, "queries", label="monitor"))
    printer.show(ProgressReport(8, 0, "queries", label="monitor"))
    printer.close()
    assert stream.getvalue().splitlines() == ["monitor: 1 queries", "stage: step 1/1  done", "monitor: 7 queries",
                                              "monitor: 8 queries"]
    assert plain_line(ProgressReport(0, 0, "stage", label="naive", detail="robust 1 %")) == "naive: robust 1 %"
    quiet = io.StringIO()
    silent = ProgressPrinter(quiet, quiet=True, tty=True)
    silent.show(ProgressReport(1, 2))
    silent.note("hidden")
    silent.close()
    assert quiet.getvalue() == ""
