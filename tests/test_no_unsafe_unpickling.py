"""No code in ``workbench`` reaches a full unpickler outside the trusted path (ARCHITECTURE.md,
contract 7): the source is parsed, and every use of ``pickle.load``/``loads``/``Unpickler`` (under
any alias), of ``torch.load`` without a literal ``weights_only=True`` and of ``torch.export.load``
is reported unless it sits in a function of :data:`TRUSTED_PATH`."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The trusted path: the only functions that may use a full unpickler. Each is reached only when
# the user has trusted the file (trust_pickle=True: --trust-pickle, "Trust this file" in the GUI).
TRUSTED_PATH = {
    ("workbench/core/safe_pickle.py", "unpickle_trusted"),  # torch.save files and plain pickles
    ("workbench/core/export_archive.py", "_load_trusted"),  # torch.export.load on a .pt2 archive
}
FULL_UNPICKLERS = {
    f"{module}.{name}" for module in ("pickle", "_pickle") for name in ("load", "loads", "Unpickler")
} | {"torch.export.load"}
TORCH_LOADS = {"torch.load", "torch.serialization.load"}


class _Finder(ast.NodeVisitor):
    """Collects ``(line, what)`` for each unguarded use of a full unpickler in one module."""

    def __init__(self, aliases: dict[str, str], trusted: set[str]) -> None:
        self.aliases = aliases
        self.trusted = trusted
        self.functions: list[str] = []
        self.weights_only: set[int] = set()  # ids of torch.load nodes called with weights_only=True
        self.found: list[tuple[int, str]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in node.keywords):
            self.weights_only.add(id(node.func))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._check(node)

    def _check(self, node: ast.Attribute | ast.Name) -> None:
        name = self._dotted(node)
        unsafe = name in FULL_UNPICKLERS or (name in TORCH_LOADS and id(node) not in self.weights_only)
        if unsafe and not (self.functions and self.functions[-1] in self.trusted):
            self.found.append((node.lineno, name))

    def _dotted(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to, with import aliases resolved."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


def unsafe_uses(source: str, module_path: str) -> list[tuple[int, str]]:
    """``(line, name)`` of every use of a full unpickler in ``source`` (the file at
    ``module_path``, relative to the repository) outside :data:`TRUSTED_PATH`."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:  # "import a.b" binds a; "import a.b as c" binds c to a.b
                top = alias.name.split(".")[0]
                aliases[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    finder = _Finder(aliases, {name for path, name in TRUSTED_PATH if path == module_path})
    finder.visit(tree)
    return finder.found


def test_no_module_of_the_workbench_unpickles_outside_the_trusted_path():
    found = []
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        uses = unsafe_uses(path.read_text(encoding="utf-8"), relative)
        found += [f"{relative}:{line}: {name}" for line, name in uses]
    assert found == [], "full unpickler outside the trusted path:\n" + "\n".join(found)


def test_the_trusted_path_exists_and_is_the_only_exception():
    """The allow-list names real functions, each of which does use a full unpickler."""
    for relative, function in TRUSTED_PATH:
        tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
        (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
        renamed = ast.unparse(node).replace(f"def {function}(", "def elsewhere(", 1)
        imports = "import pickle\nimport torch\n"
        assert unsafe_uses(imports + renamed, relative), f"{relative}:{function} uses no full unpickler"


UNSAFE = [
    "import torch\ndef f(p):\n    return torch.load(p)\n",
    "import torch\ntorch.load(p, weights_only=False)\n",
    "import torch\ntorch.load(p, weights_only=trusted)\n",
    "import torch as t\nt.export.load(p)\n",
    "from torch import load\nload(p)\n",
    "from torch.export import load as read\nread(p)\n",
    "import pickle\npickle.loads(data)\n",
    "import pickle as p\nclass U(p.Unpickler):\n    pass\n",
    "from pickle import loads as l\nl(data)\n",
    "import _pickle\n_pickle.load(f)\n",
    "import torch\nreader = torch.load\n",
    "from workbench.core import x\nimport torch\ndef unpickle_trusted(p):\n    return torch.load(p)\n",
]
SAFE = [
    "import torch\ntorch.load(p, map_location='cpu', weights_only=True)\n",
    "import json\njson.load(f)\n",
    "import torch\ntorch.jit.load(f)\n",
    "def load(p):\n    return p\nload(1)\n",
]


@pytest.mark.parametrize("source", UNSAFE)
def test_the_scan_flags_each_way_of_reaching_a_full_unpickler(source):
    assert len(unsafe_uses(source, "workbench/somewhere.py")) == 1


@pytest.mark.parametrize("source", SAFE)
def test_the_scan_passes_weights_only_and_unrelated_loads(source):
    assert unsafe_uses(source, "workbench/somewhere.py") == []


def test_the_trusted_function_name_is_allowed_only_in_its_own_file():
    source = "import torch\ndef unpickle_trusted(p):\n    return torch.load(p)\n"
    assert unsafe_uses(source, "workbench/core/safe_pickle.py") == []
    assert len(unsafe_uses(source, "workbench/core/loaders.py")) == 1
