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
:meth:`set_mask` (the application restoring stored state) do not. The undo history is core's
:class:`~workbench.core.mask_history.MaskHistory` of immutable ``Mask`` values.

The tools are core's Qt-free :mod:`workbench.core.mask_tools` objects, forwarded the mouse
and keys by :class:`~workbench.gui.widgets.canvas_tools.ToolView` (with the template
placement; this class applies what they return to the mask); zoom and pan come from
:class:`~workbench.gui.widgets.canvas_view.ZoomPanView`, the overlays from
:class:`~workbench.gui.widgets.mask_layers.MaskLayers`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QPoint, QPointF, QRectF, Signal
from PySide6.QtWidgets import QApplication, QWidget

from workbench.core.errors import DataLoadError, WorkbenchError
from workbench.core.mask_history import MaskHistory
from workbench.core.mask_policy import as_model_mask, enlarge, mask_from_model
from workbench.core.mask_tools import Surface, Update
from workbench.core.masks import Bitmap, Ellipse, Mask, Stroke, load_mask_png, rasterize, save_mask_png
from workbench.gui import theme
from workbench.gui.widgets.canvas_tools import ToolView


class MaskCanvas(ToolView):
    """Zoomable, pannable image view with mask tools (see the module docstring)."""

    maskChanged = Signal()  # after each completed edit (not after set_image / set_mask)
    historyChanged = Signal()  # undo/redo availability may have changed

    def __init__(self, parent: QWidget | None = None, *, display_target: int = 448) -> None:
        super().__init__(parent)
        self._display_target = display_target
        self._image: np.ndarray | None = None  # uint8 H×W or H×W×3, model resolution
        self._model_size = (0, 0)  # (H, W)
        self._history = MaskHistory()
        self._drawn = np.zeros((0, 0), dtype=bool)  # the current mask at display resolution
        self._model = np.zeros((0, 0), dtype=bool)  # …and rasterized at model resolution
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
        if size != self._model_size:
            self._model_size = size
            self._k = theme.upscale_factor(size[0], size[1], self._display_target)
            w, h = self.display_size()
            self.setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))
            self._reset_history(Mask())
            self._fitted = True
        else:
            self._reset_history(self.current_mask())
        self._layers.set_image(pixels, self._k)
        self.fit_to_view()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Replace the mask by ``mask`` (model resolution H×W of {0, 1}; None = empty) as a new
        starting point: the undo history restarts. Raises MaskError on a wrong shape."""
        self._require_image()
        self._cancel_interaction()
        self._reset_history(mask_from_model(mask, self._model_size, self._k))

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
        return self._history.current

    def record(self, mask: Mask) -> None:
        """Make ``mask`` (display coordinates) the current mask, as one undoable edit."""
        self._require_image()
        self._commit(mask, mask.draw(self.display_size()))

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
        self._step(self._history.can_undo, self._history.undo)

    def redo(self) -> None:
        self._step(self._history.can_redo, self._history.redo)

    def can_undo(self) -> bool:
        return self._history.can_undo()

    def can_redo(self) -> bool:
        return self._history.can_redo()

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
        self.record(mask_from_model(mask, self._model_size, self._k))

    def add_model_mask(self, mask) -> bool:
        """Add a model-resolution mask (H×W, 1×1×H×W; e.g. a template fitted to the image's
        landmarks) to the mask as one undoable edit; False when it adds no pixel."""
        self._require_image()
        self._cancel_interaction()
        layer = enlarge(as_model_mask(mask, self._model_size), self._k)  # exact: whole model pixels
        if not (layer & ~self._drawn).any():
            return False
        self._commit(self.current_mask().add(Bitmap(layer)), self._drawn | layer)
        return True

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
        scene = self.to_scene(QPointF(point))
        return QPointF(scene.x() / self._k, scene.y() / self._k)

    # == the view and the tools (ToolView) =============================================================
    def content_rect(self) -> QRectF | None:
        if self._image is None:
            return None
        w, h = self.display_size()
        return QRectF(0, 0, w, h)

    # == internals =======================================================================================
    def _require_image(self) -> None:
        if self._image is None:
            raise WorkbenchError("there is no image to draw a mask on yet")

    def _surface(self) -> Surface:
        """The mask as the tools see it."""
        radius = self._brush_size * self._k / 2.0
        return Surface(self.current_mask(), self._drawn, self.display_size(), radius, self.screen_px())

    def _apply(self, update: Update) -> None:
        """Show what a tool returned and record its edit."""
        self._layers.show_outline(update.outline)
        if update.edit is not None:
            self._commit(update.edit.mask, update.edit.drawn)
        elif update.drawn is not None:
            self._set_drawn(update.drawn)

    def _step(self, possible, move) -> None:
        """Undo or redo (``move``) when ``possible``."""
        if possible():
            self._cancel_interaction()
            move()
            self._redraw()
            self.historyChanged.emit()
            self.maskChanged.emit()

    def _reset_history(self, mask: Mask) -> None:
        self._history.reset(mask)
        self._redraw()
        self.historyChanged.emit()

    def _commit(self, mask: Mask, drawn: np.ndarray) -> None:
        """Record an edit (its core Mask and, for speed, the same mask drawn at display size)."""
        self._history.record(mask)
        self._set_drawn(drawn)
        self.historyChanged.emit()
        self.maskChanged.emit()

    def _redraw(self) -> None:
        if self._image is not None:
            self._set_drawn(self.current_mask().draw(self.display_size()))

    def _set_drawn(self, drawn: np.ndarray) -> None:
        """Show a display-resolution mask: rasterize it (core) and refresh both overlays."""
        self._drawn = drawn
        self._model = rasterize(Bitmap(drawn), self.display_size(), self._model_size)[0, 0].numpy() > 0
        self._layers.show_mask(drawn, self._model)

    def _restyle(self) -> None:
        self._layers.restyle()
        self.viewport().update()


def demo_canvas() -> MaskCanvas:
    """A canvas with a synthetic image and a drawn mask (an ellipse and a brush stroke)."""
    from workbench.gui.widgets.image_triptych import demo_images

    canvas = MaskCanvas()
    canvas.set_image(demo_images(28)[0])
    w, h = canvas.display_size()
    mask = canvas.current_mask().add(Ellipse(w * 0.3, h * 0.25, w * 0.4, h * 0.3))
    canvas.record(mask.add(Stroke(((w * 0.2, h * 0.75), (w * 0.5, h * 0.7), (w * 0.8, h * 0.8)), radius=w / 28)))
    canvas.maskChanged.connect(lambda: print("mask changed:", int(canvas.model_mask().sum()), "pixels"))
    return canvas


def demo() -> QWidget:
    """The canvas alone (:mod:`workbench.gui.widgets.canvas_toolbar` shows it under its toolbar)."""
    canvas = demo_canvas()
    canvas.resize(600, 560)
    return canvas


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("MaskCanvas demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
