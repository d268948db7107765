"""``MaskCanvas``: the image, enlarged, with tools to draw the attack's mask on it.

The image is shown at *display resolution*: enlarged an integer number of times by nearest
neighbour (28×28 → 448×448) so that its pixels are visible. Masks are drawn there, as the
vector shapes of :mod:`workbench.core.masks` (rectangles, ellipses, polygons, brush strokes,
eraser strokes, placed templates); the mask the attack gets, at model resolution, comes from
core's one rasterizer (:func:`workbench.core.masks.rasterize`).

What you see: the model-resolution mask as a translucent magenta overlay (exactly the pixels
the attacker may change) and, as a thin magenta outline, the shape you drew at display
resolution. A model pixel is in the mask when at least half of it is covered.

Mouse and keys:

* left button: use the tool — brush/eraser: paint; rectangle/ellipse: drag (Shift: square or
  circle); polygon: click the corners, double-click, Enter or a click on the first corner to
  close, Backspace to remove the last corner, Esc to cancel; template: drag to move, drag the
  corner handle or turn the wheel over it to scale, Enter to stamp, Esc to cancel;
* wheel: zoom (under the mouse); middle or right button drag, or Space + drag: pan;
  0: fit the image to the view;
* Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y): undo / redo; B, E, R, O, P: tools; [ and ]: brush size.

Every completed edit emits :attr:`MaskCanvas.maskChanged`; :meth:`set_image` and
:meth:`set_mask` (the application restoring stored state) do not. The undo history is a list of
immutable core ``Mask`` values.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QKeySequence, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from workbench.core.errors import DataLoadError, MaskError, WorkbenchError
from workbench.core.masks import Bitmap, Ellipse, Mask, Polygon, Rect, Stroke, load_mask_png, rasterize, save_mask_png
from workbench.gui import theme
from workbench.gui.widgets.image_triptych import numpy_to_qimage
from workbench.gui.widgets.mask_template import BUILTIN_TEMPLATES, DEFAULT_WIDTH, TemplateItem, load_template

TOOLS = ("brush", "eraser", "rectangle", "ellipse", "polygon", "template")
MAX_HISTORY = 200
_TOOL_HINTS = {
    "brush": "Brush: drag to paint  ·  [ ] size  ·  wheel zoom, right-drag pan",
    "eraser": "Eraser: drag to erase  ·  [ ] size",
    "rectangle": "Rectangle: drag  ·  Shift: square",
    "ellipse": "Ellipse: drag  ·  Shift: circle",
    "polygon": "Polygon: click corners  ·  double-click or Enter closes  ·  Esc cancels",
    "template": "Template: drag to move  ·  wheel or corner to scale  ·  Enter stamps, Esc cancels",
}


def as_model_mask(mask, size: tuple[int, int]) -> np.ndarray:
    """``mask`` (numpy or torch; H×W, 1×H×W or 1×1×H×W; {0, 1} or bool) as a bool H×W array of
    ``size`` = (H, W). Raises MaskError on another shape."""
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    a = np.asarray(mask)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.shape != tuple(size):
        raise MaskError(f"the mask is {'×'.join(map(str, np.asarray(mask).shape))}, the image {size[0]}×{size[1]}")
    return a > 0.5


class MaskCanvas(QGraphicsView):
    """Zoomable, pannable image view with mask tools (see the module docstring)."""

    maskChanged = Signal()  # after each completed edit (not after set_image / set_mask)
    toolChanged = Signal(str)
    brushSizeChanged = Signal(int)
    historyChanged = Signal()  # undo/redo availability may have changed
    templateChanged = Signal(bool)  # a template is (no longer) waiting to be stamped

    def __init__(self, parent: QWidget | None = None, *, display_target: int = 448) -> None:
        super().__init__(parent)
        self._display_target = display_target
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QBrush(QColor("#3c3c3c")))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(200, 200)

        self._image_item = QGraphicsPixmapItem()
        self._mask_item = QGraphicsPixmapItem()
        self._outline_item = QGraphicsPixmapItem()
        for z, item in enumerate((self._image_item, self._mask_item, self._outline_item)):
            item.setTransformationMode(Qt.TransformationMode.FastTransformation)
            item.setZValue(z)
            self.scene().addItem(item)
        self._preview = QGraphicsPathItem()
        self._preview.setZValue(10)
        self.scene().addItem(self._preview)
        self._brush_cursor = QGraphicsEllipseItem()
        self._brush_cursor.setZValue(30)
        self._brush_cursor.setVisible(False)
        self.scene().addItem(self._brush_cursor)
        self._template: TemplateItem | None = None

        self._image: np.ndarray | None = None  # uint8 H×W or H×W×3, model resolution
        self._model_size = (0, 0)  # (H, W)
        self._k = 1
        self._history: list[Mask] = [Mask()]
        self._index = 0
        self._drawn = np.zeros((0, 0), dtype=bool)  # the current mask at display resolution
        self._model = np.zeros((0, 0), dtype=bool)  # …and rasterized at model resolution
        self._tool = "brush"
        self._brush_size = 2  # diameter in model pixels
        self._drag: dict | None = None
        self._polygon: list[QPointF] = []
        self._pan: tuple[QPoint, int, int] | None = None
        self._space = False
        self._fitted = True
        self._hover: QPointF | None = None
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    # == API =========================================================================================
    def set_image(self, image: np.ndarray) -> None:
        """Show ``image`` (H×W, H×W×3 or C×H×W; float in [0, 1] or uint8) at model resolution.
        Keeps the mask if the size is unchanged (the application sets the image's own mask with
        :meth:`set_mask` next); resets the undo history."""
        pixels = theme.to_display_uint8(image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else image)
        self._cancel_interaction()
        size = (int(pixels.shape[0]), int(pixels.shape[1]))
        self._image = pixels
        self._image_item.setPixmap(QPixmap.fromImage(numpy_to_qimage(pixels)))
        if size != self._model_size:
            self._model_size = size
            self._k = theme.upscale_factor(size[0], size[1], self._display_target)
            for item in (self._image_item, self._mask_item):
                item.setScale(self._k)
            w, h = self.display_size()
            self.setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))
            self._reset_history(Mask())
            self._fitted = True
        else:
            self._reset_history(self.current_mask())
        self.fit_to_view()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Replace the mask by ``mask`` (model resolution H×W of {0, 1}; None = empty) as a new
        starting point: the undo history restarts. Raises MaskError on a wrong shape."""
        self._require_image()
        self._cancel_interaction()
        self._reset_history(self._mask_from_model(mask))

    def model_mask(self) -> np.ndarray | None:
        """The mask at model resolution: H×W float32 of exactly 0 and 1 (None without image),
        from core's rasterizer."""
        if self._image is None:
            return None
        return self._model.astype(np.float32)

    def model_mask_tensor(self) -> torch.Tensor | None:
        """The mask as a 1×1×H×W tensor, as attacks take it."""
        mask = self.model_mask()
        return None if mask is None else torch.from_numpy(mask)[None, None]

    def current_mask(self) -> Mask:
        """The mask's vector description (core ``Mask``, display coordinates)."""
        return self._history[self._index]

    def set_tool(self, name: str) -> None:
        """Choose a tool: "brush", "eraser", "rectangle", "ellipse", "polygon" or "template"."""
        if name not in TOOLS:
            raise ValueError(f"unknown tool '{name}' (tools: {', '.join(TOOLS)})")
        if name == self._tool:
            return
        self._cancel_interaction(keep_template=name == "template")
        self._tool = name
        self._update_cursor()
        self.viewport().update()
        self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool

    def set_brush_size(self, px: int) -> None:
        """Brush and eraser diameter in *image* pixels (model resolution), 1…64."""
        px = int(min(max(int(px), 1), 64))
        if px != self._brush_size:
            self._brush_size = px
            self._update_brush_cursor()
            self.brushSizeChanged.emit(px)

    def brush_size(self) -> int:
        return self._brush_size

    def fill_all(self) -> None:
        """Mask the whole image."""
        self._require_image()
        self._commit(self.current_mask().fill(), np.ones_like(self._drawn))

    def clear(self) -> None:
        """Empty the mask."""
        self._require_image()
        self._commit(self.current_mask().clear(), np.zeros_like(self._drawn))

    def invert(self) -> None:
        """Swap masked and unmasked."""
        self._require_image()
        self._commit(self.current_mask().invert(), ~self._drawn)

    def undo(self) -> None:
        if self.can_undo():
            self._cancel_interaction()
            self._index -= 1
            self._redraw()
            self.historyChanged.emit()
            self.maskChanged.emit()

    def redo(self) -> None:
        if self.can_redo():
            self._cancel_interaction()
            self._index += 1
            self._redraw()
            self.historyChanged.emit()
            self.maskChanged.emit()

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._history) - 1

    def save_mask(self, path: str | Path) -> None:
        """Write the model-resolution mask as a grey PNG (white = mask). Raises WorkbenchError."""
        self._require_image()
        path = Path(path)
        if not path.parent.is_dir():
            raise WorkbenchError(f"cannot save the mask: the folder {path.parent} does not exist")
        try:
            save_mask_png(path, self.model_mask_tensor())
        except WorkbenchError:
            raise
        except OSError as error:
            raise WorkbenchError(f"cannot save the mask to {path}: {error.strerror or error}") from error

    def load_mask(self, path: str | Path) -> None:
        """Replace the mask by a PNG (white or opaque = mask; another size of the same aspect
        ratio is resampled by core's rasterization rule, another aspect ratio is refused) as an
        undoable edit. Raises WorkbenchError
        (DataLoadError, MaskError) with a readable message; the mask stays as it was."""
        self._require_image()
        try:
            mask = load_mask_png(path, self._model_size)
        except WorkbenchError:
            raise
        except Exception as error:  # noqa: BLE001 - any decoder failure is a bad file
            raise DataLoadError(f"{path}: cannot read this mask ({type(error).__name__}: {error})") from error
        new = self._mask_from_model(mask)
        self._commit(new, new.draw(self.display_size()))

    def place_template(self, name: str) -> None:
        """Put a template ("eyeglasses", "sticker-square" or a PNG path) over the image, ready to
        move and scale; :meth:`apply_template` (Enter) stamps it. Raises WorkbenchError."""
        self._require_image()
        bitmap = load_template(name)
        self.set_tool("template")
        self._remove_template()
        item = TemplateItem(name, bitmap)
        self.scene().addItem(item)
        w, h = self.display_size()
        key = name if name in BUILTIN_TEMPLATES else ""
        width = DEFAULT_WIDTH.get(key, 0.5) * w
        if name == "eyeglasses":
            center = QPointF(w / 2, h * 0.36)
        else:
            center = QPointF(w / 2, h / 2)
        item.place(center, width)
        self._template = item
        self.setFocus()
        self.viewport().update()
        self.templateChanged.emit(True)

    def template_item(self) -> TemplateItem | None:
        return self._template

    def has_template(self) -> bool:
        return self._template is not None

    def apply_template(self) -> None:
        """Stamp the placed template into the mask (union) and remove it."""
        if self._template is None:
            return
        stamp = self._template.stamp(self.display_size())
        self._remove_template()
        self.templateChanged.emit(False)
        if stamp.any():
            self._commit(self.current_mask().add(Bitmap(stamp)), self._drawn | stamp)

    def add_model_mask(self, mask) -> bool:
        """Add a model-resolution mask (H×W, 1×1×H×W; e.g. a template fitted to the image's
        landmarks) to the mask as one undoable edit; False when it adds no pixel."""
        self._require_image()
        self._cancel_interaction()
        model = as_model_mask(mask, self._model_size)
        layer = np.repeat(np.repeat(model, self._k, axis=0), self._k, axis=1)  # exact: whole model pixels
        if not (layer & ~self._drawn).any():
            return False
        self._commit(self.current_mask().add(Bitmap(layer)), self._drawn | layer)
        return True

    def cancel_template(self) -> None:
        if self._template is not None:
            self._remove_template()
            self.templateChanged.emit(False)

    def fit_to_view(self) -> None:
        """Show the whole image as large as the view allows."""
        if self._image is None:
            return
        w, h = self.display_size()
        self.fitInView(QRectF(0, 0, w, h), Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self._update_brush_cursor()

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` (limits: ¼ of the fitted size to 64 screen pixels per display pixel)."""
        current = self.transform().m11()
        target = min(max(current * factor, 0.05), 64.0)
        factor = target / current
        if anchor is not None:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            before = self.mapToScene(anchor.toPoint())
            self.scale(factor, factor)
            after = self.mapToScene(anchor.toPoint())
            self.translate(after.x() - before.x(), after.y() - before.y())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        else:
            self.scale(factor, factor)
        self._fitted = False
        self._update_brush_cursor()

    def display_size(self) -> tuple[int, int]:
        """(width, height) of the display canvas: the image size times :meth:`scale_factor`."""
        return self._model_size[1] * self._k, self._model_size[0] * self._k

    def scale_factor(self) -> int:
        """Display pixels per model pixel."""
        return self._k

    def has_image(self) -> bool:
        return self._image is not None

    def model_to_viewport(self, x: float, y: float) -> QPoint:
        """The viewport position of model-pixel coordinates (x, y): (0, 0) is the image's
        top-left corner, (W, H) its bottom-right; pixel (col, row) covers [col, col+1)×[row, row+1).
        For tests and scripted demos that send real mouse events."""
        p = self.viewportTransform().map(QPointF(x * self._k, y * self._k))
        return QPoint(int(round(p.x())), int(round(p.y())))

    def viewport_to_model(self, point: QPoint | QPointF) -> QPointF:
        scene = self._to_scene(QPointF(point))
        return QPointF(scene.x() / self._k, scene.y() / self._k)

    # == mouse and keys ==================================================================================
    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        button = event.button()
        if button in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton) or (
            button == Qt.MouseButton.LeftButton and self._space
        ):
            self._start_pan(pos)
            event.accept()
            return
        if self._image is None or button != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        scene = self._to_scene(pos)
        if self._tool == "template":
            super().mousePressEvent(event)
            return
        if self._tool in ("brush", "eraser"):
            self._drag = {"kind": self._tool, "points": [scene], "base": self._drawn.copy()}
            self._paint_segment(scene, scene)
        elif self._tool in ("rectangle", "ellipse"):
            self._drag = {"kind": self._tool, "start": scene, "end": scene}
            self._update_preview(event.modifiers())
        elif self._tool == "polygon":
            if len(self._polygon) >= 3 and self._near(scene, self._polygon[0]):
                self._close_polygon()
            elif not self._polygon or not self._near(scene, self._polygon[-1]):
                self._polygon.append(scene)
                self._update_preview()
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._pan is not None:
            self._continue_pan(pos)
            event.accept()
            return
        scene = self._to_scene(pos)
        self._hover = scene
        self._update_brush_cursor()
        if self._tool == "template":
            super().mouseMoveEvent(event)
            return
        if self._drag is not None:
            if self._drag["kind"] in ("brush", "eraser"):
                last = self._drag["points"][-1]
                if (scene - last).manhattanLength() > 0.25:
                    self._drag["points"].append(scene)
                    self._paint_segment(last, scene)
            else:
                self._drag["end"] = scene
                self._update_preview(event.modifiers())
        elif self._tool == "polygon" and self._polygon:
            self._update_preview()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan is not None and event.button() in (
            Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton, Qt.MouseButton.LeftButton
        ):
            self._pan = None
            self._update_cursor()
            event.accept()
            return
        if self._tool == "template":
            super().mouseReleaseEvent(event)
            return
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            drag, self._drag = self._drag, None
            if drag["kind"] in ("brush", "eraser"):
                scene = self._to_scene(event.position())
                if (scene - drag["points"][-1]).manhattanLength() > 0.25:
                    drag["points"].append(scene)
                    self._paint_segment(drag["points"][-2], scene)
                self._finish_stroke(drag)
            else:
                drag["end"] = self._to_scene(event.position())
                self._finish_shape(drag, event.modifiers())
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self._tool == "polygon" and event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            scene = self._to_scene(event.position())
            if not self._polygon or not self._near(scene, self._polygon[-1]):
                self._polygon.append(scene)
            self._close_polygon()
            event.accept()
            return
        if self._tool == "template":
            super().mouseDoubleClickEvent(event)
            return
        # Qt replaces the second press of a double click by this event: treat it as a press.
        self.mousePressEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self._tool == "template" and self._template is not None:
            item = self.itemAt(event.position().toPoint())
            if item is self._template:
                self._template.scale_about_center(1.1 ** (event.angleDelta().y() / 120.0))
                event.accept()
                return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.2**steps, event.position())
        event.accept()

    def event(self, event) -> bool:  # noqa: D102
        # Keys the canvas needs while an edit is pending win over window-wide shortcuts
        # (e.g. the window's Esc = stop the attack): a ShortcutOverride accepted here makes Qt
        # deliver the key press to the canvas instead.
        if event.type() == QEvent.Type.ShortcutOverride and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            key = event.key()
            pending = self._drag is not None or bool(self._polygon) or self._template is not None
            if (
                (key == Qt.Key.Key_Escape and pending)
                or (key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (self._polygon or self._template is not None))
                or (key == Qt.Key.Key_Backspace and self._polygon)
                or key == Qt.Key.Key_Space
            ):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_cursor()
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo) or (
            key == Qt.Key.Key_Z and event.modifiers() == (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        ):
            self.redo()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._tool == "polygon" and self._polygon:
                self._close_polygon()
            elif self._template is not None:
                self.apply_template()
        elif key == Qt.Key.Key_Escape:
            self._cancel_interaction()
        elif key == Qt.Key.Key_Backspace and self._tool == "polygon" and self._polygon:
            self._polygon.pop()
            self._update_preview()
        elif key == Qt.Key.Key_BracketLeft:
            self.set_brush_size(self._brush_size - 1)
        elif key == Qt.Key.Key_BracketRight:
            self.set_brush_size(self._brush_size + 1)
        elif key == Qt.Key.Key_0:
            self.fit_to_view()
        elif event.modifiers() in (Qt.KeyboardModifier.NoModifier,) and key in _TOOL_KEYS:
            self.set_tool(_TOOL_KEYS[key])
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self._brush_cursor.setVisible(False)
        super().leaveEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:
            self.fit_to_view()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """A one-line hint for the current tool at the bottom of the view."""
        if self._image is None:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor("#dddddd"))
            painter.setFont(theme.font())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "No image")
            painter.restore()
            return
        text = _TOOL_HINTS.get(self._tool, "")
        if not text:
            return
        painter.save()
        painter.resetTransform()
        painter.setFont(theme.font(theme.style().font_pt * 0.9))
        metrics = painter.fontMetrics()
        height = metrics.height() + 6
        area = QRectF(0, self.viewport().height() - height, self.viewport().width(), height)
        painter.fillRect(area, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#ffffff"))
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(area.width() - 12))
        painter.drawText(area.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()

    # == internals =======================================================================================
    def _require_image(self) -> None:
        if self._image is None:
            raise WorkbenchError("there is no image to draw a mask on yet")

    def _to_scene(self, pos: QPointF) -> QPointF:
        inverse, _ok = self.viewportTransform().inverted()
        return inverse.map(QPointF(pos))

    def _near(self, a: QPointF, b: QPointF, screen_px: float = 6.0) -> bool:
        d = a - b
        scale = max(self.transform().m11(), 1e-6)
        return (d.x() ** 2 + d.y() ** 2) ** 0.5 * scale <= screen_px

    def _mask_from_model(self, mask) -> Mask:
        """A core Mask for a model-resolution mask: the model pixels enlarged to display pixels
        (exact, since the display is an integer multiple of the model size)."""
        if mask is None:
            return Mask()
        m = as_model_mask(mask, self._model_size)
        if not m.any():
            return Mask()
        if m.all():
            return Mask().fill()
        display = np.repeat(np.repeat(m, self._k, axis=0), self._k, axis=1)
        return Mask().add(Bitmap(display))

    def _reset_history(self, mask: Mask) -> None:
        self._history = [mask]
        self._index = 0
        self._redraw()
        self.historyChanged.emit()

    def _commit(self, mask: Mask, drawn: np.ndarray) -> None:
        """Record an edit (its core Mask and, for speed, the same mask drawn at display size)."""
        del self._history[self._index + 1 :]
        self._history.append(mask)
        if len(self._history) > MAX_HISTORY:
            del self._history[0]
        self._index = len(self._history) - 1
        self._set_drawn(drawn)
        self.historyChanged.emit()
        self.maskChanged.emit()

    def _redraw(self) -> None:
        if self._image is None:
            return
        self._set_drawn(self.current_mask().draw(self.display_size()))

    def _set_drawn(self, drawn: np.ndarray) -> None:
        """Show a display-resolution mask: rasterize it (core) and refresh both overlays."""
        self._drawn = drawn
        self._model = rasterize(Bitmap(drawn), self.display_size(), self._model_size)[0, 0].numpy() > 0
        s = theme.style()
        h, w = self._model.shape
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[..., :3] = theme.MASK_RGB
        rgba[..., 3] = self._model.astype(np.uint8) * s.mask_alpha
        self._mask_item.setPixmap(QPixmap.fromImage(_rgba_image(rgba)))
        d8 = drawn.astype(np.uint8)
        size = 5 if s.presentation else 3
        # The inner edge of the drawn shape, 1 (2 in presentation mode) display pixels wide.
        edges = (cv2.morphologyEx(d8, cv2.MORPH_GRADIENT, np.ones((size, size), np.uint8)) > 0) & drawn
        outline = np.zeros((*drawn.shape, 4), np.uint8)
        outline[edges] = (*[int(c * 0.6) for c in theme.MASK_RGB], 255)
        self._outline_item.setPixmap(QPixmap.fromImage(_rgba_image(outline)))

    def _paint_segment(self, a: QPointF, b: QPointF) -> None:
        """Live brush/eraser feedback: draw the new segment (core Stroke) onto the display mask."""
        radius = self._brush_size * self._k / 2.0
        layer = Stroke(((a.x(), a.y()), (b.x(), b.y())), radius).draw(self.display_size())
        if self._drag is not None and self._drag["kind"] == "eraser":
            self._set_drawn(self._drawn & ~layer)
        else:
            self._set_drawn(self._drawn | layer)

    def _finish_stroke(self, drag: dict) -> None:
        points = tuple((p.x(), p.y()) for p in drag["points"])
        stroke = Stroke(points, self._brush_size * self._k / 2.0)
        current = self.current_mask()
        new = current.subtract(stroke) if drag["kind"] == "eraser" else current.add(stroke)
        if np.array_equal(self._drawn, drag["base"]):
            return  # nothing changed (e.g. erasing where there was no mask)
        self._commit(new, self._drawn)

    def _shape_rect(self, drag: dict, modifiers) -> QRectF:
        start, end = drag["start"], drag["end"]
        dx, dy = end.x() - start.x(), end.y() - start.y()
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            side = max(abs(dx), abs(dy))
            dx, dy = np.copysign(side, dx), np.copysign(side, dy)
        return QRectF(start.x(), start.y(), dx, dy)

    def _finish_shape(self, drag: dict, modifiers) -> None:
        self._preview.setPath(QPainterPath())
        r = self._shape_rect(drag, modifiers)
        if abs(r.width()) < 0.5 or abs(r.height()) < 0.5:
            return
        shape_type = Rect if drag["kind"] == "rectangle" else Ellipse
        shape = shape_type(r.x(), r.y(), r.width(), r.height())
        layer = shape.draw(self.display_size())
        if not layer.any() or not (layer & ~self._drawn).any():
            return
        self._commit(self.current_mask().add(shape), self._drawn | layer)

    def _close_polygon(self) -> None:
        points, self._polygon = self._polygon, []
        self._preview.setPath(QPainterPath())
        if len(points) < 3:
            return
        shape = Polygon(tuple((p.x(), p.y()) for p in points))
        layer = shape.draw(self.display_size())
        if not (layer & ~self._drawn).any():
            return
        self._commit(self.current_mask().add(shape), self._drawn | layer)

    def _update_preview(self, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        path = QPainterPath()
        if self._drag is not None and self._drag["kind"] in ("rectangle", "ellipse"):
            r = self._shape_rect(self._drag, modifiers).normalized()
            if self._drag["kind"] == "rectangle":
                path.addRect(r)
            else:
                path.addEllipse(r)
        elif self._polygon:
            path.moveTo(self._polygon[0])
            for p in self._polygon[1:]:
                path.lineTo(p)
            if self._hover is not None:
                path.lineTo(self._hover)
            for p in self._polygon[:1]:
                s = 4.0 / max(self.transform().m11(), 1e-6)
                path.addEllipse(p, s, s)
        self._preview.setPath(path)

    def _cancel_interaction(self, keep_template: bool = False) -> None:
        if self._drag is not None and self._drag["kind"] in ("brush", "eraser"):
            self._set_drawn(self._drag["base"])
        self._drag = None
        self._polygon = []
        self._preview.setPath(QPainterPath())
        if not keep_template:
            self.cancel_template()

    def _remove_template(self) -> None:
        if self._template is not None:
            self.scene().removeItem(self._template)
            self._template = None

    def _start_pan(self, pos: QPointF) -> None:
        self._pan = (pos.toPoint(), self.horizontalScrollBar().value(), self.verticalScrollBar().value())
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def _continue_pan(self, pos: QPointF) -> None:
        start, h, v = self._pan
        delta = pos.toPoint() - start
        self.horizontalScrollBar().setValue(h - delta.x())
        self.verticalScrollBar().setValue(v - delta.y())
        self._fitted = False

    def _update_cursor(self) -> None:
        if self._space:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif self._tool == "template":
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self._update_brush_cursor()

    def _update_brush_cursor(self) -> None:
        show = self._tool in ("brush", "eraser") and self._hover is not None and self._image is not None
        self._brush_cursor.setVisible(show)
        if show:
            r = self._brush_size * self._k / 2.0
            self._brush_cursor.setRect(QRectF(self._hover.x() - r, self._hover.y() - r, 2 * r, 2 * r))

    def _restyle(self) -> None:
        s = theme.style()
        pen = QPen(QColor("#00e5ff"), s.line_width * 0.75, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._preview.setPen(pen)
        self._preview.setBrush(QBrush(QColor(*theme.MASK_RGB, 60)))
        cursor_pen = QPen(QColor("#ffffff"), max(1.0, s.line_width * 0.5))
        cursor_pen.setCosmetic(True)
        self._brush_cursor.setPen(cursor_pen)
        if self._image is not None:
            self._set_drawn(self._drawn)
        self.viewport().update()


_TOOL_KEYS = {
    Qt.Key.Key_B: "brush",
    Qt.Key.Key_E: "eraser",
    Qt.Key.Key_R: "rectangle",
    Qt.Key.Key_O: "ellipse",
    Qt.Key.Key_P: "polygon",
}


def _rgba_image(rgba: np.ndarray) -> QImage:
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888).copy()


def demo_image(size: int = 28) -> np.ndarray:
    from workbench.gui.widgets.image_triptych import demo_images

    return demo_images(size)[0]


def demo() -> QWidget:
    """The canvas under its toolbar, with a synthetic image and a drawn mask."""
    from PySide6.QtWidgets import QVBoxLayout

    from workbench.gui.widgets.canvas_toolbar import MaskToolbar

    canvas = MaskCanvas()
    canvas.set_image(demo_image())
    w, h = canvas.display_size()
    mask = canvas.current_mask().add(Ellipse(w * 0.3, h * 0.25, w * 0.4, h * 0.3))
    mask = mask.add(Stroke(((w * 0.2, h * 0.75), (w * 0.5, h * 0.7), (w * 0.8, h * 0.8)), radius=w / 28))
    canvas._commit(mask, mask.draw((w, h)))
    container = QWidget()
    layout = QVBoxLayout(container)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(MaskToolbar(canvas))
    layout.addWidget(canvas, 1)
    container.canvas = canvas
    container.resize(640, 600)
    canvas.maskChanged.connect(lambda: print("mask changed:", int(canvas.model_mask().sum()), "pixels"))
    return container


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("MaskCanvas demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
