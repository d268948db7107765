"""``MaskLayers``: the graphics items that show the image, the mask and the tool feedback on the canvas.

From bottom to top: the image and the model-resolution mask as a translucent magenta overlay
(both enlarged ``k`` times, nearest neighbour), the inner edge of the shape as drawn at display
resolution (a thin magenta outline), the preview of the edit in progress (a dashed cyan
outline, from a tool's :class:`~workbench.core.mask_tools.Outline`) and the brush's outline
under the mouse. Colours and widths follow the theme (:meth:`MaskLayers.restyle`).
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsScene

from workbench.core.mask_tools import Outline
from workbench.core.masks import Ellipse
from workbench.gui import theme
from workbench.gui.widgets.image_triptych import numpy_to_qimage


class MaskLayers:
    """The canvas's items in ``scene`` (see the module docstring)."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self._image = QGraphicsPixmapItem()
        self._mask = QGraphicsPixmapItem()
        self._edges = QGraphicsPixmapItem()
        for z, item in enumerate((self._image, self._mask, self._edges)):
            item.setTransformationMode(Qt.TransformationMode.FastTransformation)
            item.setZValue(z)
            scene.addItem(item)
        self._preview = QGraphicsPathItem()
        self._preview.setZValue(10)
        scene.addItem(self._preview)
        self._brush = QGraphicsEllipseItem()
        self._brush.setZValue(30)
        self._brush.setVisible(False)
        scene.addItem(self._brush)
        self._drawn: np.ndarray | None = None
        self._model: np.ndarray | None = None

    def set_image(self, pixels: np.ndarray, k: int) -> None:
        """Show ``pixels`` (uint8 H×W or H×W×3, model resolution) ``k`` times larger."""
        self._image.setPixmap(QPixmap.fromImage(numpy_to_qimage(pixels)))
        for item in (self._image, self._mask):
            item.setScale(k)

    def show_mask(self, drawn: np.ndarray, model: np.ndarray) -> None:
        """Show the mask: ``model`` (H×W bool, model resolution) as the overlay and the inner
        edge of ``drawn`` (bool, display resolution) as the outline."""
        self._drawn, self._model = drawn, model
        s = theme.style()
        h, w = model.shape
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[..., :3] = theme.MASK_RGB
        rgba[..., 3] = model.astype(np.uint8) * s.mask_alpha
        self._mask.setPixmap(QPixmap.fromImage(rgba_image(rgba)))
        size = 5 if s.presentation else 3
        # The inner edge of the drawn shape, 1 (2 in presentation mode) display pixels wide.
        gradient = cv2.morphologyEx(drawn.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((size, size), np.uint8))
        outline = np.zeros((*drawn.shape, 4), np.uint8)
        outline[(gradient > 0) & drawn] = (*[int(c * 0.6) for c in theme.MASK_RGB], 255)
        self._edges.setPixmap(QPixmap.fromImage(rgba_image(outline)))

    def show_outline(self, outline: Outline | None) -> None:
        """Preview an edit in progress (None: no preview)."""
        path = QPainterPath()
        if outline is not None and outline.shape is not None:
            s = outline.shape
            r = QRectF(s.x, s.y, s.width, s.height).normalized()
            if isinstance(s, Ellipse):
                path.addEllipse(r)
            else:
                path.addRect(r)
        elif outline is not None and outline.points:
            path.moveTo(QPointF(*outline.points[0]))
            for p in outline.points[1:]:
                path.lineTo(QPointF(*p))
        if outline is not None and outline.marker is not None:
            path.addEllipse(QPointF(*outline.marker), outline.marker_radius, outline.marker_radius)
        self._preview.setPath(path)

    def show_brush(self, centre: QPointF | None, radius: float) -> None:
        """Show the brush's outline of ``radius`` around ``centre`` (None: hide it)."""
        self._brush.setVisible(centre is not None)
        if centre is not None:
            self._brush.setRect(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))

    def restyle(self) -> None:
        """Apply the theme's colours and widths (and redraw the mask's overlays)."""
        s = theme.style()
        pen = QPen(QColor("#00e5ff"), s.line_width * 0.75, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._preview.setPen(pen)
        self._preview.setBrush(QBrush(QColor(*theme.MASK_RGB, 60)))
        cursor_pen = QPen(QColor("#ffffff"), max(1.0, s.line_width * 0.5))
        cursor_pen.setCosmetic(True)
        self._brush.setPen(cursor_pen)
        if self._drawn is not None:
            self.show_mask(self._drawn, self._model)


def rgba_image(rgba: np.ndarray) -> QImage:
    """A QImage copy of an H×W×4 uint8 RGBA array."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888).copy()
