"""``QueryHistogram``: how many queries a black-box attack needed per image, over a batch.

A bar per range of queries (round bin widths: 1, 2, 5 × 10^k) counting the images that were
fooled within that many queries, a dashed line at the median, and a title that says how many
images were fooled within the budget and their median. Fed with the per-image
"queries to success" of a batch run (−1 where the attack did not succeed), growing as batches
finish.

Run alone for development: ``python -m workbench.gui.widgets.query_histogram``.
"""
from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.widgets.curves import nice_ceil
from workbench.gui.widgets.results_table import median

TARGET_BINS = 15  # about this many bars


def query_bins(queries: np.ndarray, target: int = TARGET_BINS) -> np.ndarray:
    """Bin edges from 0 with a round width (1, 2, 5 × 10^k, at least 1) that cover ``queries``
    in about ``target`` bins."""
    top = float(np.max(queries)) if queries.size else 1.0
    width = max(1.0, nice_ceil(max(top, 1.0) / target))
    count = int(np.floor(top / width)) + 1
    return np.arange(count + 1, dtype=np.float64) * width


class QueryHistogram(QWidget):
    """A histogram of queries to success (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.zeros(0)
        self._edges = np.zeros(0)
        self._median: float | None = None
        self.title = QLabel()
        self.title.setObjectName("queryHistogramTitle")
        self.title.setWordWrap(True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("background: white; color: #111111; padding: 2px;")
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x0=[], x1=[], height=[], brush=theme.COLOR_LINF, pen=pg.mkPen("w"))
        self.plot.addItem(self.bars)
        self.median_line = pg.InfiniteLine(angle=90, movable=False)
        self.median_line.setVisible(False)
        self.plot.addItem(self.median_line)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot_widget, 1)
        self.setMinimumSize(240, 180)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self.clear()

    # -- API -------------------------------------------------------------------------------------
    def set_queries(self, queries_to_success: np.ndarray, budget: int = 0) -> None:
        """Show the images' queries to success (−1: not fooled); ``budget`` is the oracle's per
        image budget (0 = none), named in the title."""
        values = np.asarray(queries_to_success, dtype=np.float64).reshape(-1)
        fooled = values[values >= 0]
        if values.size == 0:
            self.clear()
            return
        self._edges = query_bins(fooled)
        self._counts, _ = np.histogram(fooled, bins=self._edges)
        self.bars.setOpts(x0=self._edges[:-1], x1=self._edges[1:], height=self._counts)
        self._median = median(fooled) if fooled.size else None
        self.median_line.setVisible(self._median is not None)
        if self._median is not None:
            self.median_line.setValue(self._median)
        self.plot.setXRange(0.0, float(self._edges[-1]), padding=0.02)
        self.plot.setYRange(0.0, max(1.0, float(self._counts.max(initial=0))) * 1.08, padding=0.0)
        within = f" within {budget:,} queries each" if budget else ""
        head = f"<b>Queries to success</b> — {fooled.size} of {values.size} images fooled{within}"
        middle = f", median <b>{self._median:,.0f}</b> queries" if self._median is not None else ""
        self.title.setText(head + middle)

    def clear(self) -> None:
        self._counts, self._edges, self._median = np.zeros(0), np.zeros(0), None
        self.bars.setOpts(x0=[], x1=[], height=[])
        self.median_line.setVisible(False)
        self.title.setText("<b>Queries to success</b> — run a black-box attack on all images")

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(bin edges, image counts) of the bars shown."""
        return self._edges.copy(), np.asarray(self._counts).copy()

    def median(self) -> float | None:
        return self._median

    # -- internals -------------------------------------------------------------------------------
    def _restyle(self) -> None:
        s = theme.style()
        f = theme.font(s.font_pt * 0.9)
        label_style = {"font-size": f"{s.font_pt:.0f}pt", "color": "#222222"}
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setTickFont(f)
            axis.setPen(pg.mkPen("#666666"))
            axis.setTextPen(pg.mkPen("#222222"))
        self.plot.getAxis("bottom").setLabel("queries", **label_style)
        self.plot.getAxis("left").setLabel("images", **label_style)
        self.median_line.setPen(pg.mkPen(theme.COLOR_OTHER, width=s.line_width, style=Qt.PenStyle.DashLine))
        self.title.setFont(theme.font(s.font_pt))


def demo() -> QueryHistogram:
    rng = np.random.default_rng(0)
    queries = np.round(rng.lognormal(4.5, 0.8, 60)).astype(int)
    queries[rng.random(60) < 0.1] = -1
    histogram = QueryHistogram()
    histogram.set_queries(queries, budget=1000)
    histogram.resize(520, 320)
    return histogram


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("QueryHistogram demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
