"""``TemplateItem``: a mask template placed over the canvas image, to move, scale and stamp.

Templates are PNG files in ``resources/masks/`` (white = mask): an eyeglass frame (the
physical attack of Sharif et al., "Accessorize to a Crime", CCS 2016), the stop-sign stickers
of Eykholt et al. (CVPR 2018) and a square sticker (Brown et al., "Adversarial Patch", 2017).
Where an image's landmarks are known, the Evasion lab fits a template to them instead
(:mod:`workbench.gui.labs.evasion_templates`); this item is the placement by hand. The item shows the template as a translucent cyan
shape with a dashed frame; drag it to move it, turn the wheel over it or drag the corner
handle to scale it, and press Enter (or the toolbar's Apply) to stamp it into the mask.

:meth:`TemplateItem.stamp` returns the template drawn onto the display canvas, resized with
core's mask resampling (``workbench.core.masks.Bitmap``), so that it enters the mask like any
other shape and is rasterized to model resolution by core's rasterizer.

Run ``python -m workbench.gui.widgets.mask_template --write-resources`` to redraw the shipped
PNG templates (they are drawn by code, with OpenCV, and checked in).
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QStyleOptionGraphicsItem

from workbench.core.errors import DataLoadError, MaskError
from workbench.core.masks import Bitmap, load_mask_png
from workbench.core.images import read_image_array
from workbench.core.resources import resource_path
from workbench.gui import theme

BUILTIN_TEMPLATES = {
    "eyeglasses": "Eyeglass frame",
    "stop-stickers": "Stop-sign stickers",
    "sticker-square": "Square sticker",
}
# Default width of a placed template, as a fraction of the image width.
DEFAULT_WIDTH = {"eyeglasses": 0.8, "stop-stickers": 0.6, "sticker-square": 0.25}


def template_path(name: str) -> Path:
    """The PNG of a built-in template name, or ``name`` itself if it is a path to a file."""
    if name in BUILTIN_TEMPLATES:
        return resource_path("masks", f"{name}.png")
    path = Path(name)
    if path.suffix.lower() == ".png" or path.exists():
        return path
    raise MaskError(f"unknown mask template '{name}' (built-in: {', '.join(BUILTIN_TEMPLATES)}; or a PNG file)")


def load_template(name: str) -> np.ndarray:
    """A template as a bool array at its own size (white, or opaque, = mask), read by core's
    mask reader. Raises DataLoadError/MaskError with a readable message."""
    path = template_path(name)
    if not path.is_file():
        raise DataLoadError(f"{path}: the mask template file is missing")
    pixels = read_image_array(path, keep_alpha=True)
    size = tuple(int(v) for v in pixels.shape[:2])
    bitmap = load_mask_png(path, size)[0, 0].numpy() > 0
    if not bitmap.any():
        raise MaskError(f"{path}: the template has no white (mask) pixels")
    return bitmap


def _tint(bitmap: np.ndarray, rgb: tuple[int, int, int], alpha: int) -> QImage:
    h, w = bitmap.shape
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = bitmap.astype(np.uint8) * alpha
    rgba = np.ascontiguousarray(rgba)
    return QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888).copy()


class TemplateItem(QGraphicsPixmapItem):
    """A movable, scalable template over the canvas image (scene units = display pixels)."""

    def __init__(self, name: str, bitmap: np.ndarray) -> None:
        super().__init__()
        self.name = name
        self.bitmap = np.asarray(bitmap, dtype=bool)
        self.setPixmap(QPixmap.fromImage(_tint(self.bitmap, theme.TEMPLATE_RGB, 160)))
        self.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setAcceptHoverEvents(True)
        self.setZValue(20)
        self.setCursor(QCursor(Qt.CursorShape.SizeAllCursor))
        self._resizing = False
        self._press_scene = QPointF()
        self._press_scale = 1.0

    # -- geometry ----------------------------------------------------------------------------------
    def place(self, center: QPointF, width: float) -> None:
        """Put the template's centre at ``center`` with a width of ``width`` scene units."""
        self.setScale(max(width, 2.0) / self.bitmap.shape[1])
        self.move_center_to(center)

    def scene_rect(self) -> QRectF:
        """Where the template lies on the display canvas."""
        return self.mapRectToScene(QRectF(0, 0, self.bitmap.shape[1], self.bitmap.shape[0]))

    def move_center_to(self, center: QPointF) -> None:
        rect = self.scene_rect()
        self.setPos(self.pos() + (center - rect.center()))

    def scale_about_center(self, factor: float) -> None:
        """Scale by ``factor`` keeping the centre in place (at least 2 scene units wide)."""
        center = self.scene_rect().center()
        minimum = 2.0 / self.bitmap.shape[1]
        self.setScale(max(minimum, self.scale() * factor))
        self.move_center_to(center)

    def stamp(self, display_size: tuple[int, int]) -> np.ndarray:
        """The template on a display canvas of ``display_size`` = (width, height): a bool
        array H×W, clipped to the canvas (resized by core's mask resampling)."""
        width, height = display_size
        rect = self.scene_rect()
        x0, y0 = int(round(rect.left())), int(round(rect.top()))
        tw, th = max(1, int(round(rect.width()))), max(1, int(round(rect.height())))
        scaled = Bitmap(self.bitmap).draw((tw, th))
        canvas = np.zeros((height, width), dtype=bool)
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + tw, width), min(y0 + th, height)
        if cx0 < cx1 and cy0 < cy1:
            canvas[cy0:cy1, cx0:cx1] = scaled[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        return canvas

    # -- painting ----------------------------------------------------------------------------------
    def _handle_rect(self) -> QRectF:
        h, w = self.bitmap.shape
        # About 14 screen pixels whatever the zoom and the template's scale.
        view_scale = 1.0
        if self.scene() is not None and self.scene().views():
            view_scale = self.scene().views()[0].transform().m11()
        side = 14.0 / max(view_scale * self.scale(), 1e-6)
        return QRectF(w - side, h - side, side, side)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        super().paint(painter, option, widget)
        h, w = self.bitmap.shape
        pen = QPen(QColor(*theme.TEMPLATE_RGB), 0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        pen.setWidthF(theme.style().line_width * 0.75)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0, 0, w, h))
        handle = self._handle_rect()
        painter.setPen(QPen(QColor("#ffffff"), 0))
        painter.setBrush(QColor(*theme.TEMPLATE_RGB))
        painter.drawRect(handle)

    # -- interaction ------------------------------------------------------------------------------
    def hoverMoveEvent(self, event) -> None:  # noqa: N802
        on_handle = self._handle_rect().contains(event.pos())
        self.setCursor(QCursor(Qt.CursorShape.SizeFDiagCursor if on_handle else Qt.CursorShape.SizeAllCursor))
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._handle_rect().contains(event.pos()):
            self._resizing = True
            self._press_scene = event.scenePos()
            self._press_scale = self.scale()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._resizing:
            top_left = self.scene_rect().topLeft()
            h, w = self.bitmap.shape
            offset = event.scenePos() - top_left
            factor = max(offset.x() / w, offset.y() / h, 2.0 / w)
            self.setScale(factor)
            self.setPos(self.pos() + (top_left - self.scene_rect().topLeft()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._resizing:
            self._resizing = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.delta() / 120.0
        self.scale_about_center(1.1**steps)
        event.accept()


# -- the shipped PNG templates ------------------------------------------------------------------------

def draw_eyeglasses() -> np.ndarray:
    """An eyeglass frame, 320×120, white on black: two rims, a bridge and the temples' ends."""
    image = np.zeros((120, 320), np.uint8)
    for cx in (90, 230):
        cv2.ellipse(image, (cx, 64), (52, 40), 0, 0, 360, 255, thickness=20, lineType=cv2.LINE_AA)
    cv2.ellipse(image, (160, 62), (20, 14), 0, 180, 360, 255, thickness=10, lineType=cv2.LINE_AA)
    cv2.line(image, (34, 50), (3, 40), 255, thickness=10, lineType=cv2.LINE_AA)
    cv2.line(image, (286, 50), (317, 40), 255, thickness=10, lineType=cv2.LINE_AA)
    return np.where(image >= 128, 255, 0).astype(np.uint8)


def draw_sticker_square() -> np.ndarray:
    """A filled square sticker, 64×64 white."""
    return np.full((64, 64), 255, np.uint8)


def write_resources(folder: Path | None = None) -> list[Path]:
    folder = folder or resource_path("masks")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in (("eyeglasses", draw_eyeglasses()), ("sticker-square", draw_sticker_square())):
        path = folder / f"{name}.png"
        if not cv2.imwrite(str(path), image):
            raise OSError(f"cannot write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    if "--write-resources" in sys.argv:
        for written_path in write_resources():
            print("wrote", written_path)
    else:
        print("usage: python -m workbench.gui.widgets.mask_template --write-resources")
