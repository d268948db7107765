"""``ZoomPanView``: a graphics view that zooms under the mouse and pans, the base of the mask canvas.

Wheel: zoom about the mouse (¼ of the fitted size … 64 screen pixels per scene unit); middle or
right button drag, or Space + left drag: pan; :meth:`fit_to_view` shows the whole content (the
view keeps it fitted while it is resized, until the user zooms or pans). Subclasses say what
the content is (:meth:`content_rect`) and hear about view changes (:meth:`view_changed`) and
cursor changes (:meth:`update_cursor`).
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

PAN_BUTTONS = (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton)


class ZoomPanView(QGraphicsView):
    """A view of its own scene with zoom, pan and fit (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self._pan: tuple[QPoint, int, int] | None = None
        self._space = False  # Space is held: the left button pans
        self._fitted = True

    # -- for subclasses ------------------------------------------------------------------------------
    def content_rect(self) -> QRectF | None:
        """The scene rectangle that :meth:`fit_to_view` shows (None: nothing to show)."""
        return None

    def view_changed(self) -> None:
        """Called after the view was zoomed or fitted."""

    def update_cursor(self) -> None:
        """Set the viewport's cursor; the base shows the open hand while Space is held."""
        if self._space:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)

    # -- API -----------------------------------------------------------------------------------------
    def fit_to_view(self) -> None:
        """Show the whole content as large as the view allows."""
        rect = self.content_rect()
        if rect is None:
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self.view_changed()

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` about ``anchor`` (viewport coordinates; None: the view's rule)."""
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
        self.view_changed()

    def to_scene(self, pos: QPointF) -> QPointF:
        """The scene position of a viewport position."""
        inverse, _ok = self.viewportTransform().inverted()
        return inverse.map(QPointF(pos))

    def screen_px(self) -> float:
        """The length of one screen pixel in scene units."""
        return 1.0 / max(self.transform().m11(), 1e-6)

    # -- panning, for the subclass's mouse handlers ----------------------------------------------
    def pan_press(self, event) -> bool:
        """Start panning if ``event`` is a pan button's press; True when it did."""
        button = event.button()
        if button in PAN_BUTTONS or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan = (event.position().toPoint(), self.horizontalScrollBar().value(), self.verticalScrollBar().value())
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return True
        return False

    def pan_move(self, event) -> bool:
        """Pan with the mouse while panning; True when it did."""
        if self._pan is None:
            return False
        start, h, v = self._pan
        delta = event.position().toPoint() - start
        self.horizontalScrollBar().setValue(h - delta.x())
        self.verticalScrollBar().setValue(v - delta.y())
        self._fitted = False
        event.accept()
        return True

    def pan_release(self, event) -> bool:
        """End panning on a button's release; True when it did."""
        if self._pan is None or event.button() not in (*PAN_BUTTONS, Qt.MouseButton.LeftButton):
            return False
        self._pan = None
        self.update_cursor()
        event.accept()
        return True

    # -- Qt events -----------------------------------------------------------------------------------
    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.2**steps, event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.update_cursor()
            event.accept()
        elif event.key() == Qt.Key.Key_0:
            self.fit_to_view()
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:
            self.fit_to_view()
