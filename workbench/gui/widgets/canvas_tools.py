"""``ToolView``: the mask canvas's mouse and keys, forwarded to core's tool objects, and the placed template.

The current tool is a Qt-free :class:`~workbench.core.mask_tools.MaskTool`. The view gives it
the left button's press, moves, release and double click and the keys Enter and Backspace, in
display coordinates, with the mask as it is now (:meth:`_surface`), and hands what the tool
returns to :meth:`_apply`. A placed mask template (:class:`~workbench.gui.widgets.mask_template.TemplateItem`)
takes the mouse itself; Enter stamps it as an edit, Esc removes it. Keys: B, E, R, O, P (each
tool's declared shortcut), [ and ] for the brush size, Esc cancels, Ctrl+Z / Ctrl+Shift+Z
(Ctrl+Y) undo / redo; the tool's hint is shown at the bottom of the view.

A subclass (:class:`~workbench.gui.widgets.canvas.MaskCanvas`) owns the mask and supplies
``has_image``, ``display_size``, ``undo``, ``redo``, ``_require_image``, ``_surface`` and
``_apply``.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter
from PySide6.QtWidgets import QWidget

from workbench.core.mask_tools import TOOLS, Edit, Surface, Update, make_tool
from workbench.core.masks import Bitmap
from workbench.gui import theme
from workbench.gui.widgets.canvas_view import ZoomPanView
from workbench.gui.widgets.mask_layers import MaskLayers
from workbench.gui.widgets.mask_template import BUILTIN_TEMPLATES, DEFAULT_WIDTH, TemplateItem, load_template

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ToolView(ZoomPanView):
    """The interaction half of the mask canvas (see the module docstring)."""

    toolChanged = Signal(str)
    brushSizeChanged = Signal(int)
    templateChanged = Signal(bool)  # a template is (no longer) waiting to be stamped

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layers = MaskLayers(self.scene())
        self._tool = make_tool("brush")
        self._brush_size = 2  # diameter in model pixels
        self._k = 1  # display pixels per model pixel
        self._hover: QPointF | None = None
        self._template: TemplateItem | None = None

    # -- the subclass's part -------------------------------------------------------------------------
    def _surface(self) -> Surface:
        """The mask as the tools see it."""
        raise NotImplementedError

    def _apply(self, update: Update) -> None:
        """Show what a tool returned and record its edit."""
        raise NotImplementedError

    # -- tools ---------------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        """Choose a tool by its id (:data:`workbench.core.mask_tools.TOOLS`: "brush", "eraser",
        "rectangle", "ellipse", "polygon", "template"); ValueError for another name."""
        tool = make_tool(name)
        if name == self._tool.id:
            return
        self._cancel_interaction(keep_template=name == "template")
        self._tool = tool
        self.update_cursor()
        self.viewport().update()
        self.toolChanged.emit(name)

    def tool(self) -> str:
        return self._tool.id

    def set_brush_size(self, px: int) -> None:
        """Brush and eraser diameter in *image* pixels (model resolution), 1…64."""
        px = int(min(max(int(px), 1), 64))
        if px != self._brush_size:
            self._brush_size = px
            self._update_brush_cursor()
            self.brushSizeChanged.emit(px)

    def brush_size(self) -> int:
        return self._brush_size

    # -- templates -----------------------------------------------------------------------------------
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
        width = DEFAULT_WIDTH.get(name if name in BUILTIN_TEMPLATES else "", 0.5) * w
        item.place(QPointF(w / 2, h * 0.36 if name == "eyeglasses" else h / 2), width)
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
            surface = self._surface()
            self._apply(Update(edit=Edit(surface.mask.add(Bitmap(stamp)), surface.drawn | stamp)))

    def cancel_template(self) -> None:
        if self._template is not None:
            self._remove_template()
            self.templateChanged.emit(False)

    # -- the view (ZoomPanView) ----------------------------------------------------------------------
    def view_changed(self) -> None:
        self._update_brush_cursor()

    def update_cursor(self) -> None:
        if self._space:
            super().update_cursor()
        elif self._tool.pointer == "arrow":
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self._update_brush_cursor()

    # -- Qt events -----------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self.pan_press(event):
            return
        if not self.has_image() or event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._forward(event, self._tool.press, super().mousePressEvent)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self.pan_move(event):
            return
        self._hover = self.to_scene(event.position())
        self._update_brush_cursor()
        if not self.has_image():
            event.accept()
            return
        self._forward(event, self._tool.move, super().mouseMoveEvent)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self.pan_release(event):
            return
        if not self.has_image() or event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        self._forward(event, self._tool.release, super().mouseReleaseEvent)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if not self.has_image() or event.button() != Qt.MouseButton.LeftButton:
            # Qt replaces the second press of a double click by this event: treat it as a press.
            return self.mousePressEvent(event)
        self._forward(event, self._tool.double_click, super().mouseDoubleClickEvent)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self._template is not None and self.itemAt(event.position().toPoint()) is self._template:
            self._template.scale_about_center(1.1 ** (event.angleDelta().y() / 120.0))
            event.accept()
            return
        super().wheelEvent(event)

    def event(self, event) -> bool:  # noqa: D102
        # Keys the canvas needs while an edit is pending win over window-wide shortcuts
        # (e.g. the window's Esc = stop the attack): a ShortcutOverride accepted here makes Qt
        # deliver the key press to the canvas instead.
        if event.type() == QEvent.Type.ShortcutOverride and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            key, placed = event.key(), self._template is not None
            if (
                (key == Qt.Key.Key_Escape and (self._tool.pending() or placed))
                or (key in _ENTER and (self._tool.takes_key("enter") or placed))
                or (key == Qt.Key.Key_Backspace and self._tool.takes_key("backspace"))
                or key == Qt.Key.Key_Space
            ):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo) or (
            key == Qt.Key.Key_Z and event.modifiers() == (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        ):
            self.redo()
        elif key in _ENTER:
            if not self._tool_key("enter"):
                self.apply_template()
        elif key == Qt.Key.Key_Escape:
            self._cancel_interaction()
        elif key == Qt.Key.Key_Backspace and self._tool_key("backspace"):
            pass
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            self.set_brush_size(self._brush_size + (1 if key == Qt.Key.Key_BracketRight else -1))
        elif event.modifiers() == Qt.KeyboardModifier.NoModifier and tool_for_key(key):
            self.set_tool(tool_for_key(key))
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self._layers.show_brush(None, 0.0)
        super().leaveEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """A one-line hint for the current tool at the bottom of the view ("No image" without one)."""
        painter.save()
        painter.resetTransform()
        if not self.has_image():
            painter.setPen(QColor("#dddddd"))
            painter.setFont(theme.font())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "No image")
        elif self._tool.hint:
            painter.setFont(theme.font(theme.style().font_pt * 0.9))
            metrics = painter.fontMetrics()
            height = metrics.height() + 6
            area = QRectF(0, self.viewport().height() - height, self.viewport().width(), height)
            painter.fillRect(area, QColor(0, 0, 0, 150))
            painter.setPen(QColor("#ffffff"))
            elided = metrics.elidedText(self._tool.hint, Qt.TextElideMode.ElideRight, int(area.width() - 12))
            painter.drawText(area.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()

    # -- internals -----------------------------------------------------------------------------------
    def _forward(self, event, handler, fallback) -> None:
        """Give a mouse event to the tool's ``handler`` in display coordinates, or to the view's
        ``fallback`` (the template's item) when the tool does not handle it."""
        scene = self.to_scene(event.position())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        update = handler(self._surface(), (scene.x(), scene.y()), shift=shift)
        if update is None:
            fallback(event)
            return
        self._apply(update)
        event.accept()

    def _tool_key(self, name: str) -> bool:
        """Give a key to the tool; whether it used it."""
        update = self._tool.key(self._surface(), name)
        if update is not None:
            self._apply(update)
        return update is not None

    def _cancel_interaction(self, keep_template: bool = False) -> None:
        """Drop the tool's edit in progress and (unless ``keep_template``) the placed template."""
        self._apply(self._tool.cancel(self._surface()))
        if not keep_template:
            self.cancel_template()

    def _remove_template(self) -> None:
        if self._template is not None:
            self.scene().removeItem(self._template)
            self._template = None

    def _update_brush_cursor(self) -> None:
        show = self._tool.shows_brush and self._hover is not None and self.has_image()
        self._layers.show_brush(self._hover if show else None, self._brush_size * self._k / 2.0)


def tool_for_key(key) -> str | None:
    """The id of the tool whose shortcut is the (unmodified) key ``key``, if any."""
    for tool in TOOLS:
        if len(tool.shortcut) == 1 and key == ord(tool.shortcut):
            return tool.id
    return None
