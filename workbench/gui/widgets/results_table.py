"""``ResultsTable``: the per-image outcome of a batch run, with a summary line and CSV export.

One row per attacked image — its name, true class, the model's clean prediction, the
prediction on the adversarial image with its confidence, whether the attack met its goal
(✓/✗), the perturbation's L∞, L2 and L0 (changed pixels) and, for black-box attacks, the
queries it took (to success, or spent in vain). Rows are added as batches finish; every column
sorts (click its header). The summary above the table counts over the rows so far: clean
accuracy and robust accuracy (over images with a known label), success rate (over all), the
median and mean norms of the successful adversarial examples and their median queries.

Selecting a row emits :attr:`ResultsTable.imageActivated` with the image's index in the
gallery; the lab then shows that image's adversarial. The table holds only what it shows.

Run alone for development: ``python -m workbench.gui.widgets.results_table``.
"""
from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme

_SORT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class ResultRow:
    """The outcome for one image. Classes are indices (``true_class`` −1 when unknown);
    ``queries`` is what a black-box attack spent on the image and ``queries_to_success`` what
    it had spent when the goal was first met (both None for white-box attacks)."""

    index: int
    name: str
    true_class: int
    clean_class: int
    adv_class: int
    adv_confidence: float
    success: bool
    linf: float
    l2: float
    l0: float
    queries: int | None = None
    queries_to_success: int | None = None

    @property
    def shown_queries(self) -> int | None:
        """Queries to success where the attack succeeded, else all those spent."""
        if self.queries is None:
            return None
        return self.queries_to_success if self.success and self.queries_to_success is not None else self.queries


# (header, tooltip) per column; the CSV uses the same headers.
COLUMNS = (
    ("Image", "The image's name in the gallery"),
    ("True", "The image's label (— when unknown)"),
    ("Clean", "What the model answers on the clean image (red: wrong)"),
    ("Adversarial", "What the model answers on the adversarial image, with its confidence (red: wrong)"),
    ("Success", "✓: the attack met its goal (misclassified, or the target reached)"),
    ("L∞", "Largest change of a pixel value"),
    ("L2", "Euclidean length of the perturbation"),
    ("L0", "Pixels changed"),
    ("Queries", "Black-box: queries to success (✗: spent without success)"),
)
QUERIES_COLUMN = len(COLUMNS) - 1


def median(values: np.ndarray) -> float:
    """The median as the engine (``torch.median``) and the command line report it: for an even
    count, the lower of the two middle values."""
    ordered = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    return float(ordered[(ordered.size - 1) // 2])


def _median_mean(values: np.ndarray) -> tuple[float, float] | None:
    return (median(values), float(np.mean(values))) if values.size else None


def summarize_rows(rows: Sequence[ResultRow]) -> dict[str, Any]:
    """Summary of ``rows``: ``n``; ``clean_accuracy`` and ``robust_accuracy`` (over rows with a
    known label; None without any); ``success_rate`` (over all rows); ``linf``, ``l2``, ``l0``
    as (median, mean) over the successful rows (None without any); ``queries`` the (median,
    mean) queries to success over successful rows of a black-box run (else None). Medians are
    :func:`median`'s, the command line's."""
    n = len(rows)
    known = [r for r in rows if r.true_class >= 0]
    won = [r for r in rows if r.success]

    def rate(hits: int, total: int) -> float | None:
        return hits / total if total else None

    queries = np.array([r.queries_to_success for r in won if r.queries_to_success is not None and r.queries_to_success >= 0], float)
    black_box = any(r.queries is not None for r in rows)
    return {
        "n": n,
        "clean_accuracy": rate(sum(r.clean_class == r.true_class for r in known), len(known)),
        "robust_accuracy": rate(sum(r.adv_class == r.true_class for r in known), len(known)),
        "success_rate": rate(len(won), n),
        "successes": len(won),
        **{key: _median_mean(np.array([getattr(r, key) for r in won], float)) for key in ("linf", "l2", "l0")},
        "queries": _median_mean(queries) if black_box else None,
    }


def _number(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def summary_text(summary: dict[str, Any], expected: int | None = None) -> str:
    """The summary as two lines of rich text (see :func:`summarize_rows`)."""
    n = summary["n"]
    done = f"{n} of {expected} images" if expected and expected != n else f"{n} images"
    first = (
        f"<b>{done}</b> &nbsp;·&nbsp; clean accuracy <b>{_percent(summary['clean_accuracy'])}</b>"
        f" &nbsp;·&nbsp; robust accuracy <b>{_percent(summary['robust_accuracy'])}</b>"
        f" &nbsp;·&nbsp; success rate <b>{_percent(summary['success_rate'])}</b>"
    )
    parts = []
    for key, name in (("linf", "L∞"), ("l2", "L2"), ("l0", "L0")):
        pair = summary[key]
        if pair is not None:
            parts.append(f"{name} {_number(pair[0])} / {_number(pair[1])}")
    if summary["queries"] is not None:
        pair = summary["queries"]
        parts.append(f"queries {_number(pair[0])} / {_number(pair[1])}" if pair else "queries —")
    if not parts:
        return first
    won = summary["successes"]
    second = f"median / mean over the {won} successful example{'s' if won != 1 else ''}: " + " &nbsp;·&nbsp; ".join(parts)
    return f"{first}<br>{second}"


class ResultsModel(QAbstractTableModel):
    """The rows of :class:`ResultsTable` (in the order they were added)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []
        self._labels: list[str] = []

    def set_labels(self, labels: Sequence[str]) -> None:
        self.beginResetModel()
        self._labels = [str(label) for label in labels]
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def append(self, rows: Sequence[ResultRow]) -> None:
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def rows(self) -> list[ResultRow]:
        return list(self._rows)

    def row_at(self, row: int) -> ResultRow:
        return self._rows[row]

    def label(self, index: int) -> str:
        if index < 0:
            return "—"
        return self._labels[index] if index < len(self._labels) else str(index)

    # -- Qt model ---------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(r)[column]
        if role == _SORT_ROLE:
            return self._sort_key(r, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 4:
                return QColor(theme.COLOR_RIGHT if r.success else theme.COLOR_WRONG)
            if column in (2, 3) and r.true_class >= 0:
                predicted = r.clean_class if column == 2 else r.adv_class
                return QColor(theme.COLOR_WRONG) if predicted != r.true_class else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 4:
            horizontal = Qt.AlignmentFlag.AlignHCenter if column == 4 else Qt.AlignmentFlag.AlignRight
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def cells(self, r: ResultRow) -> list[str]:
        """The displayed texts of a row."""
        queries = r.shown_queries
        return [
            r.name,
            self.label(r.true_class),
            self.label(r.clean_class),
            f"{self.label(r.adv_class)} {100 * r.adv_confidence:.0f} %",
            "✓" if r.success else "✗",
            _number(r.linf),
            _number(r.l2),
            f"{r.l0:.0f}",
            "" if queries is None else f"{queries:,}" + ("" if r.success else " ✗"),
        ]

    def _sort_key(self, r: ResultRow, column: int):
        keys = (
            r.index, self.label(r.true_class), self.label(r.clean_class),
            (self.label(r.adv_class), r.adv_confidence), int(r.success), r.linf, r.l2, r.l0,
            -1 if r.shown_queries is None else r.shown_queries,
        )
        key = keys[column]
        return key[0] + f"{key[1]:.6f}" if isinstance(key, tuple) else key


class ResultsTable(QWidget):
    """Per-image results of a batch run (see the module docstring).

    Signals: ``imageActivated(int)`` — the gallery index of the row the user selected.
    """

    imageActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._expected: int | None = None
        self.model = ResultsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(_SORT_ROLE)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("batchSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("exportCsv")
        self.export_button.setToolTip("Save the table as a CSV file (one row per image)")
        self.export_button.clicked.connect(self._export_dialog)
        top = QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)

        self.view = QTableView()
        self.view.setObjectName("resultsView")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order of the gallery until asked
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        theme.theme_signals().changed.connect(self._restyle)
        self.set_black_box(False)
        self._restyle()
        self._show_summary()

    # -- API -------------------------------------------------------------------------------------
    def start(self, labels: Sequence[str], expected: int, black_box: bool) -> None:
        """Empty the table for a new batch run of ``expected`` images."""
        self.model.set_labels(labels)
        self.model.clear()
        self._expected = int(expected)
        self.set_black_box(black_box)
        self._show_summary()

    def set_black_box(self, black_box: bool) -> None:
        """Show the queries column (black-box runs) or hide it."""
        self.view.setColumnHidden(QUERIES_COLUMN, not black_box)

    def add_rows(self, rows: Sequence[ResultRow]) -> None:
        self.model.append(list(rows))
        self._fit_columns()
        self._show_summary()

    def clear(self) -> None:
        self.model.clear()
        self._expected = None
        self._show_summary()

    def rows(self) -> list[ResultRow]:
        """The rows in the order they were added."""
        return self.model.rows()

    def row_count(self) -> int:
        return self.model.rowCount()

    def displayed_cells(self, view_row: int) -> list[str]:
        """The texts of the row shown at ``view_row`` (after sorting)."""
        source = self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()
        return self.model.cells(self.model.row_at(source))

    def select_image(self, index: int) -> bool:
        """Make the row of gallery image ``index`` current (emitting imageActivated); False if
        the table has no such row."""
        for row, result in enumerate(self.model.rows()):
            if result.index == index:
                view_index = self.proxy.mapFromSource(self.model.index(row, 0))
                self.view.setCurrentIndex(view_index)
                self.view.scrollTo(view_index)
                return True
        return False

    def summary(self) -> dict[str, Any]:
        return summarize_rows(self.model.rows())

    def view_rect(self, view_row: int):
        """Where row ``view_row`` lies in the view's viewport (for tests that click it)."""
        return self.view.visualRect(self.proxy.index(view_row, 0))

    def export_csv(self, path: str | Path) -> Path:
        """Write the rows (in the order they were added) as CSV with the table's headers;
        numbers unrounded, classes by name, success as 1/0. Raises OSError."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "image", "true class", "clean prediction", "adversarial prediction",
                             "confidence", "success", "linf", "l2", "l0", "queries", "queries to success"])
            for r in self.model.rows():
                writer.writerow([
                    r.index, r.name, self.model.label(r.true_class) if r.true_class >= 0 else "",
                    self.model.label(r.clean_class), self.model.label(r.adv_class), f"{r.adv_confidence:.6g}",
                    int(r.success), f"{r.linf:.6g}", f"{r.l2:.6g}", f"{r.l0:.0f}",
                    "" if r.queries is None else r.queries,
                    "" if r.queries_to_success is None or r.queries_to_success < 0 else r.queries_to_success,
                ])
        return path

    # -- internals -------------------------------------------------------------------------------
    def _show_summary(self) -> None:
        if self.model.rowCount() == 0:
            self.summary_label.setText(
                "Run on all images (Ctrl+Shift+R) to attack every image of the gallery; the results appear here."
                if self._expected is None else f"Attacking {self._expected} images…"
            )
            self.export_button.setEnabled(False)
            return
        self.summary_label.setText(summary_text(self.summary(), self._expected))
        self.export_button.setEnabled(True)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            source = self.proxy.mapToSource(current)
            self.imageActivated.emit(self.model.row_at(source.row()).index)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export results", "batch-results.csv", "CSV (*.csv)")
        if path:
            try:
                self.export_csv(path)
            except OSError as error:
                self.summary_label.setText(f"Could not write {path}: {error.strerror or error}")

    def _restyle(self) -> None:
        f = theme.font()
        for widget in (self.view, self.summary_label, self.export_button):
            widget.setFont(f)
        self.view.horizontalHeader().setFont(f)
        self.view.verticalHeader().setDefaultSectionSize(int(QFontMetrics(f).height() * 1.5))
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their contents, but long image names elided (the numbers matter)."""
        self.view.resizeColumnsToContents()
        widest = QFontMetrics(theme.font()).horizontalAdvance("M" * 9)
        if self.view.columnWidth(0) > widest:
            self.view.setColumnWidth(0, widest)


def demo_rows(n: int = 12, seed: int = 0) -> list[ResultRow]:
    """Synthetic rows that look like a PGD batch on ten classes."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        true = int(rng.integers(10))
        clean = true if rng.random() < 0.9 else int(rng.integers(10))
        success = bool(rng.random() < 0.8)
        adv = (true + 1 + int(rng.integers(9))) % 10 if success else true
        rows.append(ResultRow(
            index=i, name=f"class{true}/{i}.png", true_class=true, clean_class=clean, adv_class=adv,
            adv_confidence=float(rng.uniform(0.4, 1.0)), success=success,
            linf=0.1, l2=float(rng.uniform(0.5, 2.5)), l0=float(rng.integers(100, 700)),
            queries=int(rng.integers(10, 1000)), queries_to_success=int(rng.integers(10, 500)) if success else -1,
        ))
    return rows


def demo() -> ResultsTable:
    table = ResultsTable()
    rows = demo_rows()
    table.start([f"class {k}" for k in range(10)], len(rows) + 4, black_box=True)
    table.add_rows(rows)
    table.imageActivated.connect(lambda index: print("image", index))
    table.resize(900, 400)
    return table


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("ResultsTable demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
