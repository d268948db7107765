"""The import rules of ARCHITECTURE.md hold: the import-linter contracts in pyproject.toml
(layers for the engine and inside the GUI, Qt only in the GUI, no cycles between sibling
packages) and no import cycle between any two modules of ``workbench``."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    completed = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in completed.stdout


def test_layer_contracts_cover_new_packages_without_edits():
    """Every top-level package and GUI module must sit in a layer (``exhaustive``); the planned
    algorithm packages are declared already, as optional layer members."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = {c["containers"][0]: c for c in contracts if c["type"] == "layers"}
    assert set(layers) == {"workbench", "workbench.gui"}
    assert all(c.get("exhaustive") for c in layers.values())
    engine = " ".join(layers["workbench"]["layers"])
    assert "(privacy)" in engine and "(poisoning)" in engine


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[tuple[str, ...]]:
    """One shortest cycle through each direct import ``a → b`` that closes back to ``a``,
    among the modules of ``package`` (each cycle reported once)."""
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    cycles: dict[frozenset, tuple[str, ...]] = {}
    for importer in sorted(modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & modules):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycle = (importer, *back)
                cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


def test_no_import_cycles_inside_workbench():
    cycles = import_cycles(grimp.build_graph("workbench", cache_dir=None), "workbench")
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for importer, imported in [("p.app", "p.window"), ("p.window", "p.lab"), ("p.lab", "p.app"),
                               ("p.lab", "p.util"), ("p.a", "p.b"), ("p.b", "p.a")]:
        graph.add_import(importer=importer, imported=imported)
    found = {frozenset(c) for c in import_cycles(graph, "p")}
    assert found == {frozenset({"p.app", "p.window", "p.lab"}), frozenset({"p.a", "p.b"})}
