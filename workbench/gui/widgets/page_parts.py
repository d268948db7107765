"""Parts shared by the Defenses lab's pages: the settings column (setting groups in a
scrollable column of a readable width, a Run and a Stop button under them) and plain static
plots, and text colours that keep following the application font. Helpers, not widget
classes: each page composes its own from them."""
from __future__ import annotations

from typing import Any

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from workbench.gui import theme


def tint(label: QWidget, color: str) -> None:
    """Colour a label's text through its palette: a style sheet would stop it from following
    the application font, which presentation mode enlarges."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(color))
    label.setPalette(palette)


def settings_panel(*widgets: QWidget) -> QScrollArea:
    """A scrollable column of setting groups at a fixed, readable width (shared by the
    Defenses lab's pages)."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(4, 4, 8, 4)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(column)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)

    def fit() -> None:  # wide enough for its widest row (never a clipped spin box), at least 330 px
        if not shiboken6.isValid(scroll):  # the page is gone; the theme signal outlives it
            return
        needed = column.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2
        scroll.setMinimumWidth(max(330, needed))
        scroll.setMaximumWidth(max(400, needed))

    fit()
    # Presentation mode enlarges the fonts: fit again once the widgets have taken them.
    theme.theme_signals().changed.connect(lambda: QTimer.singleShot(0, fit))
    return scroll


def group(title: str, *widgets: QWidget, layout: Any = None) -> QGroupBox:
    """A titled box around widgets (or around a ready ``layout``)."""
    box = QGroupBox(title)
    inner = layout or QVBoxLayout()
    for widget in widgets:
        inner.addWidget(widget)
    box.setLayout(inner)
    return box


def run_buttons(run_text: str) -> tuple[QPushButton, QPushButton, QWidget]:
    """A Run and a Stop button side by side, and the row that holds them."""
    run, stop = QPushButton(run_text), QPushButton("Stop")
    run.setDefault(True)
    stop.setEnabled(False)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 4, 0, 0)
    layout.addWidget(run, 2)
    layout.addWidget(stop, 1)
    return run, stop, row


def styled_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A white, static pyqtgraph plot with labelled axes (no mouse zoom, no context menu)."""
    widget = pg.PlotWidget(background="w")
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getViewBox().setMouseEnabled(x=False, y=False)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setTitle(title, color="#222222")
    for side, text in (("bottom", x_label), ("left", y_label)):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen("#666666"))
        axis.setTextPen(pg.mkPen("#222222"))
        axis.setLabel(text, color="#222222")
        axis.enableAutoSIPrefix(False)  # "0.1", not "100 (x0.001)"
    return widget


def scrollable(page: QWidget) -> QScrollArea:
    """``page`` in a scroll area: it scrolls when the window is too small for it, instead of
    making the whole window's minimum size grow."""
    scroll = QScrollArea()
    scroll.setWidget(page)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    return scroll
