"""Mask tools: what the mouse does on the mask canvas, as small Qt-free objects.

A tool turns pointer events in *display coordinates* (see :mod:`workbench.core.masks`) into
edits of a :class:`~workbench.core.masks.Mask`. The canvas holds the current tool and forwards
the left button's press, moves (also without a button, for hover feedback), release and
double click, and the keys Enter and Backspace; each call gets a :class:`Surface` (the mask
as it is now) and returns an :class:`Update`: a live display mask to show (brush, eraser), an
outline to preview (rectangle, ellipse, polygon) and, when an edit is complete, the
:class:`Edit` to record. A tool that returns None does not handle the event (the template tool
leaves its events to the template item on the canvas).

Adding a tool = one class with its declaration (``id``, ``title``, ``shortcut``, ``tip``,
``hint``) registered in :data:`TOOLS`; the toolbar makes its button and the canvas its key.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core.masks import Ellipse, Mask, Polygon, Rect, Stroke
from workbench.core.registry import Registry

Point = tuple[float, float]
MIN_STEP = 0.25  # a brush point closer than this (|dx| + |dy|, display pixels) to the last is skipped
SNAP_SCREEN_PX = 6.0  # a polygon click this close (screen pixels) to a corner hits the corner
MARKER_SCREEN_PX = 4.0  # radius of the marker on a polygon's first corner


@dataclass(frozen=True)
class Surface:
    """The mask a tool edits, as it is when the event arrives: ``mask`` (vector), ``drawn``
    (the same mask at display size, H×W bool), ``size`` = (width, height), the brush radius and
    the size of one screen pixel, both in display pixels."""

    mask: Mask
    drawn: np.ndarray
    size: tuple[int, int]
    brush_radius: float = 1.0
    screen_px: float = 1.0


@dataclass(frozen=True)
class Edit:
    """A completed edit: the new mask and, for speed, the same mask drawn at display size."""

    mask: Mask
    drawn: np.ndarray


@dataclass(frozen=True)
class Outline:
    """The preview of an edit in progress: a shape (``Rect``/``Ellipse``) or an open path
    through ``points``, and a round ``marker`` of radius ``marker_radius`` (display pixels)."""

    shape: Rect | Ellipse | None = None
    points: tuple[Point, ...] = ()
    marker: Point | None = None
    marker_radius: float = 0.0


@dataclass(frozen=True)
class Update:
    """What the canvas should do after an event: show ``drawn`` (when not None) as the display
    mask, show ``outline`` (None: no preview) and record ``edit`` (when not None)."""

    drawn: np.ndarray | None = None
    outline: Outline | None = None
    edit: Edit | None = None


class MaskTool:
    """The protocol, with "do nothing" defaults. A tool keeps the state of the edit in progress
    between its calls; :meth:`cancel` drops it."""

    id = ""
    title = ""
    shortcut = ""  # one key, e.g. "B"; "" = none
    tip = ""  # the toolbar button's tooltip
    hint = ""  # the one-line help the canvas shows while the tool is chosen
    on_toolbar = True  # whether the toolbar shows a button for it
    shows_brush = False  # whether the canvas shows the brush outline under the mouse
    pointer = "cross"  # the mouse pointer over the canvas: "cross" or "arrow"

    def press(self, surface: Surface, point: Point, *, shift: bool = False) -> Update | None:
        """The left button went down at ``point``; ``shift``: Shift is held."""
        return Update()

    def move(self, surface: Surface, point: Point, *, shift: bool = False) -> Update | None:
        """The mouse moved to ``point`` (with or without a button)."""
        return Update()

    def release(self, surface: Surface, point: Point, *, shift: bool = False) -> Update | None:
        """The left button went up at ``point``."""
        return Update()

    def double_click(self, surface: Surface, point: Point, *, shift: bool = False) -> Update | None:
        """A double click: by default the second press of it."""
        return self.press(surface, point, shift=shift)

    def key(self, surface: Surface, name: str) -> Update | None:
        """The key ``name`` ("enter" or "backspace"); None when the tool does not use it now."""
        return None

    def cancel(self, surface: Surface) -> Update:
        """Drop the edit in progress (Escape, another tool, another image)."""
        return Update()

    def pending(self) -> bool:
        """Whether an edit is in progress (Escape then cancels it rather than anything else)."""
        return False

    def takes_key(self, name: str) -> bool:
        """Whether :meth:`key` would use the key ``name`` now (it then wins over shortcuts)."""
        return False


TOOLS: Registry[type[MaskTool]] = Registry("mask tool")


def _added(surface: Surface, shape) -> Update:
    """The edit that adds ``shape``, or no edit when it adds no pixel."""
    layer = shape.draw(surface.size)
    if not (layer & ~surface.drawn).any():
        return Update()
    return Update(edit=Edit(surface.mask.add(shape), surface.drawn | layer))


def _far(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) + abs(a[1] - b[1]) > MIN_STEP


@TOOLS.register
class Brush(MaskTool):
    """Paint a stroke: live feedback segment by segment, one undoable stroke on release."""

    id, title, shortcut = "brush", "Brush", "B"
    tip = "Paint the mask (drag); [ and ] change the size"
    hint = "Brush: drag to paint  ·  [ ] size  ·  wheel zoom, right-drag pan"
    shows_brush = True
    erases = False

    def __init__(self) -> None:
        self._points: list[Point] = []
        self._base: np.ndarray | None = None
        self._drawn: np.ndarray | None = None

    def press(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        self._points = [point]
        self._base = surface.drawn.copy()
        self._drawn = surface.drawn
        return self._paint(surface, point, point)

    def move(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if self._base is None or not _far(point, self._points[-1]):
            return Update()
        self._points.append(point)
        return self._paint(surface, self._points[-2], point)

    def release(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if self._base is None:
            return Update()
        painted = self.move(surface, point)
        drawn = self._drawn if painted.drawn is None else painted.drawn
        stroke = Stroke(tuple(self._points), surface.brush_radius)
        new = surface.mask.subtract(stroke) if self.erases else surface.mask.add(stroke)
        unchanged = np.array_equal(drawn, self._base)  # e.g. erasing where there was no mask
        self._reset()
        return Update(drawn=drawn, edit=None if unchanged else Edit(new, drawn))

    def cancel(self, surface: Surface) -> Update:
        base = self._base
        self._reset()
        return Update(drawn=base)

    def pending(self) -> bool:
        return self._base is not None

    def _paint(self, surface: Surface, a: Point, b: Point) -> Update:
        layer = Stroke((a, b), surface.brush_radius).draw(surface.size)
        self._drawn = self._drawn & ~layer if self.erases else self._drawn | layer
        return Update(drawn=self._drawn)

    def _reset(self) -> None:
        self._points, self._base, self._drawn = [], None, None


@TOOLS.register
class Eraser(Brush):
    """The brush that removes: its stroke is subtracted from the mask."""

    id, title, shortcut = "eraser", "Eraser", "E"
    tip = "Erase the mask (drag)"
    hint = "Eraser: drag to erase  ·  [ ] size"
    erases = True


@TOOLS.register
class RectangleTool(MaskTool):
    """Drag a rectangle from corner to corner (Shift: a square); added on release."""

    id, title, shortcut = "rectangle", "Rectangle", "R"
    tip = "Add a rectangle (drag; Shift: square)"
    hint = "Rectangle: drag  ·  Shift: square"
    shape_type: type = Rect

    def __init__(self) -> None:
        self._start: Point | None = None

    def press(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        self._start = point
        return Update(outline=Outline(self._shape(point, shift)))

    def move(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if self._start is None:
            return Update()
        return Update(outline=Outline(self._shape(point, shift)))

    def release(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if self._start is None:
            return Update()
        shape = self._shape(point, shift)
        self._start = None
        if abs(shape.width) < 0.5 or abs(shape.height) < 0.5:
            return Update()
        return _added(surface, shape)

    def cancel(self, surface: Surface) -> Update:
        self._start = None
        return Update()

    def pending(self) -> bool:
        return self._start is not None

    def _shape(self, end: Point, square: bool):
        (x, y), (ex, ey) = self._start, end
        dx, dy = ex - x, ey - y
        if square:
            side = max(abs(dx), abs(dy))
            dx, dy = float(np.copysign(side, dx)), float(np.copysign(side, dy))
        return self.shape_type(x, y, dx, dy)


@TOOLS.register
class EllipseTool(RectangleTool):
    """Drag the ellipse's bounding box (Shift: a circle); added on release."""

    id, title, shortcut = "ellipse", "Ellipse", "O"
    tip = "Add an ellipse (drag; Shift: circle)"
    hint = "Ellipse: drag  ·  Shift: circle"
    shape_type = Ellipse


@TOOLS.register
class PolygonTool(MaskTool):
    """Click the corners; a click on the first corner, a double click or Enter closes the
    polygon (added to the mask), Backspace removes the last corner."""

    id, title, shortcut = "polygon", "Polygon", "P"
    tip = "Add a polygon: click its corners; double-click or Enter closes it"
    hint = "Polygon: click corners  ·  double-click or Enter closes  ·  Esc cancels"

    def __init__(self) -> None:
        self._points: list[Point] = []
        self._hover: Point | None = None

    def press(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if len(self._points) >= 3 and self._near(surface, point, self._points[0]):
            return self._close(surface)
        if not self._points or not self._near(surface, point, self._points[-1]):
            self._points.append(point)
        return Update(outline=self._outline(surface))

    def move(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        self._hover = point
        return Update(outline=self._outline(surface)) if self._points else Update()

    def double_click(self, surface: Surface, point: Point, *, shift: bool = False) -> Update:
        if not self._points or not self._near(surface, point, self._points[-1]):
            self._points.append(point)
        return self._close(surface)

    def key(self, surface: Surface, name: str) -> Update | None:
        if not self.takes_key(name):
            return None
        if name == "enter":
            return self._close(surface)
        self._points.pop()
        return Update(outline=self._outline(surface))

    def cancel(self, surface: Surface) -> Update:
        self._points = []
        return Update()

    def pending(self) -> bool:
        return bool(self._points)

    def takes_key(self, name: str) -> bool:
        return bool(self._points) and name in ("enter", "backspace")

    def _close(self, surface: Surface) -> Update:
        points, self._points = tuple(self._points), []
        return _added(surface, Polygon(points)) if len(points) >= 3 else Update()

    def _outline(self, surface: Surface) -> Outline | None:
        if not self._points:
            return None
        path = (*self._points, self._hover) if self._hover is not None else tuple(self._points)
        return Outline(points=path, marker=self._points[0], marker_radius=MARKER_SCREEN_PX * surface.screen_px)

    @staticmethod
    def _near(surface: Surface, a: Point, b: Point) -> bool:
        return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 <= SNAP_SCREEN_PX * surface.screen_px


@TOOLS.register
class TemplateTool(MaskTool):
    """A placed template (eyeglass frame, sticker) is moved and scaled by its own item on the
    canvas, which gets the mouse events: this tool handles none of them."""

    id, title = "template", "Template"
    hint = "Template: drag to move  ·  wheel or corner to scale  ·  Enter stamps, Esc cancels"
    on_toolbar = False
    pointer = "arrow"

    def press(self, surface: Surface, point: Point, *, shift: bool = False) -> None:
        return None

    def move(self, surface: Surface, point: Point, *, shift: bool = False) -> None:
        return None

    def release(self, surface: Surface, point: Point, *, shift: bool = False) -> None:
        return None

    def double_click(self, surface: Surface, point: Point, *, shift: bool = False) -> None:
        return None


def make_tool(tool_id: str) -> MaskTool:
    """A new tool object of the registered ``tool_id``; ValueError names the known ones."""
    if tool_id not in TOOLS:
        raise ValueError(f"unknown tool '{tool_id}' (tools: {', '.join(TOOLS.ids())})")
    return TOOLS.get(tool_id)()

