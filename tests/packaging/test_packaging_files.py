"""The installer files that `make package` uses: the desktop entry, the icon set, and the
computation of the .deb's Depends line (the bundle itself is built by `make package` only)."""
from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
NAME = "adversarial-workbench"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def desktop_entry() -> dict[str, str]:
    lines = (PACKAGING / "linux" / f"{NAME}.desktop").read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_desktop_entry_starts_the_launcher_with_the_icon():
    entry = desktop_entry()
    assert entry["Type"] == "Application" and entry["Name"] == "Adversarial Workbench"
    assert entry["Exec"].split()[0] == NAME == entry["Icon"]
    assert entry["Terminal"] == "false"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_validates():
    done = subprocess.run(["desktop-file-validate", str(PACKAGING / "linux" / f"{NAME}.desktop")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_icon_set_has_every_size_in_png_and_ico():
    for size in SIZES:
        png = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"
        assert png_size(png.read_bytes()) == (size, size), png
    ico = (PACKAGING / "icons" / f"{NAME}.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(SIZES))
    for i, size in enumerate(SIZES):
        width, height, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i])
        assert (width or 256, height or 256) == (size, size)
        assert png_size(ico[offset : offset + length]) == (size, size)
    assert (ROOT / "resources" / "icons" / f"{NAME}.svg").is_file()


@pytest.mark.skipif(not (shutil.which("readelf") and shutil.which("dpkg") and shutil.which("ldconfig")),
                    reason="needs readelf, dpkg and ldconfig (Debian/Ubuntu)")
def test_depends_lists_the_system_libraries_that_the_bundle_does_not_carry(tmp_path):
    system_deps = load_script(PACKAGING / "linux" / "system_deps.py")
    program = Path(shutil.which("ls")).resolve()  # NEEDED: libselinux.so.1, libc.so.6
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copy2(program, bundle / "workbench")

    entries, packages, unresolved = system_deps.depends(bundle)
    assert unresolved == []
    assert packages["libselinux1"] == ["libselinux.so.1"]
    libc = next(entry for entry in entries if entry.startswith("libc6"))
    assert libc.startswith("libc6 (>= 2.") and libc.endswith(")")

    # a library that the bundle carries is no dependency
    selinux = Path(system_deps._library_paths()["libselinux.so.1"][0])
    shutil.copy2(selinux, bundle / "_internal" / "libselinux.so.1")
    entries, packages, unresolved = system_deps.depends(bundle)
    assert "libselinux1" not in packages and "libselinux1" not in entries and unresolved == []
    assert any(entry.startswith("fonts-dejavu-core") for entry in entries)


def test_missing_system_library_is_reported(tmp_path, monkeypatch):
    system_deps = load_script(PACKAGING / "linux" / "system_deps.py")
    monkeypatch.setattr(system_deps, "needed_from_system",
                        lambda bundle: ({"libnowhere.so.7": {"_internal/plugin.so"}}, None))
    monkeypatch.setattr(system_deps, "_library_paths", lambda: {})
    entries, packages, unresolved = system_deps.depends(tmp_path)
    assert unresolved == ["libnowhere.so.7 (needed by _internal/plugin.so)"]
    assert system_deps.main([str(tmp_path)]) == 1


def run_spec() -> dict:
    """Execute packaging/workbench.spec with PyInstaller's build steps replaced by recorders."""
    pytest.importorskip("PyInstaller", reason="PyInstaller comes with the `package` extra")
    from types import SimpleNamespace

    def analysis(scripts, binaries=(), datas=(), **options):
        return SimpleNamespace(scripts=scripts, pure=[], options=options,
                               binaries=[(f"{dest}/{Path(src).name}", src, "BINARY") for src, dest in binaries],
                               datas=[(f"{dest}/{Path(src).name}", src, "DATA") for src, dest in datas])

    namespace = {"SPECPATH": str(PACKAGING), "Analysis": analysis, "PYZ": lambda *a, **k: None,
                 "EXE": lambda *a, **k: SimpleNamespace(args=a, **k), "COLLECT": lambda *a, **k: a,
                 "BUNDLE": lambda *a, **k: None}
    spec = PACKAGING / "workbench.spec"
    exec(compile(spec.read_text(), str(spec), "exec"), namespace)  # noqa: S102 - our own build file
    return namespace


def test_spec_handles_the_known_bundle_traps():
    spec = run_spec()
    collected = {dest for dest, _src, _kind in spec["a"].binaries}
    assert {"torchvision/_C_stable.so", "torchvision/image_stable.so"} <= collected
    assert "workbench/resources" in {dest.rsplit("/", 1)[0] for dest, _s, _k in spec["a"].datas}
    assert "workbench.gui.smoke" in spec["a"].options["hiddenimports"]
    assert {"triton", "tensorboard", "PySide6.QtQml", "PySide6.QtPdf"} <= set(spec["a"].options["excludes"])

    kept, dropped = [
        ("torch/bin/torch_shm_manager", "/venv/torch/bin/torch_shm_manager", "DATA"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/venv/PySide6/Qt/plugins/platforms/libqxcb.so", "BINARY"),
        ("libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "BINARY"),
        ("python3.11/lib-dynload/_ssl.so", "/usr/lib/python3.11/lib-dynload/_ssl.so", "EXTENSION"),
    ], [
        ("torch/bin/protoc", "/venv/torch/bin/protoc", "DATA"),
        ("torch/lib/libtorchbind_test.so", "/venv/torch/lib/libtorchbind_test.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Qml.so.6", "/venv/PySide6/Qt/lib/libQt6Qml.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", "/venv/PySide6/Qt/lib/libQt6Pdf.so.6", "BINARY"),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "/venv/x.so", "BINARY"),
        ("triton/_C/libtriton.so", "/venv/triton/_C/libtriton.so", "BINARY"),
    ]
    system = [("libX11.so.6", "/usr/lib/x86_64-linux-gnu/libX11.so.6", "BINARY")]
    result = spec["without_excluded"](kept + dropped + system)
    expected = kept if sys.platform.startswith("linux") else kept + system
    assert result == expected
