"""MaskCanvas and MaskToolbar driven with real mouse and keyboard events on the viewport."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from workbench.core.errors import DataLoadError, MaskError, WorkbenchError
from workbench.core.images import save_png
from workbench.core.masks import rasterize
from workbench.gui.widgets.canvas import MaskCanvas
from workbench.gui.widgets.canvas_toolbar import MaskToolbar

SIZE = 28
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture()
def canvas(qtbot):
    c = MaskCanvas()
    qtbot.addWidget(c)
    c.resize(520, 520)
    c.show()
    qtbot.waitExposed(c)
    c.set_image(np.linspace(0, 1, SIZE * SIZE, dtype=np.float32).reshape(SIZE, SIZE))
    return c


def at(canvas, x, y) -> QPoint:
    return canvas.model_to_viewport(x, y)


def drag(qtbot, canvas, points, button=LEFT, steps=4):
    """Press at the first model-coordinate point, move through the others, release."""
    vp = canvas.viewport()
    pts = [at(canvas, x, y) for x, y in points]
    qtbot.mousePress(vp, button, pos=pts[0])
    for a, b in zip(pts, pts[1:]):
        for i in range(1, steps + 1):
            qtbot.mouseMove(vp, a + (b - a) * (i / steps))
    qtbot.mouseRelease(vp, button, pos=pts[-1])


def click(qtbot, canvas, x, y):
    qtbot.mouseClick(canvas.viewport(), LEFT, pos=at(canvas, x, y))


def assert_region(mask, rows, cols, tolerance=1):
    """Ones in rows×cols (half-open ranges), zeros elsewhere, up to ``tolerance`` model
    pixels at the region's edges."""
    (r0, r1), (c0, c1) = rows, cols
    t = tolerance
    assert mask[r0 + t : r1 - t, c0 + t : c1 - t].min() == 1, "inside the region is not all mask"
    outside = mask.copy()
    outside[max(r0 - t, 0) : r1 + t, max(c0 - t, 0) : c1 + t] = 0
    assert outside.max() == 0, "mask outside the region"


def core_rasterized(canvas):
    return rasterize(canvas.current_mask(), canvas.display_size(), (SIZE, SIZE))[0, 0].numpy()


def test_rectangle_drawn_with_the_mouse(qtbot, canvas):
    canvas.set_tool("rectangle")
    with qtbot.waitSignal(canvas.maskChanged, timeout=1000):
        drag(qtbot, canvas, [(5, 6), (15, 20)])
    mask = canvas.model_mask()
    assert mask.dtype == np.float32 and mask.shape == (SIZE, SIZE)
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert_region(mask, (6, 20), (5, 15))
    assert abs(int(mask.sum()) - 14 * 10) <= 14 + 10  # at most one edge row/column off
    np.testing.assert_array_equal(mask, core_rasterized(canvas))  # the one rasterizer


def test_rectangle_drag_upwards_and_shift_square(qtbot, canvas):
    canvas.set_tool("rectangle")
    drag(qtbot, canvas, [(20, 20), (10, 12)])  # dragged up and left
    assert_region(canvas.model_mask(), (12, 20), (10, 20))
    canvas.clear()
    vp = canvas.viewport()
    qtbot.mousePress(vp, LEFT, Qt.KeyboardModifier.ShiftModifier, at(canvas, 2, 2))
    qtbot.mouseMove(vp, at(canvas, 12, 6))
    qtbot.mouseRelease(vp, LEFT, Qt.KeyboardModifier.ShiftModifier, at(canvas, 12, 6))
    assert_region(canvas.model_mask(), (2, 12), (2, 12))


def test_ellipse(qtbot, canvas):
    canvas.set_tool("ellipse")
    drag(qtbot, canvas, [(4, 4), (24, 24)])
    mask = canvas.model_mask()
    assert mask[14, 14] == 1 and mask[4, 4] == 0 and mask[23, 23] == 0
    assert abs(mask.sum() - np.pi * 10 * 10) < 25


def test_brush_stroke(qtbot, canvas):
    canvas.set_tool("brush")
    canvas.set_brush_size(3)
    with qtbot.waitSignal(canvas.maskChanged, timeout=1000):
        drag(qtbot, canvas, [(4.5, 10.5), (20.5, 10.5)], steps=8)
    mask = canvas.model_mask()
    assert mask[10, 5:21].min() == 1  # the stroke's pixels
    assert mask[9, 6:20].min() == 1 and mask[11, 6:20].min() == 1  # 3 pixels wide
    assert mask[:8].max() == 0 and mask[13:].max() == 0 and mask[:, 23:].max() == 0


def test_brush_click_makes_a_dot(qtbot, canvas):
    canvas.set_tool("brush")
    canvas.set_brush_size(1)
    click(qtbot, canvas, 7.5, 3.5)
    mask = canvas.model_mask()
    assert mask[3, 7] == 1 and mask.sum() <= 2


def test_eraser(qtbot, canvas):
    canvas.fill_all()
    canvas.set_tool("eraser")
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [(0.5, 14.5), (27.5, 14.5)], steps=10)
    mask = canvas.model_mask()
    assert mask[13:16].max() == 0
    assert mask[:12].min() == 1 and mask[17:].min() == 1


def test_polygon_closed_by_double_click(qtbot, canvas):
    canvas.set_tool("polygon")
    click(qtbot, canvas, 4, 4)
    click(qtbot, canvas, 24, 4)
    with qtbot.waitSignal(canvas.maskChanged, timeout=1000):
        qtbot.mouseDClick(canvas.viewport(), LEFT, pos=at(canvas, 14, 24))
    mask = canvas.model_mask()
    assert mask[8, 14] == 1 and mask[5, 6] == 1 and mask[20, 14] == 1
    assert mask[20, 5] == 0 and mask[20, 23] == 0 and mask[26, 14] == 0
    assert abs(mask.sum() - 0.5 * 20 * 20) < 30
    np.testing.assert_array_equal(mask, core_rasterized(canvas))


def test_polygon_closed_by_enter_and_cancelled_by_escape(qtbot, canvas):
    canvas.set_tool("polygon")
    for x, y in [(2, 2), (10, 2), (10, 10), (2, 10)]:
        click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert_region(canvas.model_mask(), (2, 10), (2, 10))
    for x, y in [(15, 15), (25, 15), (25, 25)]:
        click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.model_mask()[15:, 15:].max() == 0
    # A click on the first corner closes the polygon too.
    for x, y in [(15, 15), (25, 15), (25, 25), (15.05, 15.05)]:
        click(qtbot, canvas, x, y)
    assert canvas.model_mask()[18, 22] == 1 and canvas.model_mask()[22, 17] == 0


def test_fill_clear_invert(qtbot, canvas):
    signals = []
    canvas.maskChanged.connect(lambda: signals.append(1))
    canvas.fill_all()
    assert canvas.model_mask().min() == 1
    canvas.clear()
    assert canvas.model_mask().max() == 0
    canvas.set_tool("rectangle")
    drag(qtbot, canvas, [(0, 0), (14, 28)])
    canvas.invert()
    assert_region(canvas.model_mask(), (0, 28), (14, 28), tolerance=0)
    assert len(signals) == 4


def test_undo_redo_by_method_and_keyboard(qtbot, canvas):
    canvas.set_tool("rectangle")
    drag(qtbot, canvas, [(2, 2), (8, 8)])
    first = canvas.model_mask()
    drag(qtbot, canvas, [(12, 12), (20, 20)])
    both = canvas.model_mask()
    assert both.sum() > first.sum()
    canvas.undo()
    np.testing.assert_array_equal(canvas.model_mask(), first)
    canvas.redo()
    np.testing.assert_array_equal(canvas.model_mask(), both)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(canvas.model_mask(), first)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert canvas.model_mask().max() == 0 and not canvas.can_undo()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(canvas.model_mask(), first)
    canvas.invert()  # a new edit drops the redo branch
    assert not canvas.can_redo()


def test_set_image_resets_undo_and_set_mask_round_trips(qtbot, canvas):
    rng = np.random.default_rng(0)
    stored = (rng.random((SIZE, SIZE)) > 0.7).astype(np.float32)
    signals = []
    canvas.maskChanged.connect(lambda: signals.append(1))
    canvas.set_mask(stored)
    np.testing.assert_array_equal(canvas.model_mask(), stored)
    canvas.set_mask(torch.from_numpy(stored)[None, None])
    np.testing.assert_array_equal(canvas.model_mask(), stored)
    assert not canvas.can_undo() and signals == []  # restoring state is not an edit
    canvas.set_mask(None)
    assert canvas.model_mask().max() == 0
    with pytest.raises(MaskError):
        canvas.set_mask(np.zeros((5, 5)))
    canvas.fill_all()
    assert canvas.can_undo()
    canvas.set_image(np.zeros((SIZE, SIZE, 3), np.uint8))
    assert not canvas.can_undo()
    # Another size: a new empty mask and a new display scale.
    canvas.set_image(np.zeros((3, 40, 60), np.float32))
    assert canvas.model_mask().shape == (40, 60) and canvas.model_mask().max() == 0
    assert canvas.display_size() == (60 * canvas.scale_factor(), 40 * canvas.scale_factor())


def test_non_square_colour_image(qtbot, canvas):
    canvas.set_image(np.random.default_rng(1).random((40, 60, 3)).astype(np.float32))
    canvas.set_tool("rectangle")
    drag(qtbot, canvas, [(10, 5), (50, 30)])
    mask = canvas.model_mask()
    assert mask.shape == (40, 60)
    assert_region(mask, (5, 30), (10, 50))


def test_save_and_load_png_round_trip(qtbot, canvas, tmp_path):
    canvas.set_tool("ellipse")
    drag(qtbot, canvas, [(3, 5), (21, 25)])
    drawn = canvas.model_mask()
    path = tmp_path / "mask.png"
    canvas.save_mask(path)
    assert path.is_file()
    canvas.clear()
    with qtbot.waitSignal(canvas.maskChanged, timeout=1000):
        canvas.load_mask(path)
    np.testing.assert_array_equal(canvas.model_mask(), drawn)
    canvas.undo()  # loading is an undoable edit
    assert canvas.model_mask().max() == 0


def test_bad_mask_files_raise_readable_errors(qtbot, canvas, tmp_path):
    canvas.fill_all()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataLoadError) as error:
        canvas.load_mask(bad)
    assert "bad.png" in str(error.value)
    with pytest.raises(WorkbenchError):
        canvas.load_mask(tmp_path / "missing.png")
    wide = tmp_path / "wide.png"
    save_png(wide, np.ones((10, 40), dtype=np.float32))
    with pytest.raises(MaskError, match="aspect ratio"):  # would be stretched: refused
        canvas.load_mask(wide)
    with pytest.raises(WorkbenchError) as error:
        canvas.save_mask(tmp_path / "no-such-folder" / "mask.png")
    assert "does not exist" in str(error.value)
    assert canvas.model_mask().min() == 1  # the mask is untouched


def test_no_image_is_an_error_not_a_crash(qtbot):
    c = MaskCanvas()
    qtbot.addWidget(c)
    assert c.model_mask() is None
    with pytest.raises(WorkbenchError):
        c.fill_all()
    with pytest.raises(WorkbenchError):
        c.place_template("eyeglasses")


def test_template_placed_moved_scaled_and_stamped(qtbot, canvas):
    canvas.place_template("sticker-square")
    item = canvas.template_item()
    assert canvas.has_template() and canvas.tool() == "template"
    before = item.scene_rect()
    k = canvas.scale_factor()
    # Drag the sticker by its middle 6 model pixels to the right and 4 down, with the mouse.
    centre = before.center()
    start = QPointF(centre.x() / k, centre.y() / k)
    drag(qtbot, canvas, [(start.x(), start.y()), (start.x() + 6, start.y() + 4)])
    moved = item.scene_rect()
    assert moved.left() - before.left() == pytest.approx(6 * k, abs=k / 2)
    assert moved.top() - before.top() == pytest.approx(4 * k, abs=k / 2)
    # Scale it with the wheel over it.
    pos = canvas.mapFromScene(moved.center())
    wheel = QWheelEvent(QPointF(pos), QPointF(canvas.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas.viewport(), wheel)
    scaled = item.scene_rect()
    assert scaled.width() == pytest.approx(moved.width() * 1.21, rel=0.01)
    assert canvas.model_mask().max() == 0  # nothing stamped yet
    with qtbot.waitSignal(canvas.maskChanged, timeout=1000):
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not canvas.has_template()
    mask = canvas.model_mask()
    r = scaled
    rows = (round(r.top() / k), round(r.bottom() / k))
    cols = (round(r.left() / k), round(r.right() / k))
    assert_region(mask, rows, cols)


def test_eyeglasses_template_and_cancel(qtbot, canvas):
    canvas.place_template("eyeglasses")
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.has_template() and canvas.model_mask().max() == 0
    canvas.place_template("eyeglasses")
    canvas.apply_template()
    mask = canvas.model_mask()
    assert 20 < mask.sum() < 300
    rows = np.nonzero(mask.any(axis=1))[0]
    assert rows.min() > 2 and rows.max() < 20  # across the upper half, like glasses on a face
    with pytest.raises(WorkbenchError):
        canvas.place_template("no-such-template")


def test_zoom_and_pan_do_not_edit(qtbot, canvas):
    canvas.set_tool("brush")
    scale = canvas.transform().m11()
    pos = QPointF(canvas.viewport().rect().center())
    wheel = QWheelEvent(pos, QPointF(canvas.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas.viewport(), wheel)
    assert canvas.transform().m11() == pytest.approx(scale * 1.2)
    before = canvas.model_to_viewport(10, 10)
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=QPoint(200, 200))
    qtbot.mouseMove(vp, QPoint(240, 220))
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=QPoint(240, 220))
    after = canvas.model_to_viewport(10, 10)
    assert (after - before) == QPoint(40, 20)
    assert canvas.model_mask().max() == 0 and not canvas.can_undo()
    qtbot.keyClick(canvas, Qt.Key.Key_0)
    assert canvas.transform().m11() == pytest.approx(scale)


def test_toolbar_buttons_and_shortcuts(qtbot, canvas):
    bar = MaskToolbar(canvas)
    qtbot.addWidget(bar)
    bar.show()
    assert bar.action("brush").isChecked()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_R)
    assert canvas.tool() == "rectangle" and bar.action("rectangle").isChecked()
    qtbot.mouseClick(bar.buttons["ellipse"], LEFT)
    assert canvas.tool() == "ellipse"
    assert not bar.action("undo").isEnabled()
    qtbot.mouseClick(bar.buttons["fill"], LEFT)
    assert canvas.model_mask().min() == 1 and bar.action("undo").isEnabled()
    qtbot.mouseClick(bar.buttons["undo"], LEFT)
    assert canvas.model_mask().max() == 0 and bar.action("redo").isEnabled()
    bar.size_spin.setValue(7)
    assert canvas.brush_size() == 7
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert bar.size_spin.value() == 8
    errors = []
    bar.failed.connect(errors.append)
    bar._place("/no/such/template.png")
    assert errors and "template" in errors[0]


def test_canvas_modules_import_no_cycle():
    """The canvas, its parts and its toolbar import each other one way only (the combined demo
    lives in the toolbar's module)."""
    import grimp

    graph = grimp.build_graph("workbench")
    names = ["canvas", "canvas_toolbar", "canvas_tools", "canvas_view", "mask_layers", "mask_template"]
    modules = [f"workbench.gui.widgets.{name}" for name in names]
    for a in modules:
        for b in modules:
            if a < b:
                assert not (graph.chain_exists(a, b) and graph.chain_exists(b, a)), f"{a} and {b} import each other"


def test_tool_keys_are_the_tools_declared_shortcuts(qtbot, canvas):
    canvas.setFocus()
    for key, name in [(Qt.Key.Key_E, "eraser"), (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_O, "ellipse"), (Qt.Key.Key_B, "brush")]:
        qtbot.keyClick(canvas, key)
        assert canvas.tool() == name
    with pytest.raises(ValueError, match="unknown tool"):
        canvas.set_tool("lasso")
