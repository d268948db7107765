"""The mask tools without Qt: press/move/release sequences in display coordinates → mask edits."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.core.mask_tools import (
    TOOLS,
    Brush,
    EllipseTool,
    Eraser,
    PolygonTool,
    RectangleTool,
    Surface,
    TemplateTool,
    Update,
    make_tool,
)
from workbench.core.masks import Ellipse, Mask, Polygon, Rect, Stroke

SIZE = (40, 30)  # display (width, height)


def surface(mask: Mask | None = None, *, radius: float = 2.0, screen_px: float = 1.0) -> Surface:
    mask = Mask() if mask is None else mask
    return Surface(mask, mask.draw(SIZE), SIZE, brush_radius=radius, screen_px=screen_px)


def run(tool, s: Surface, points, shift: bool = False) -> Update:
    """Press at the first point, move through the others, release at the last."""
    tool.press(s, points[0], shift=shift)
    for p in points[1:]:
        tool.move(s, p, shift=shift)
    return tool.release(s, points[-1], shift=shift)


def assert_edit_invariant(update: Update) -> None:
    """An edit's drawn mask is its vector mask drawn at display size (bool H×W)."""
    edit = update.edit
    assert edit is not None
    assert edit.drawn.dtype == bool and edit.drawn.shape == (SIZE[1], SIZE[0])
    np.testing.assert_array_equal(edit.drawn, edit.mask.draw(SIZE))


def test_registry_declares_every_tool_once_in_toolbar_order():
    assert TOOLS.ids() == ["brush", "eraser", "rectangle", "ellipse", "polygon", "template"]
    buttons = TOOLS.filter(lambda t: t.on_toolbar)
    assert [t.id for t in buttons] == ["brush", "eraser", "rectangle", "ellipse", "polygon"]
    shortcuts = [t.shortcut for t in buttons]
    assert shortcuts == ["B", "E", "R", "O", "P"] and len(set(shortcuts)) == len(shortcuts)
    for tool in TOOLS:
        assert tool.title and tool.hint and (tool.tip or not tool.on_toolbar)
    assert isinstance(make_tool("polygon"), PolygonTool) and make_tool("brush") is not make_tool("brush")
    with pytest.raises(ValueError, match="unknown tool 'lasso'.*brush"):
        make_tool("lasso")


def test_brush_paints_live_and_records_one_stroke():
    tool, s = Brush(), surface(radius=2.0)
    first = tool.press(s, (5.0, 5.0))
    np.testing.assert_array_equal(first.drawn, Stroke(((5, 5),), 2.0).draw(SIZE))  # a dot at once
    assert tool.pending()
    assert tool.move(s, (5.1, 5.1)).drawn is None  # too small a step: skipped
    tool.move(s, (20.0, 5.0))
    update = tool.release(s, (20.0, 15.0))
    assert not tool.pending()
    stroke = Stroke(((5, 5), (20, 5), (20, 15)), 2.0)
    assert update.edit.mask == Mask().add(stroke)
    np.testing.assert_array_equal(update.edit.drawn, stroke.draw(SIZE))
    assert_edit_invariant(update)


def test_brush_cancel_restores_the_mask_and_release_after_cancel_does_nothing():
    tool, s = Brush(), surface(Mask().add(Rect(0, 0, 4, 4)))
    tool.press(s, (20.0, 20.0))
    tool.move(s, (30.0, 20.0))
    cancelled = tool.cancel(s)
    np.testing.assert_array_equal(cancelled.drawn, s.drawn)
    assert not tool.pending() and tool.release(s, (30.0, 20.0)).edit is None
    assert Brush().cancel(s).drawn is None  # nothing in progress: nothing to restore


def test_eraser_subtracts_and_erasing_nothing_is_no_edit():
    full = Mask().fill()
    update = run(Eraser(), surface(full, radius=3.0), [(10.0, 10.0), (30.0, 10.0)])
    stroke = Stroke(((10, 10), (30, 10)), 3.0)
    assert update.edit.mask == full.subtract(stroke)
    np.testing.assert_array_equal(update.edit.drawn, ~stroke.draw(SIZE))
    assert_edit_invariant(update)
    assert run(Eraser(), surface(), [(10.0, 10.0), (30.0, 10.0)]).edit is None


@pytest.mark.parametrize("tool_type, shape_type", [(RectangleTool, Rect), (EllipseTool, Ellipse)])
def test_drag_shapes_preview_then_add(tool_type, shape_type):
    tool, s = tool_type(), surface()
    assert tool.press(s, (4.0, 6.0)).outline.shape == shape_type(4.0, 6.0, 0.0, 0.0)
    assert tool.move(s, (20.0, 16.0)).outline.shape == shape_type(4.0, 6.0, 16.0, 10.0)
    update = tool.release(s, (24.0, 20.0))
    assert update.outline is None and not tool.pending()
    assert update.edit.mask == Mask().add(shape_type(4.0, 6.0, 20.0, 14.0))
    assert_edit_invariant(update)


def test_rectangle_bits_upwards_drag_and_shift_square():
    update = run(RectangleTool(), surface(), [(12.0, 20.0), (2.0, 10.0)])  # up and left
    expected = np.zeros((SIZE[1], SIZE[0]), bool)
    expected[10:20, 2:12] = True
    np.testing.assert_array_equal(update.edit.drawn, expected)
    square = run(RectangleTool(), surface(), [(2.0, 2.0), (12.0, 6.0)], shift=True)
    assert square.edit.mask == Mask().add(Rect(2.0, 2.0, 10.0, 10.0))
    assert square.edit.drawn.sum() == 100


def test_shapes_that_add_nothing_are_no_edit():
    assert run(RectangleTool(), surface(), [(5.0, 5.0), (5.2, 9.0)]).edit is None  # thinner than half a pixel
    covered = surface(Mask().add(Rect(0, 0, 20, 20)))
    assert run(EllipseTool(), covered, [(2.0, 2.0), (12.0, 12.0)]).edit is None
    assert RectangleTool().release(surface(), (3.0, 3.0)).edit is None  # release without press
    assert RectangleTool().move(surface(), (3.0, 3.0)).outline is None


def test_polygon_closed_by_a_click_on_the_first_corner():
    tool, s = PolygonTool(), surface()
    corners = [(2.0, 2.0), (20.0, 2.0), (20.0, 20.0)]
    for p in corners:
        assert tool.press(s, p).edit is None
    hover = tool.move(s, (10.0, 25.0)).outline
    assert hover.points == (*corners, (10.0, 25.0)) and hover.marker == corners[0]
    update = tool.press(s, (3.0, 3.0))  # within 6 screen pixels of the first corner
    assert update.edit.mask == Mask().add(Polygon(tuple(corners)))
    assert_edit_invariant(update)
    assert not tool.pending()


def test_polygon_double_click_enter_and_backspace():
    tool, s = PolygonTool(), surface(screen_px=0.25)  # zoomed in: snapping within 1.5 display px
    tool.press(s, (2.0, 2.0))
    tool.press(s, (3.0, 2.0))  # 1 display px from the last corner: the same corner
    assert tool.move(s, (9.0, 9.0)).outline.points == ((2.0, 2.0), (9.0, 9.0))
    tool.press(s, (20.0, 2.0))
    update = tool.double_click(s, (20.0, 20.0))
    assert update.edit.mask == Mask().add(Polygon(((2, 2), (20, 2), (20, 20))))
    tool = PolygonTool()
    assert not tool.takes_key("enter") and tool.key(s, "enter") is None  # nothing to close
    for p in [(2.0, 2.0), (20.0, 2.0), (20.0, 20.0), (2.0, 20.0)]:
        tool.press(s, p)
    assert tool.takes_key("backspace") and not tool.takes_key("escape")
    assert tool.key(s, "backspace").outline.points == ((2, 2), (20, 2), (20, 20))
    update = tool.key(s, "enter")
    np.testing.assert_array_equal(update.edit.drawn, Polygon(((2, 2), (20, 2), (20, 20))).draw(SIZE))


def test_polygon_with_two_corners_or_cancelled_is_no_edit():
    tool, s = PolygonTool(), surface()
    tool.press(s, (2.0, 2.0))
    tool.press(s, (20.0, 2.0))
    assert tool.key(s, "enter").edit is None and not tool.pending()
    tool.press(s, (2.0, 2.0))
    tool.cancel(s)
    assert not tool.pending() and tool.move(s, (5.0, 5.0)).outline is None


def test_template_tool_leaves_the_mouse_to_the_template_item():
    tool, s = TemplateTool(), surface()
    assert tool.press(s, (1.0, 1.0)) is None and tool.move(s, (2.0, 2.0)) is None
    assert tool.release(s, (2.0, 2.0)) is None and tool.double_click(s, (2.0, 2.0)) is None
    assert not tool.on_toolbar and tool.pointer == "arrow" and not tool.pending()


@pytest.mark.parametrize("tool_id", ["brush", "eraser", "rectangle", "ellipse", "polygon"])
def test_every_edit_keeps_the_mask_invariant(tool_id):
    """Whatever the tool, the recorded mask is the previous mask with one more operation, and
    the drawn mask is exactly that mask drawn."""
    start = Mask().add(Rect(10, 5, 10, 10))
    s = surface(start)
    tool = make_tool(tool_id)
    points = [(4.0, 4.0), (30.0, 8.0), (26.0, 26.0)]
    if tool_id == "polygon":
        for p in points:
            tool.press(s, p)
        update = tool.key(s, "enter")
    else:
        update = run(tool, s, points)
    assert update.edit.mask.operations[:-1] == start.operations
    assert_edit_invariant(update)
