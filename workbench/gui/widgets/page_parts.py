"""Parts shared by the Defenses lab's pages: the settings column (setting groups in a
scrollable column of a readable width, a Run and a Stop button under them) and plain static
plots, text colours that keep following the application font, and the careful restoring of
stored settings (values read back from QSettings may be stale, mistyped or out of range: they
are dropped, never shown as errors or raised). Helpers, not widget classes: each page composes
its own from them."""
from __future__ import annotations

import math
from typing import Any, Iterable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.params import ParamInfo
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


# -- restoring stored settings ----------------------------------------------------------------------


def valid_values(params: Iterable[ParamInfo], stored: Any) -> dict[str, Any]:
    """The entries of ``stored`` that name one of ``params`` and pass its check (converted);
    anything else — not a dict, unknown keys, wrong types, values out of bounds — is left out."""
    if not isinstance(stored, dict):
        return {}
    values = {}
    for info in params:
        if info.name in stored:
            try:
                values[info.name] = info.check(stored[info.name])
            except (WorkbenchError, TypeError, ValueError):
                pass
    return values


def restore_form(form: Any, stored: Any) -> None:
    """Set a :class:`~workbench.gui.forms.ParamForm` to the stored values that pass its
    parameters' checks (:func:`valid_values`); the others keep what the form shows."""
    form.set_values(valid_values(form.params(), stored))


def restore_spin(spin: QSpinBox | QDoubleSpinBox, value: Any) -> None:
    """Set ``spin`` to a stored number if it is one its range holds (else leave it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return
    if isinstance(spin, QSpinBox) and not float(value).is_integer():
        return
    if spin.minimum() <= value <= spin.maximum():
        spin.setValue(int(value) if isinstance(spin, QSpinBox) else float(value))


def restore_check(button: QAbstractButton, value: Any) -> None:
    """Check or uncheck ``button`` as stored, if the stored value is a bool."""
    if isinstance(value, bool):
        button.setChecked(value)


def restore_choice(combo: QComboBox, data: Any) -> None:
    """Choose the item of ``combo`` whose data is the stored ``data``, if one is."""
    index = combo.findData(data) if isinstance(data, str) else -1
    if index >= 0:
        combo.setCurrentIndex(index)
