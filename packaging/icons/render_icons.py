"""Render the application icon (``resources/icons/adversarial-workbench.svg``) into the PNG
sizes of the freedesktop hicolor theme, ``packaging/icons/hicolor/NxN/apps/*.png``, and into a
Windows icon with all those sizes, ``packaging/icons/adversarial-workbench.ico``.

They are checked in (the Debian package installs the PNGs, the Windows executables and
installer take the ``.ico``, PyInstaller turns the 256 px PNG into the macOS ``.icns``); run
this again after editing the SVG:
``QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons/render_icons.py``.
"""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "resources" / "icons" / "adversarial-workbench.svg"
HICOLOR = Path(__file__).resolve().parent / "hicolor"
ICO = Path(__file__).resolve().parent / "adversarial-workbench.ico"
SIZES = (16, 24, 32, 48, 64, 128, 256)
NAME = "adversarial-workbench"


def png_path(size: int) -> Path:
    return HICOLOR / f"{size}x{size}" / "apps" / f"{NAME}.png"


def render(size: int, renderer) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    path = png_path(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")


def write_ico(path: Path, sizes: tuple[int, ...]) -> None:
    """An ICO file whose images are the rendered PNGs (PNG entries: Windows Vista and later)."""
    images = [png_path(size).read_bytes() for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, data in zip(sizes, images):
        side = size % 256  # 0 stands for 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    path.write_bytes(header + entries + b"".join(images))
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - painting needs the application
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not a valid SVG")
    for size in SIZES:
        render(size, renderer)
    write_ico(ICO, SIZES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
