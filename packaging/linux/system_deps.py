"""The Debian packages that a bundle needs from the system: its ``Depends:`` line.

Like ``dpkg-shlibdeps``: every ELF file of the bundle names the shared libraries it needs
(``NEEDED``); those the bundle does not carry itself must come from the system. Each is looked
up with ``ldconfig -p`` and ``dpkg -S`` on the build machine (so build on the oldest Debian or
Ubuntu release you support, with the Qt runtime libraries installed), and ``libc6`` gets the
newest glibc symbol version that any file asks for.

    python packaging/linux/system_deps.py dist/adversarial-workbench [--explain]

prints the Depends value (``--explain``: which library brought in each package) and fails
with a list of the libraries that no installed package provides.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

# Libraries that only optional parts load: the NVIDIA driver (a CUDA build uses the GPU when
# the driver is there and the CPU otherwise). They are not dependencies.
OPTIONAL_SONAMES = {"libcuda.so.1", "libnvidia-ml.so.1"}
# Not libraries, but needed: fonts for Qt to draw text with.
EXTRA_PACKAGES = ["fonts-dejavu-core | fonts-liberation2 | fonts-freefont-ttf"]

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+?)\]")
_GLIBC = re.compile(r"Name: GLIBC_(\d+(?:\.\d+)*)")
_BATCH = 200


def elf_files(bundle: Path) -> list[Path]:
    files = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    files.append(path)
    return files


def _readelf(option: str, files: list[Path]) -> dict[Path, str]:
    """``readelf <option>`` output per file (files are read in batches)."""
    out: dict[Path, str] = {}
    for start in range(0, len(files), _BATCH):
        batch = files[start : start + _BATCH]
        text = subprocess.run(["readelf", "-W", option, *map(str, batch)], capture_output=True,
                              text=True, check=False).stdout
        if len(batch) == 1:
            out[batch[0]] = text
            continue
        # with several files, each section of the output starts with "File: <path>"
        for chunk in re.split(r"^File: ", text, flags=re.MULTILINE)[1:]:
            name, _, body = chunk.partition("\n")
            out[Path(name.strip())] = body
    return out


def needed_from_system(bundle: Path) -> tuple[dict[str, set[str]], str | None]:
    """{soname: files needing it} for the libraries the bundle does not carry, and the newest
    GLIBC_x.y version any file needs."""
    files = elf_files(bundle)
    carried = {path.name for path in bundle.rglob("*")}
    wanted: dict[str, set[str]] = defaultdict(set)
    for path, text in _readelf("--dynamic", files).items():
        for soname in _NEEDED.findall(text):
            if soname not in carried:
                wanted[soname].add(str(path.relative_to(bundle)))
    versions = set()
    for text in _readelf("--version-info", files).values():
        versions.update(_GLIBC.findall(text))
    newest = max(versions, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)
    return dict(wanted), newest


def _library_paths() -> dict[str, list[str]]:
    """soname → paths known to the dynamic linker, for this machine's architecture."""
    import platform

    flag = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(platform.machine())
    text = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        soname, _, flags = name.partition(" ")
        if path and (flag is None or flag in flags):
            paths[soname].append(path)
    return paths


def _package_of(path: str) -> str | None:
    candidates = [path]
    resolved = str(Path(path).resolve())
    for variant in (path, resolved):  # merged /usr: dpkg may know /lib/… or /usr/lib/…
        if variant.startswith("/usr/lib/"):
            candidates.append(variant[len("/usr"):])
        elif variant.startswith("/lib/"):
            candidates.append("/usr" + variant)
        candidates.append(variant)
    for candidate in dict.fromkeys(candidates):
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(bundle: Path) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(Depends entries, package → sonames, sonames that no installed package provides)."""
    wanted, glibc = needed_from_system(bundle)
    paths = _library_paths()
    packages: dict[str, list[str]] = defaultdict(list)
    unresolved = []
    for soname in sorted(wanted):
        if soname in OPTIONAL_SONAMES:
            continue
        package = next((p for p in map(_package_of, paths.get(soname, [])) if p), None)
        if package is None:
            unresolved.append(f"{soname} (needed by {', '.join(sorted(wanted[soname])[:3])})")
        else:
            packages[package].append(soname)
    entries = []
    for package in sorted(packages):
        if package == "libc6" and glibc:
            entries.append(f"libc6 (>= {glibc})")
        else:
            entries.append(package)
    return entries + EXTRA_PACKAGES, dict(packages), unresolved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the PyInstaller bundle folder")
    parser.add_argument("--explain", action="store_true", help="show which libraries need each package")
    args = parser.parse_args(argv)
    entries, packages, unresolved = depends(args.bundle)
    if unresolved:
        print("system_deps: no installed package provides:\n  " + "\n  ".join(unresolved), file=sys.stderr)
        return 1
    if args.explain:
        for package, sonames in sorted(packages.items()):
            print(f"{package}: {', '.join(sonames)}")
    print(", ".join(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
