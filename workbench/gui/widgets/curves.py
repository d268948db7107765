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
"""
from __future__ import annotations

import sys
from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from workbench.gui import theme

_KEYS = ("iteration", "p_true", "p_target", "p_other", "loss", "linf", "l2", "l0")


class ConfidenceCurves(QWidget):
    """Three stacked plots of an attack's history (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None, *, x_label: str = "iteration") -> None:
        super().__init__(parent)
        self._n = 0
        self._capacity = 0
        self._buffers: dict[str, np.ndarray] = {}
        self._target_shown = False
        self._x_label = x_label

        # One plot widget per plot, each under a QLabel title that doubles as its legend (rich
        # text that wraps, so that it stays readable at presentation sizes).
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.titles: list[QLabel] = []
        self.plot_widgets: list[pg.PlotWidget] = []
        for stretch in (4, 3, 4):
            title = QLabel()
            title.setWordWrap(True)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setTextFormat(Qt.TextFormat.RichText)
            title.setStyleSheet("background: white; color: #111111; padding: 2px;")
            widget = pg.PlotWidget(background="w")
            widget.setMinimumHeight(90)
            layout.addWidget(title)
            layout.addWidget(widget, stretch)
            self.titles.append(title)
            self.plot_widgets.append(widget)
        self.prob_plot: pg.PlotItem = self.plot_widgets[0].getPlotItem()
        self.loss_plot: pg.PlotItem = self.plot_widgets[1].getPlotItem()
        self.norm_plot: pg.PlotItem = self.plot_widgets[2].getPlotItem()
        self.plots = (self.prob_plot, self.loss_plot, self.norm_plot)
        for plot in self.plots:
            plot.setMenuEnabled(False)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showAxis("right")
            plot.getAxis("right").setStyle(showValues=False)
        self.loss_plot.setXLink(self.prob_plot)
        self.norm_plot.setXLink(self.prob_plot)
        self.prob_plot.setYRange(0.0, 1.0, padding=0.09)
        self.prob_plot.enableAutoRange(axis="y", enable=False)

        def curve(plot_or_box, color, name, dash=False):
            item = pg.PlotDataItem(connect="finite", name=name)
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
        self.norm_plot.scene().addItem(self.l2_box)
        self.norm_plot.scene().addItem(self.l0_box)
        right = self.norm_plot.getAxis("right")
        right.setStyle(showValues=True)
        right.linkToView(self.l2_box)
        self.l0_axis = pg.AxisItem("right")
        self.l0_axis.linkToView(self.l0_box)
        self.l0_axis.setZValue(-10000)
        self.norm_plot.layout.addItem(self.l0_axis, 2, 3)
        for box in (self.l2_box, self.l0_box):
            box.setXLink(self.norm_plot)
            box.setMouseEnabled(x=False, y=False)
            box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=True)
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
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._sync_boxes()

    # -- API -------------------------------------------------------------------------------------
    def set_history(self, history: Mapping[str, np.ndarray]) -> None:
        """Show a run's history: arrays of equal length keyed "iteration", "p_true",
        "p_target" (optional; absent, None or all-NaN for an untargeted attack), "p_other",
        "loss", "linf", "l2", "l0". Missing keys leave their curve empty; NaN leaves a gap."""
        if "iteration" not in history or history["iteration"] is None:
            raise ValueError("history needs an 'iteration' array")
        x = np.asarray(history["iteration"], dtype=np.float64).reshape(-1)
        n = x.size
        self._reserve(n)
        self._n = n
        self._buffers["iteration"][:n] = x
        xs = self._buffers["iteration"][:n]
        for key, item in self._curves.items():
            values = history.get(key)
            if values is None:
                item.setData([], [])
                if key == "p_target":
                    self._show_target(False)
                continue
            y = np.asarray(values, dtype=np.float64).reshape(-1)
            if y.size != n:
                raise ValueError(f"history '{key}' has {y.size} values but 'iteration' has {n}")
            buffer = self._buffers[key]
            buffer[:n] = y
            if key == "p_target":
                self._show_target(bool(np.isfinite(y).any()))
            item.setData(xs, buffer[:n])
        if n:
            self.prob_plot.setXRange(float(np.nanmin(xs)), float(max(np.nanmax(xs), np.nanmin(xs) + 1)), padding=0.02)

    def clear(self) -> None:
        """Remove every curve (e.g. before a new run)."""
        self._n = 0
        for item in self._curves.values():
            item.setData([], [])
        self._show_target(False)

    def set_x_label(self, text: str) -> None:
        """The shared x axis' label, e.g. "iteration" or "queries"."""
        self._x_label = text
        self._restyle()

    def point_count(self) -> int:
        """How many points each curve holds."""
        return self._n

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) data of one curve ("p_true", "loss", "l0", …) as displayed."""
        x, y = self._curves[key].getData()
        empty = np.zeros(0)
        return (empty if x is None else np.asarray(x)), (empty if y is None else np.asarray(y))

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
        head = f"<b style='font-size:{size}'>{{}}</b>&nbsp;&nbsp;"
        gap = "&nbsp;&nbsp; "
        norms = [key(self.curve_linf, "L∞"), key(self.curve_l2, "L2"), key(self.curve_l0, "L0")]
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

    def _restyle(self) -> None:
        s = theme.style()
        tick_font = theme.font(s.font_pt * 0.9)
        label_pt = f"{s.font_pt:.0f}pt"
        for item in self._curves.values():
            color = item.property("color")
            style = Qt.PenStyle.DashLine if item.property("dash") else Qt.PenStyle.SolidLine
            item.setPen(pg.mkPen(color, width=s.line_width, style=style))
        tick_metrics = QFontMetricsF(tick_font)
        label_metrics = QFontMetricsF(theme.font(s.font_pt))
        axis_width = int(tick_metrics.horizontalAdvance("0.000") + label_metrics.height() + 14)
        right_width = int(tick_metrics.horizontalAdvance("0.00") + label_metrics.height() + 12)
        l0_width = int(tick_metrics.horizontalAdvance("0000") + label_metrics.height() + 12)
        labels = {
            self.prob_plot: ("probability", "#222222"),
            self.loss_plot: ("loss", "#222222"),
            self.norm_plot: ("L∞", theme.COLOR_LINF),
        }
        for plot, (text, color) in labels.items():
            left, bottom, right = plot.getAxis("left"), plot.getAxis("bottom"), plot.getAxis("right")
            for axis in (left, bottom, right):
                axis.enableAutoSIPrefix(False)
                axis.setTickFont(tick_font)
                axis.setPen(pg.mkPen("#666666"))
                axis.setTextPen(pg.mkPen("#222222"))
            left.setLabel(text, color=color, **{"font-size": label_pt})
            left.setWidth(axis_width)
            right.setWidth(right_width)
            bottom.setLabel("")
        self.norm_plot.getAxis("right").setLabel("L2", color=theme.COLOR_L2, **{"font-size": label_pt})
        self.norm_plot.getAxis("bottom").setLabel(self._x_label, **{"font-size": label_pt, "color": "#222222"})
        self.l0_axis.enableAutoSIPrefix(False)
        self.l0_axis.setTickFont(tick_font)
        self.l0_axis.setPen(pg.mkPen("#666666"))
        self.l0_axis.setTextPen(pg.mkPen("#222222"))
        self.l0_axis.setLabel("L0 (pixels)", color=theme.COLOR_L0, **{"font-size": label_pt})
        self.l0_axis.setWidth(l0_width)
        for spacer in self._spacers:
            spacer.setWidth(l0_width)
        self.prob_plot.getAxis("left").setTicks(
            [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], [(0.25, ""), (0.75, "")]]
        )
        self._set_titles()
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
