"""Wrap the PyInstaller bundle in a Debian package (``dpkg-deb --build -Zzstd``).

    python packaging/linux/build_deb.py dist/adversarial-workbench --out dist

Layout of the package:

- ``/opt/adversarial-workbench/`` — the bundle (``workbench`` and ``_internal/``);
- ``/usr/bin/adversarial-workbench`` — the launcher, a link to ``/opt/adversarial-workbench/workbench``
  (the window without arguments; the whole command line with them, e.g. ``--smoke``);
- ``/usr/share/applications/adversarial-workbench.desktop`` — the menu entry;
- ``/usr/share/icons/hicolor/{16…256}/apps/adversarial-workbench.png`` and ``scalable/…svg``;
- ``/usr/share/doc/adversarial-workbench/copyright``.

``Depends:`` comes from ``system_deps.py``: the system libraries the bundle needs but does not
carry. There are no maintainer scripts: the desktop database and the icon cache are updated
by the dpkg triggers of desktop-file-utils and hicolor-icon-theme.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from system_deps import depends  # noqa: E402

PACKAGE = "adversarial-workbench"
INSTALL_DIR = Path("opt") / PACKAGE
LAUNCHER = Path("usr") / "bin" / PACKAGE
DESKTOP_FILE = HERE / f"{PACKAGE}.desktop"
ICON_SVG = ROOT / "resources" / "icons" / f"{PACKAGE}.svg"
HICOLOR = ROOT / "packaging" / "icons" / "hicolor"
DESCRIPTION = """\
Attack and defend machine-learning models and watch it happen
 A desktop workbench in which analysts, teachers and students load a model and
 images, draw a constraint mask, run an adversarial attack (FGSM, PGD, Square,
 SimBA, NES, HopSkipJump, Boundary, transfer) and watch the perturbation, the
 confidence curves and the decision boundary evolve live. Works offline with
 the built-in models; the same engine runs from the command line
 (adversarial-workbench attack --help)."""


def version() -> str:
    text = (ROOT / "workbench" / "__init__.py").read_text()
    return re.search(r'^__version__ = "(.+?)"', text, re.MULTILINE).group(1)


def architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where possible (the bundle is gigabytes), copies otherwise."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def _normalize_modes(root: Path) -> None:
    """0755 for folders and executables, 0644 for everything else (Debian policy)."""
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        executable = path.is_dir() or os.stat(path).st_mode & 0o111
        os.chmod(path, 0o755 if executable else 0o644)


def _installed_size_kib(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) // 1024 + 1


def stage(bundle: Path, root: Path) -> list[str]:
    """Lay out the package's files under ``root``; returns the Depends entries."""
    if not (bundle / "workbench").is_file():
        raise SystemExit(f"build_deb: {bundle} is not a PyInstaller bundle (no 'workbench' in it)")
    entries, _packages, unresolved = depends(bundle)
    if unresolved:
        raise SystemExit("build_deb: no installed package provides these libraries of the bundle "
                         "(install them, or leave their users out in packaging/workbench.spec):\n  "
                         + "\n  ".join(unresolved))
    if root.exists():
        shutil.rmtree(root)
    _copy_tree(bundle, root / INSTALL_DIR)
    (root / LAUNCHER).parent.mkdir(parents=True)
    (root / LAUNCHER).symlink_to(Path("/") / INSTALL_DIR / "workbench")
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy2(DESKTOP_FILE, applications / DESKTOP_FILE.name)
    icons = root / "usr" / "share" / "icons" / "hicolor"
    for png in sorted(HICOLOR.glob(f"*/apps/{PACKAGE}.png")):
        target = icons / png.relative_to(HICOLOR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(ICON_SVG, icons / "scalable" / "apps" / ICON_SVG.name)
    doc = root / "usr" / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    shutil.copy2(HERE / "copyright", doc / "copyright")
    _normalize_modes(root)
    return entries


def control(root: Path, depends_entries: list[str]) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version()}\n"
        f"Architecture: {architecture()}\n"
        "Maintainer: Adversarial Workbench developers <maintainers@adversarial-workbench.invalid>\n"
        f"Installed-Size: {_installed_size_kib(root)}\n"
        f"Depends: {', '.join(depends_entries)}\n"
        "Section: science\n"
        "Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )


def build(bundle: Path, out: Path, work: Path) -> Path:
    root = work / "root"
    entries = stage(bundle, root)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(control(root, entries))
    os.chmod(root / "DEBIAN", 0o755)
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"{PACKAGE}_{version()}_{architecture()}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(deb)], check=True)
    shutil.rmtree(root)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the PyInstaller bundle folder (dist/adversarial-workbench)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the .deb (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "deb", help="scratch folder")
    args = parser.parse_args(argv)
    deb = build(args.bundle.resolve(), args.out.resolve(), args.work.resolve())
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
