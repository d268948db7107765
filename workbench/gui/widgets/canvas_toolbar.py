"""``MaskToolbar``: the mask tools of a :class:`~workbench.gui.widgets.canvas.MaskCanvas`.

Checkable tool buttons, one per tool of :data:`workbench.core.mask_tools.TOOLS` with its
declared title, shortcut and tip (Brush B, Eraser E, Rectangle R, Ellipse O, Polygon P), the brush size,
Fill / Clear / Invert, Undo (Ctrl+Z) / Redo (Ctrl+Shift+Z, Ctrl+Y), a Template menu (eyeglass
frame, stop-sign stickers, square sticker, a PNG file) with Stamp, and Save / Load mask as PNG.

With a *fitter* (:meth:`MaskToolbar.set_fitter`; the Evasion lab's fits templates to an image's
landmarks), choosing a template fits it to the image where it can and places it by hand
otherwise, and "Fit to image" / "Fit to every image" appear; :attr:`MaskToolbar.notice` says
which happened.

The shortcuts are attached to the toolbar *and* to its canvas with the
``WidgetWithChildrenShortcut`` context: they work while the canvas (or the toolbar) has the
focus, do not fire while the user types in a form elsewhere in the window, and several
canvas/toolbar pairs in one window do not make them ambiguous. Pass
``shortcut_context=Qt.ShortcutContext.WindowShortcut`` for window-wide shortcuts.

Errors from saving, loading or templates are reported with :attr:`MaskToolbar.failed` (a
readable message) for the window to show; nothing is raised into the event loop.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QPoint, QRect, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMenu,
    QSpinBox,
    QFrame,
    QLayout,
    QToolButton,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.mask_tools import TOOLS
from workbench.gui import theme
from workbench.gui.widgets.canvas import MaskCanvas, demo_canvas
from workbench.gui.widgets.mask_template import BUILTIN_TEMPLATES

class MaskToolbar(QWidget):
    """Tool buttons and mask actions wired to ``canvas``, in a flow that wraps onto as many
    rows as the width needs (so it fits above a canvas at any font size)."""

    failed = Signal(str)  # a readable error message (save/load/template)
    notice = Signal(str)  # what choosing or fitting a template did

    def __init__(
        self,
        canvas: MaskCanvas,
        parent: QWidget | None = None,
        *,
        shortcut_context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut,
        file_actions: bool = True,
    ) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._context = shortcut_context
        self._fitter = None
        self._last_template = "eyeglasses"
        self.setObjectName("maskToolbar")
        self.actions_by_name: dict[str, QAction] = {}
        self.buttons: dict[str, QToolButton] = {}
        self.flow = FlowLayout(self, spacing=3)
        tools = edits = self  # addAction / addWidget / addSeparator below fill the flow

        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        for tool in TOOLS.filter(lambda t: t.on_toolbar):
            action = self._action(tool.id, tool.title, tool.tip, tool.shortcut or None, lambda _=False, n=tool.id: canvas.set_tool(n))
            action.setCheckable(True)
            self.tool_group.addAction(action)
            tools.addAction(action)
        self.actions_by_name[canvas.tool() if canvas.tool() in self.actions_by_name else "brush"].setChecked(True)

        self.size_label = QLabel(" Size ")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 64)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(canvas.brush_size())
        self.size_spin.setToolTip("Brush and eraser diameter, in image pixels ([ and ] on the canvas)")
        self.size_spin.valueChanged.connect(canvas.set_brush_size)
        size_box = QWidget(self)
        size_layout = QHBoxLayout(size_box)
        size_layout.setContentsMargins(0, 0, 0, 0)
        size_layout.setSpacing(2)
        size_layout.addWidget(self.size_label)
        size_layout.addWidget(self.size_spin)
        tools.addWidget(size_box)
        tools.addSeparator()

        edits.addAction(self._action("fill", "Fill", "Mask the whole image", None, canvas.fill_all))
        edits.addAction(self._action("clear", "Clear", "Empty the mask", "Shift+Del", canvas.clear))
        edits.addAction(self._action("invert", "Invert", "Swap masked and unmasked (I)", "I", canvas.invert))
        edits.addSeparator()
        undo = self._action("undo", "Undo", "Undo the last mask edit (Ctrl+Z)", QKeySequence.StandardKey.Undo, canvas.undo)
        redo = self._action("redo", "Redo", "Redo (Ctrl+Shift+Z)", None, canvas.redo)
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edits.addAction(undo)
        edits.addAction(redo)
        edits.addSeparator()

        self.template_menu = QMenu("Template", self)
        for name, title in BUILTIN_TEMPLATES.items():
            action = self.template_menu.addAction(title)
            action.triggered.connect(lambda _=False, n=name: self._place(n))
            self.actions_by_name[f"template:{name}"] = action
        self.template_menu.addSeparator()
        from_file = self.template_menu.addAction("From PNG file…")
        from_file.triggered.connect(self._place_from_file)
        self.template_menu.addSeparator()
        fit_all = self.template_menu.addAction("Fit to every image")
        fit_all.setToolTip("Fit the last template to every image with landmarks, each into its own mask")
        fit_all.triggered.connect(lambda _=False: self._guard(self._fit_all))
        self.actions_by_name["fit_all"] = fit_all
        self.template_button = QToolButton()
        self.template_button.setAutoRaise(True)
        self.template_button.setText("Template")
        self.template_button.setToolTip("Place a mask template (eyeglass frame, sticker) to move, scale and stamp")
        self.template_button.setMenu(self.template_menu)
        self.template_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        edits.addWidget(self.template_button)
        edits.addAction(self._action("stamp", "Stamp", "Stamp the placed template into the mask (Enter)", None, canvas.apply_template))
        edits.addAction(self._action("fit", "Fit to image", "Fit the last template to this image's eyes or sign (landmarks)", None, self._fit))

        if file_actions:
            edits.addSeparator()
            edits.addAction(self._action("save", "Save…", "Save the mask as a PNG (white = mask)", None, self._save))
            edits.addAction(self._action("load", "Load…", "Load a mask PNG (white = mask)", None, self._load))

        canvas.toolChanged.connect(self._sync_tool)
        canvas.brushSizeChanged.connect(self._sync_size)
        canvas.historyChanged.connect(self._sync_history)
        canvas.templateChanged.connect(self._sync_template)
        theme.theme_signals().changed.connect(self._restyle)
        self._sync_history()
        self._sync_template(canvas.has_template())
        self.set_fitter(None)
        self._restyle()

    # -- API -------------------------------------------------------------------------------------
    def action(self, name: str) -> QAction:
        """The action called ``name``: a tool name, "fill", "clear", "invert", "undo", "redo",
        "stamp", "save", "load" or "template:<name>"."""
        return self.actions_by_name[name]

    def set_fitter(self, fitter) -> None:
        """Fit templates with ``fitter`` (``fit(name) -> (fitted, message)`` and
        ``fit_all(name) -> message``), or only place them by hand (None)."""
        self._fitter = fitter
        for name in ("fit", "fit_all"):
            self.actions_by_name[name].setVisible(fitter is not None)
            if name in self.buttons:
                self.buttons[name].setVisible(fitter is not None)

    # -- the flow of buttons -------------------------------------------------------------------------
    def addAction(self, action: QAction) -> None:  # noqa: N802 (Qt naming)
        """Add ``action`` as a button of the flow (and as a widget action, for its shortcut)."""
        super().addAction(action)
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.flow.addWidget(button)
        for name, known in self.actions_by_name.items():
            if known is action:
                self.buttons[name] = button

    def addWidget(self, widget: QWidget) -> None:  # noqa: N802
        self.flow.addWidget(widget)

    def addSeparator(self) -> None:  # noqa: N802
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        line.setMinimumHeight(self.fontMetrics().height() + 6)
        self.flow.addWidget(line)

    # -- internals -------------------------------------------------------------------------------
    def _action(self, name, text, tip, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(self._context)
        if action.shortcut().toString():
            tip = f"{tip} [{action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}]" if "(" not in tip else tip
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: self._guard(slot))
        self.canvas.addAction(action)  # shortcuts active while the canvas has the focus
        self.actions_by_name[name] = action
        return action

    def _guard(self, slot) -> None:
        try:
            slot()
        except WorkbenchError as error:
            self.failed.emit(str(error))

    def _place(self, name: str) -> None:
        self._last_template = name
        if self._fitter is None:
            self._guard(lambda: self.canvas.place_template(name))
            return
        self._guard(lambda: self._fit_or_place(name))

    def _fit_or_place(self, name: str) -> None:
        fitted, message = self._fitter.fit(name)
        if not fitted:
            self.canvas.place_template(name)
        self.notice.emit(message)

    def _fit(self) -> None:
        item = self.canvas.template_item()
        name = item.name if item is not None else self._last_template
        self.canvas.cancel_template()
        self._fit_or_place(name)

    def _fit_all(self) -> None:
        self.notice.emit(self._fitter.fit_all(self._last_template))

    def _place_from_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Mask template", "", "PNG (*.png)")
        if path:
            self._place(path)

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save mask", "mask.png", "PNG (*.png)")
        if path:
            self._guard(lambda: self.canvas.save_mask(path))

    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", "", "PNG (*.png);;All files (*)")
        if path:
            self._guard(lambda: self.canvas.load_mask(path))

    def _sync_tool(self, name: str) -> None:
        action = self.actions_by_name.get(name)
        if action is not None:
            action.setChecked(True)
        else:  # the template tool has no button: uncheck all
            checked = self.tool_group.checkedAction()
            if checked is not None:
                self.tool_group.setExclusive(False)
                checked.setChecked(False)
                self.tool_group.setExclusive(True)

    def _sync_size(self, px: int) -> None:
        with QSignalBlocker(self.size_spin):
            self.size_spin.setValue(px)

    def _sync_history(self) -> None:
        self.actions_by_name["undo"].setEnabled(self.canvas.can_undo())
        self.actions_by_name["redo"].setEnabled(self.canvas.can_redo())

    def _sync_template(self, placed: bool) -> None:
        self.actions_by_name["stamp"].setEnabled(placed)

    def _restyle(self) -> None:
        f = theme.font()
        for button in self.findChildren(QToolButton):
            button.setFont(f)
        self.size_spin.setFont(f)
        self.size_label.setFont(f)
        self.template_button.setFont(f)


class FlowLayout(QLayout):
    """Lays widgets out left to right and wraps them onto new rows (after Qt's flow-layout
    example), so that the toolbar fits any width and any font size."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list = []
        self.setSpacing(spacing)
        self.setContentsMargins(2, 2, 2, 2)

    def addItem(self, item) -> None:  # noqa: N802
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        gap = self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and row_height > 0:
                x, y = area.x(), y + row_height + gap
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + gap
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()


def demo() -> QWidget:
    """The canvas under its toolbar, with a synthetic image and a drawn mask."""
    canvas = demo_canvas()
    container = QWidget()
    layout = QVBoxLayout(container)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(MaskToolbar(canvas))
    layout.addWidget(canvas, 1)
    container.canvas = canvas
    container.resize(640, 600)
    return container


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("MaskToolbar demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
