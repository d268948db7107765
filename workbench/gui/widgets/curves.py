"""``ConfidenceCurves``: how an attack progresses, in three stacked plots with a shared x axis.

1. probabilities of the true class, the target class (targeted attacks) and the strongest
   other class — the attack has succeeded where red rises above green (or orange wins);
   each plot's title doubles as its legend (names in the curves' colours);
2. the attack's loss;
3. the perturbation's size: L∞ (left axis), L2 (first right axis) and L0 in pixels (second
   right axis), each axis coloured like its curve.

The widget holds no history of its own beyond what it shows: :meth:`set_history` gets the full
arrays every time (the application's run wrapper keeps them, because the worker drops
intermediate events) and copies them into preallocated buffers that grow by doubling, then
updates the curves with ``setData``.

It is drawn live, several times a second, so a redraw must cost little (ARCHITECTURE.md, "The
GUI"): the three plots and their titles share one ``GraphicsLayoutWidget`` (one paint per frame,
one grid that keeps the x axes aligned), and the axes stay put while a run grows, so that they
are neither re-ticked nor repainted for every new point:

- the x range is the run's length when the caller knows it (:meth:`set_x_extent`), otherwise it
  grows in round steps;
- the y ranges of the loss and the norms grow in round steps (:func:`nice_ceil`) and only while
  a history continues the one shown (a new run, or a past one, is fitted afresh); norms and L0
  always start at 0, probabilities always span [0, 1];
- axes are cached as pixmaps (grid lines included), repainted only when their ticks change.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsTextItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme

_KEYS = ("iteration", "p_true", "p_target", "p_other", "loss", "linf", "l2", "l0")

#: Mantissas of the round numbers that ranges grow to (1, 2, 5 × 10^k): coarse, so that an axis
#: changes a few times per run (each change re-ticks and repaints it), and its labels stay round.
NICE_STEPS = (1.0, 2.0, 5.0, 10.0)

#: The y ranges shown before a series has non-zero values.
_DEFAULT_RANGES = {"loss": (0.0, 1.0), "linf": (0.0, 0.1), "l2": (0.0, 1.0), "l0": (0.0, 100.0)}

_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


def nice_ceil(value: float) -> float:
    """The smallest round number (:data:`NICE_STEPS` × 10^k) ≥ ``value`` > 0, e.g. 0.0734 →
    0.1, 0.1 → 0.1, 137 → 200; 0 for a value ≤ 0 or not finite."""
    if not math.isfinite(value) or value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value))
    for _ in range(2):  # log10 may round to the decade below or above
        base = 10.0**exponent
        for step in NICE_STEPS:
            candidate = step * base
            if candidate >= value * (1 - 1e-6):  # float32 noise: 0.10000002 → 0.1
                # round away float noise: 3 × 0.01 → 0.03, not 0.030000000000000002
                return float(f"{candidate:.12g}")
        exponent += 1
    return float(value)  # pragma: no cover - unreachable


def _extent(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, None if there are none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


class _Title(pg.GraphicsWidget):
    """A plot's title: rich text, centred, wrapped to the width it gets (so that it stays
    readable at presentation sizes); its height follows the text."""

    def __init__(self) -> None:
        super().__init__()
        self._html = ""
        self.item = QGraphicsTextItem(self)
        self.item.document().setDocumentMargin(2)
        option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        self.item.document().setDefaultTextOption(option)
        self.item.setCacheMode(_CACHED)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._html

    def setText(self, html: str) -> None:  # like QLabel
        if html != self._html:
            self._html = html
            self.item.setHtml(html)
            self._fit()

    def setFont(self, font) -> None:  # Qt API
        self.item.setFont(font)
        # A text item's font change does not renew its cached pixmap, which then paints
        # nothing until something else repaints it (a resize): renew it now.
        self.item.update()
        self._fit()

    def resizeEvent(self, event) -> None:  # Qt API
        self._fit()

    def _fit(self) -> None:
        width = self.size().width()
        if width > 1 and abs(self.item.textWidth() - width) > 0.5:
            self.item.setTextWidth(width)
        height = math.ceil(self.item.boundingRect().height())
        if height != self.minimumHeight():
            self.setMinimumHeight(height)
            self.setMaximumHeight(height)
            self.updateGeometry()


class _Axis(pg.AxisItem):
    """An axis cached as a pixmap (grid lines included) that keeps its end labels and never
    lets labels overlap.

    pyqtgraph hides a tick label that reaches past the axis (with the grid on, past the plot),
    which drops the labels at the ends — often the ones that matter, "0" and "0.1" (= ε) — so
    the axis claims ``overhang`` pixels beyond its ends. And it always labels at least three
    major ticks, which overlap on a short axis in large type; here the major spacing grows
    (1, 2, 5 × 10^k) until the labels fit, and the former major ticks become minor ones (their
    grid lines stay)."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.overhang = 0
        self.setCacheMode(_CACHED)

    def set_overhang(self, pixels: int) -> None:
        if pixels != self.overhang:
            self.prepareGeometryChange()
            self.overhang = pixels
            self.picture = None
            self.update()

    def boundingRect(self) -> QRectF:  # Qt API
        rect = super().boundingRect()
        m = self.overhang
        return rect.adjusted(0, -m, 0, m) if self.orientation in ("left", "right") else rect.adjusted(-m, 0, m, 0)

    def tickValues(self, minVal, maxVal, size):  # pyqtgraph API
        levels = super().tickValues(minVal, maxVal, size)
        if not levels or not self.style["showValues"] or len(levels[0][1]) < 3:
            return levels
        spacing, values = levels[0]
        values = list(values)
        metrics = QFontMetricsF(self.style["tickFont"] or theme.font())
        if self.orientation in ("left", "right"):
            extent = metrics.height() * 1.15
        else:
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            extent = max(metrics.horizontalAdvance(text) for text in strings) + metrics.horizontalAdvance("  ")
        room = max(2, int(size / extent) + 1)  # labels that fit along the axis
        if len(values) <= room:
            return levels
        # Coarser round spacings (1, 2, 5 × 10^k) until the labels fit; the former major ticks
        # stay as minor ones (grid lines without labels).
        low, high = min(minVal, maxVal), max(minVal, maxVal)
        step = spacing
        while True:
            exponent = math.floor(math.log10(step))
            mantissa = step / 10.0**exponent
            step = next((m for m in (2.0, 5.0, 10.0) if m > mantissa + 1e-9), 10.0) * 10.0**exponent
            first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
            kept = [float(f"{k * step:.12g}") for k in range(first, last + 1)]
            if len(kept) <= room or len(kept) <= 2:
                break
        minor = [v for v in values if not any(math.isclose(v, k, abs_tol=step * 1e-6) for k in kept)]
        return [(step, kept), (spacing, minor)]


class ConfidenceCurves(QWidget):
    """Three stacked plots of an attack's history (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None, *, x_label: str = "iteration") -> None:
        super().__init__(parent)
        self._n = 0
        self._capacity = 0
        self._buffers: dict[str, np.ndarray] = {}
        self._target_shown = False
        self._x_label = x_label
        self._x_key = "iteration"
        self._x_extent: float | None = None
        # the shown ranges: x top, and (low, high) per y series; None = nothing to fit yet
        self._x_top: float | None = None
        self._y: dict[str, tuple[float, float] | None] = {"loss": None, "linf": None, "l2": None, "l0": None}
        self._ranges_shown: dict[str, tuple[float, float]] = {}
        self._widths: tuple[int, int, int] | None = None
        self._text_widths: dict[str, float] = {}
        self._antialias = bool(pg.getConfigOption("antialias"))  # as the curves are created

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setMinimumHeight(3 * 90)
        layout.addWidget(self.view)
        grid = self.view.ci
        grid.setContentsMargins(2, 0, 2, 2)
        grid.layout.setVerticalSpacing(0)
        grid.layout.setHorizontalSpacing(0)

        # One title (which doubles as the legend) above each plot, all in one scene.
        self.titles: list[_Title] = []
        self.plots: tuple[pg.PlotItem, ...] = ()
        plots = []
        for row, stretch in enumerate((4, 3, 5)):  # the last one holds the x axis too
            title = _Title()
            plot = pg.PlotItem(enableMenu=False, axisItems={side: _Axis(side) for side in ("left", "bottom", "right")})
            grid.addItem(title, row=2 * row, col=0)
            grid.addItem(plot, row=2 * row + 1, col=0)
            grid.layout.setRowStretchFactor(2 * row, 0)
            grid.layout.setRowStretchFactor(2 * row + 1, stretch)
            plot.setMinimumHeight(70)
            self.titles.append(title)
            plots.append(plot)
        self.prob_plot, self.loss_plot, self.norm_plot = plots
        self.plots = tuple(plots)
        for plot in self.plots:
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.getViewBox().enableAutoRange(enable=False)
            plot.hideButtons()
            plot.showAxis("right")
            plot.getAxis("right").setStyle(showValues=False)
            plot.layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.prob_plot, self.loss_plot):
            plot.getAxis("bottom").setStyle(showValues=False)  # x values under the last plot only
            # The right edge is a plain frame line: not linked to the plot, it never re-ticks.
            frame = plot.getAxis("right")
            frame.unlinkFromView()
            frame.setTicks([[], []])
        self.loss_plot.setXLink(self.prob_plot)
        self.norm_plot.setXLink(self.prob_plot)

        # Curves follow pyqtgraph's global antialias option (the application turns it on),
        # except while a run is drawn live (set_history(live=True)). Thinned to ~5 points per
        # pixel column ("peak": extremes kept) for very long runs.
        def curve(plot_or_box, color, name, dash=False):
            item = pg.PlotDataItem(name=name, autoDownsample=True, downsampleMethod="peak")
            item.setProperty("color", color)
            item.setProperty("dash", dash)
            plot_or_box.addItem(item)
            return item

        self.curve_true = curve(self.prob_plot, theme.COLOR_TRUE, "true class")
        self.curve_target = curve(self.prob_plot, theme.COLOR_TARGET, "target class", dash=True)
        self.curve_other = curve(self.prob_plot, theme.COLOR_OTHER, "strongest other class")

        self.curve_loss = curve(self.loss_plot, theme.COLOR_LOSS, "loss")

        # Norms: L∞ on the plot's own axis, L2 and L0 in view boxes of their own, stacked on it
        # (pyqtgraph's multiple-axes recipe), so each scale stays readable.
        self.curve_linf = curve(self.norm_plot, theme.COLOR_LINF, "L∞")
        self.l2_box = pg.ViewBox(enableMenu=False)
        self.l0_box = pg.ViewBox(enableMenu=False)
        self.view.scene().addItem(self.l2_box)
        self.view.scene().addItem(self.l0_box)
        right = self.norm_plot.getAxis("right")
        right.setStyle(showValues=True)
        right.linkToView(self.l2_box)
        self.l0_axis = _Axis("right")
        self.l0_axis.linkToView(self.l0_box)
        self.l0_axis.setZValue(-10000)
        self.norm_plot.layout.addItem(self.l0_axis, 2, 3)
        for box in (self.l2_box, self.l0_box):
            box.setXLink(self.norm_plot)
            box.setMouseEnabled(x=False, y=False)
            box.enableAutoRange(enable=False)
        self.curve_l2 = curve(self.l2_box, theme.COLOR_L2, "L2")
        self.curve_l0 = curve(self.l0_box, theme.COLOR_L0, "L0 (pixels)", dash=True)
        self.norm_plot.getViewBox().sigResized.connect(self._sync_boxes)

        # Keep the three x axes aligned: same axis widths, and an empty spacer axis where the
        # norm plot has its second right axis.
        self._spacers = []
        for plot in (self.prob_plot, self.loss_plot):
            spacer = pg.AxisItem("right")
            spacer.setStyle(showValues=False)
            spacer.setPen(pg.mkPen(None))
            plot.layout.addItem(spacer, 2, 3)
            self._spacers.append(spacer)

        self._curves = {
            "p_true": self.curve_true, "p_target": self.curve_target, "p_other": self.curve_other,
            "loss": self.curve_loss, "linf": self.curve_linf, "l2": self.curve_l2, "l0": self.curve_l0,
        }
        self._empty = set(self._curves)
        self._y_views = {
            "loss": self.loss_plot.getViewBox(), "linf": self.norm_plot.getViewBox(),
            "l2": self.l2_box, "l0": self.l0_box,
        }
        self._y_axes = {
            "loss": self.loss_plot.getAxis("left"), "linf": self.norm_plot.getAxis("left"),
            "l2": self.norm_plot.getAxis("right"), "l0": self.l0_axis,
        }
        self.prob_plot.setYRange(0.0, 1.0, padding=0.08)
        self.prob_plot.getAxis("left").setTicks(
            [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(0.25, ""), (0.75, "")]]
        )
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._apply_ranges()

    # -- API -------------------------------------------------------------------------------------
    def set_history(self, history: Mapping[str, np.ndarray], *, live: bool = False) -> None:
        """Show a run's history: arrays of equal length keyed "iteration", "p_true",
        "p_target" (optional; absent, None or all-NaN for an untargeted attack), "p_other",
        "loss", "linf", "l2", "l0". Missing keys leave their curve empty; NaN leaves a gap.

        The x values come from the series chosen with :meth:`set_x_series` ("iteration" unless
        said otherwise). A history that continues the one shown (the same run, more iterations)
        keeps the axes where they are unless the new points leave them; any other one is
        fitted afresh.
        ``live``: a run in progress, redrawn several times a second; its curves are drawn
        without antialiasing (about half the cost of a frame), a finished run's with it."""
        key = self._x_key if history.get(self._x_key) is not None else "iteration"
        if history.get(key) is None:
            raise ValueError("history needs an 'iteration' array")
        x = np.asarray(history[key], dtype=np.float64).reshape(-1)
        n = x.size
        columns: dict[str, np.ndarray | None] = {}
        for key in self._curves:
            values = history.get(key)
            if values is None:
                columns[key] = None
                continue
            y = np.asarray(values, dtype=np.float64).reshape(-1)
            if y.size != n:
                raise ValueError(f"history '{key}' has {y.size} values but 'iteration' has {n}")
            columns[key] = y
        continues = self._continues(x)
        if not continues:
            self._reset_ranges()
        start = self._n if continues else 0
        self._reserve(n)
        self._n = n
        self._buffers["iteration"][:n] = x
        xs = self._buffers["iteration"][:n]
        antialias = False if live else bool(pg.getConfigOption("antialias"))
        style = {} if antialias == self._antialias else {"antialias": antialias}
        self._antialias = antialias
        for key, item in self._curves.items():
            y = columns[key]
            shown = y is not None and (key != "p_target" or bool(np.isfinite(y).any()))
            if key == "p_target":
                self._show_target(shown)
            if not shown:
                if key not in self._empty or style:
                    item.setData([], [], **style)
                    self._empty.add(key)
                continue
            buffer = self._buffers[key]
            buffer[:n] = y
            self._empty.discard(key)
            item.setData(xs, buffer[:n], **style)
            if key in self._y and n > start:
                self._grow_y(key, buffer[start:n])
        if n:
            self._grow_x(x)
        self._apply_ranges()

    def set_x_extent(self, total: float | None) -> None:
        """The x value the run will end at (e.g. its total iterations), so that the x axis stays
        fixed while it runs; None: fit the x axis to the data. :meth:`clear` forgets it."""
        extent = float(total) if total is not None and math.isfinite(total) and total > 0 else None
        if extent != self._x_extent:
            self._x_extent = extent
            self._x_top = None
            if self._n:  # else the next history applies it
                self._grow_x(self._buffers["iteration"][: self._n])
                self._apply_x_range()

    def clear(self) -> None:
        """Remove every curve (e.g. before a new run); the axes are fitted afresh next time."""
        self._n = 0
        for key, item in self._curves.items():
            if key not in self._empty:
                item.setData([], [])
                self._empty.add(key)
        self._show_target(False)
        self._x_extent = None
        # The axes stay as they are until the next history is fitted: re-ticking them now and
        # again for the first points of a new run would cost two full repaints instead of one.
        self._reset_ranges()

    def set_x_label(self, text: str) -> None:
        """The shared x axis' label, e.g. "iteration" or "queries"."""
        self._x_label = text
        self._restyle()

    def set_x_series(self, key: str, label: str | None = None) -> None:
        """Which series of the history is the x axis: "iteration" (the default) or e.g.
        "queries" for a black-box attack (a history without it falls back to iterations);
        ``label`` names the axis (default: the key). Applies from the next history."""
        if key != self._x_key:
            self._x_key = key
            self._n = 0  # the next history is a new x scale: fit the axes afresh
            self._reset_ranges()
        label = label or key
        if label != self._x_label:
            self.set_x_label(label)

    def x_series(self) -> str:
        return self._x_key

    def point_count(self) -> int:
        """How many points each curve holds."""
        return self._n

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) data of one curve ("p_true", "loss", "l0", …), every point of it (what is
        drawn may be thinned to the plot's width)."""
        item = self._curves[key]
        x, y = item.xData, item.yData
        empty = np.zeros(0)
        return (empty if x is None else np.asarray(x)), (empty if y is None else np.asarray(y))

    # -- ranges ----------------------------------------------------------------------------------
    def _continues(self, x: np.ndarray) -> bool:
        """Whether ``x`` extends the iterations shown (the same run, at least as far)."""
        n = self._n
        if n == 0 or x.size < n:
            return False
        shown = self._buffers["iteration"]
        return bool(x[0] == shown[0] and x[n - 1] == shown[n - 1])

    def _reset_ranges(self) -> None:
        self._x_top = None
        for key in self._y:
            self._y[key] = None

    def _grow_x(self, x: np.ndarray) -> None:
        bounds = _extent(x)
        if bounds is None:
            return
        high = bounds[1]
        if self._x_extent is not None and high <= self._x_extent:
            top = self._x_extent
        else:
            top = nice_ceil(max(high, 1.0))
        if self._x_top is None or top > self._x_top:
            self._x_top = top

    def _grow_y(self, key: str, values: np.ndarray) -> None:
        """Widen the range of series ``key`` to round numbers that hold ``values`` (never
        narrower than it is). Norms and L0 start at 0; the loss includes 0."""
        bounds = _extent(values)
        if bounds is None:
            return
        low, high = bounds
        top = nice_ceil(high) if high > 0 else 0.0
        bottom = -nice_ceil(-low) if low < 0 else 0.0
        if key != "loss":
            bottom = 0.0
        current = self._y[key]
        if current is not None:
            bottom, top = min(bottom, current[0]), max(top, current[1])
        if top > bottom:  # all zero so far: the default range until the first non-zero value
            self._y[key] = (bottom, top)

    def _apply_ranges(self) -> None:
        """Set the ranges that changed (each change re-ticks an axis; unchanged ones cost
        nothing)."""
        self._apply_x_range()
        if not self._n:  # nothing shown: the axes stay as they are until something is
            return
        changed = [
            key for key, view in self._y_views.items()
            if self._set_range(key, view, *(self._y[key] or _DEFAULT_RANGES[key]), 0.05)
        ]
        if changed:
            self._fit_axis_widths(changed)

    def _apply_x_range(self) -> None:
        x_top = self._x_top if self._x_top is not None else self._x_extent
        if x_top is not None:
            self._set_range("x", self.prob_plot.getViewBox(), 0.0, x_top, 0.01, x=True)

    def _set_range(self, name: str, view: pg.ViewBox, low: float, high: float, padding: float, x: bool = False) -> bool:
        if self._ranges_shown.get(name) == (low, high):
            return False
        self._ranges_shown[name] = (low, high)
        if x:
            view.setXRange(low, high, padding=padding)
        else:
            view.setYRange(low, high, padding=padding)
        return True

    # -- axis widths -----------------------------------------------------------------------------
    def _axes(self) -> list[pg.AxisItem]:
        axes = [plot.getAxis(name) for plot in self.plots for name in ("left", "bottom", "right")]
        return axes + [self.l0_axis]

    def _tick_text_width(self, axis: pg.AxisItem, key: str, metrics: QFontMetricsF) -> float:
        """The widest tick label ``axis`` shows for its current range."""
        low, high = self._ranges_shown.get(key, (0.0, 1.0))
        pad = 0.05 * (high - low)
        size = max(float(self._y_views[key].height()), 60.0)
        widest = 0.0
        for spacing, values in axis.tickValues(low - pad, high + pad, size):
            if not len(values):
                continue
            for text in axis.tickStrings(list(values), 1.0, spacing):
                widest = max(widest, metrics.horizontalAdvance(text))
        return widest

    def _fit_axis_widths(self, changed: list[str] | tuple[str, ...] = ("loss", "linf", "l2", "l0")) -> None:
        """One width for the left axes (their tick labels line up and so do the plots), one for
        the L2 axis and the right edges above it, one for the L0 axis and the spacers above it,
        each wide enough for its labels. Widths start wide enough for typical labels ("0.08",
        "1.5", "800") and only grow (a width change lays out and repaints the whole plot);
        only the axes in ``changed`` are measured again."""
        s = theme.style()
        metrics = QFontMetricsF(theme.font(s.font_pt * 0.9))
        for key in changed:
            self._text_widths[key] = self._tick_text_width(self._y_axes[key], key, metrics)
        label = QFontMetricsF(theme.font(s.font_pt)).height()
        offset = 12  # tick text offset and margins
        text = self._text_widths
        left_text = max(metrics.horizontalAdvance("0.00"), text.get("loss", 0.0), text.get("linf", 0.0))
        l2_text = max(metrics.horizontalAdvance("0.0"), text.get("l2", 0.0))
        l0_text = max(metrics.horizontalAdvance("000"), text.get("l0", 0.0))
        widths = tuple(math.ceil(t + label + offset) for t in (left_text, l2_text, l0_text))
        if self._widths is not None:
            widths = tuple(max(new, old) for new, old in zip(widths, self._widths))
        if widths == self._widths:
            return
        self._widths = widths
        left, right, l0 = widths
        for plot in self.plots:
            plot.getAxis("left").setWidth(left)
            plot.getAxis("right").setWidth(right)
        self.l0_axis.setWidth(l0)
        for spacer in self._spacers:
            spacer.setWidth(l0)

    # -- internals -------------------------------------------------------------------------------
    def _reserve(self, n: int) -> None:
        if n <= self._capacity:
            return
        capacity = max(256, self._capacity)
        while capacity < n:
            capacity *= 2
        for key in _KEYS:
            fresh = np.full(capacity, np.nan)
            if key in self._buffers and self._n:
                fresh[: self._n] = self._buffers[key][: self._n]
            self._buffers[key] = fresh
        self._capacity = capacity

    def _show_target(self, show: bool) -> None:
        if show == self._target_shown:
            return
        self._target_shown = show
        self._set_titles()

    def _set_titles(self) -> None:
        """Titles double as legends: each curve's name in its colour, with its line style."""
        s = theme.style()
        size = f"{s.title_pt:.0f}pt"
        small = f"{s.font_pt:.0f}pt"

        def key(item, text):
            mark = "╍╍" if item.property("dash") else "━━"
            color = item.property("color")
            text = text.replace(" ", "&nbsp;")
            return f"<span style='color:{color}; font-size:{small}'>{mark}&nbsp;{text}</span>"

        probability = [key(self.curve_true, "true")]
        if self._target_shown:
            probability.append(key(self.curve_target, "target"))
        probability.append(key(self.curve_other, "strongest other"))
        head = f"<b style='font-size:{size}; color:#111111'>{{}}</b>&nbsp;&nbsp;"
        gap = "&nbsp;&nbsp; "
        norms = [key(self.curve_linf, "L∞"), key(self.curve_l2, "L2"), key(self.curve_l0, "L0 (pixels)")]
        texts = (
            head.format("Probability") + gap.join(probability),
            head.format("Loss"),
            head.format("Perturbation size") + gap.join(norms),
        )
        for title, text in zip(self.titles, texts):
            title.setText(text)

    def _sync_boxes(self) -> None:
        rect = self.norm_plot.getViewBox().sceneBoundingRect()
        for box in (self.l2_box, self.l0_box):
            box.setGeometry(rect)
            box.linkedViewChanged(self.norm_plot.getViewBox(), box.XAxis)
        self._fit_axis_widths()  # tick density follows the plots' heights

    def _restyle(self) -> None:
        s = theme.style()
        tick_font = theme.font(s.font_pt * 0.9)
        label_pt = f"{s.font_pt:.0f}pt"
        for item in self._curves.values():
            color = item.property("color")
            style = Qt.PenStyle.DashLine if item.property("dash") else Qt.PenStyle.SolidLine
            item.setPen(pg.mkPen(color, width=s.line_width, style=style))
        # Tick labels at the ends of an axis may reach half their height past it (into the
        # title above, the axis below): pyqtgraph would hide them, and "0" and "0.1" (= ε)
        # are the labels that matter most.
        tick_metrics = QFontMetricsF(tick_font)
        overhang = {
            "vertical": math.ceil(tick_metrics.height() / 2) + 2,
            "horizontal": math.ceil(tick_metrics.horizontalAdvance("00000") / 2) + 2,
        }
        for axis in self._axes():
            # Plain numbers ("0.1", not "100" with a ×0.001 the label does not show): pyqtgraph
            # 0.14 picks a prefix scale for ranges within (0, 1) even with the prefix disabled,
            # unless no range allows one.
            if hasattr(axis, "setSIPrefixEnableRanges"):
                axis.setSIPrefixEnableRanges(())
            axis.enableAutoSIPrefix(False)
            axis.setTickFont(tick_font)
            axis.set_overhang(overhang["vertical" if axis.orientation in ("left", "right") else "horizontal"])
            axis.setStyle(maxTickLevel=1)  # major and minor grid lines, not a third level
            axis.setPen(pg.mkPen("#666666"))
            axis.setTextPen(pg.mkPen("#222222"))
        for plot in (self.prob_plot, self.loss_plot):
            plot.getAxis("left").setLabel("")
            plot.getAxis("bottom").setLabel("")
        # Short axis labels, in the curves' colours (the titles say what they are): long ones
        # do not fit beside a short plot at presentation sizes.
        self.norm_plot.getAxis("left").setLabel("L∞", color=theme.COLOR_LINF, **{"font-size": label_pt})
        self.norm_plot.getAxis("right").setLabel("L2", color=theme.COLOR_L2, **{"font-size": label_pt})
        self.l0_axis.setLabel("L0", color=theme.COLOR_L0, **{"font-size": label_pt})
        self.norm_plot.getAxis("bottom").setLabel(self._x_label, **{"font-size": label_pt, "color": "#222222"})
        for title in self.titles:
            title.setFont(theme.font(s.font_pt))
        self._set_titles()
        self._widths = None
        self._text_widths.clear()
        self._fit_axis_widths()
        self._sync_boxes()


def demo_history(n: int = 60, targeted: bool = True) -> dict[str, np.ndarray]:
    """A synthetic history that looks like a successful PGD run."""
    t = np.arange(1, n + 1, dtype=np.float64)
    s = 1.0 / (1.0 + np.exp(-(t - n * 0.45) / (n * 0.08)))
    p_true = 0.95 * (1 - s) + 0.02
    p_target = 0.01 + 0.8 * s if targeted else None
    p_other = 0.03 + 0.8 * s if not targeted else 0.03 + 0.1 * np.sin(t / 6) ** 2
    eps = 0.1
    linf = np.minimum(eps, 0.01 * t)
    history = {
        "iteration": t,
        "p_true": p_true,
        "p_other": p_other,
        "loss": np.log(1 / p_true),
        "linf": linf,
        "l2": linf * np.sqrt(150) * (0.6 + 0.4 * s),
        "l0": np.minimum(180, 12 * t),
    }
    if p_target is not None:
        history["p_target"] = p_target
    return history


def demo() -> ConfidenceCurves:
    curves = ConfidenceCurves()
    curves.set_history(demo_history())
    curves.resize(560, 560)
    return curves


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("ConfidenceCurves demo")
    history = demo_history(200)
    state = {"n": 1}
    widget.set_x_extent(200)

    def grow():
        state["n"] = state["n"] % 200 + 1
        widget.set_history({key: value[: state["n"]] for key, value in history.items()})

    from PySide6.QtCore import QTimer

    timer = QTimer(widget)
    timer.timeout.connect(grow)
    timer.start(40)
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
