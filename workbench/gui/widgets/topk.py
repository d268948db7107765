"""``TopKBars``: horizontal bars of the k most probable classes, true and target highlighted.

Rows are sorted by probability. The true class is drawn green, the target class orange, and
the top class red when it is neither (the model is fooled); other classes are grey;
when either is not among the top k it is appended below a separator, so that the viewer always
sees how likely the true (and target) class still is. Painted with QPainter: k ≤ ~20 bars need
no plotting library, and text stays crisp at any size.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from workbench.gui import theme


@dataclass(frozen=True)
class BarRow:
    index: int
    label: str
    probability: float
    is_true: bool
    is_target: bool
    extra: bool  # appended below the top k


class TopKBars(QWidget):
    """Top-k class probabilities as labelled horizontal bars."""

    def __init__(self, parent: QWidget | None = None, *, title: str = "Top classes") -> None:
        super().__init__(parent)
        self._title = title
        self._rows: list[BarRow] = []
        self._k = 5
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(120)
        theme.theme_signals().changed.connect(self._restyle)

    # -- API -------------------------------------------------------------------------------------
    def set_probabilities(
        self,
        probs: np.ndarray,
        labels: list[str] | tuple[str, ...],
        true_index: int | None,
        target_index: int | None = None,
        k: int = 5,
    ) -> None:
        """Show the ``k`` largest of ``probs`` (K values) with their ``labels``; mark the true and
        the target class (either may be None)."""
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if len(labels) != p.size:
            raise ValueError(f"{p.size} probabilities but {len(labels)} labels")
        k = max(1, min(int(k), p.size))
        order = np.argsort(-p, kind="stable")
        top = [int(i) for i in order[:k]]
        extras = [i for i in (true_index, target_index) if i is not None and int(i) not in top]
        rows = [self._row(i, labels, p, true_index, target_index, False) for i in top]
        for i in dict.fromkeys(int(i) for i in extras):
            rows.append(self._row(i, labels, p, true_index, target_index, True))
        self._rows, self._k = rows, k
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self._rows = []
        self.update()

    def rows(self) -> list[tuple[str, float]]:
        """The displayed rows, top to bottom: (label, probability)."""
        return [(r.label, r.probability) for r in self._rows]

    def bar_rows(self) -> list[BarRow]:
        return list(self._rows)

    def set_title(self, title: str) -> None:
        self._title = title
        self.update()

    # -- painting --------------------------------------------------------------------------------
    @staticmethod
    def _row(i, labels, p, true_index, target_index, extra) -> BarRow:
        return BarRow(
            index=i, label=str(labels[i]), probability=float(p[i]),
            is_true=true_index is not None and i == int(true_index),
            is_target=target_index is not None and i == int(target_index), extra=extra,
        )

    def _restyle(self) -> None:
        self.updateGeometry()
        self.update()

    def _metrics(self) -> tuple[float, float]:
        fm = QFontMetricsF(theme.font())
        row_h = fm.height() * 1.55
        title_h = QFontMetricsF(theme.title_font()).height() * 1.4 if self._title else 0.0
        return row_h, title_h

    def sizeHint(self) -> QSize:
        row_h, title_h = self._metrics()
        n = max(len(self._rows), self._k)
        return QSize(320, int(title_h + row_h * (n + 0.6) + 8))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        row_h, title_h = self._metrics()
        width = float(self.width())
        text_color = self.palette().text().color()
        y = 4.0
        if self._title:
            painter.setFont(theme.title_font())
            painter.setPen(text_color)
            painter.drawText(QRectF(8, y, width - 16, title_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._title)
            y += title_h
        if not self._rows:
            painter.setFont(theme.font())
            painter.setPen(QColor("#777777"))
            painter.drawText(QRectF(8, y, width - 16, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "No prediction yet")
            painter.end()
            return
        body = theme.font()
        bold = theme.font(bold=True)
        fm = QFontMetricsF(bold)
        label_w = max(fm.horizontalAdvance(self._label_text(r)) for r in self._rows) + 12
        label_w = min(label_w, width * 0.45)
        value_w = fm.horizontalAdvance("100.0 %") + 10
        bar_x = 8 + label_w
        bar_w = max(10.0, width - bar_x - value_w - 8)
        separator_drawn = False
        for position, r in enumerate(self._rows):
            if r.extra and not separator_drawn:
                painter.setPen(QPen(QColor("#bbbbbb"), 1, Qt.PenStyle.DashLine))
                painter.drawLine(int(8), int(y + row_h * 0.2), int(width - 8), int(y + row_h * 0.2))
                y += row_h * 0.4
                separator_drawn = True
            color = self._color(r, position == 0)
            painter.setFont(bold if (position == 0 or r.is_true or r.is_target) else body)
            painter.setPen(color if (r.is_true or r.is_target) else text_color)
            painter.drawText(
                QRectF(8, y, label_w - 8, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._label_text(r),
            )
            track = QRectF(bar_x, y + row_h * 0.18, bar_w, row_h * 0.64)
            painter.fillRect(track, QColor("#eeeeee"))
            filled = QRectF(track.x(), track.y(), bar_w * min(max(r.probability, 0.0), 1.0), track.height())
            painter.fillRect(filled, color)
            painter.setPen(text_color)
            painter.setFont(bold if position == 0 else body)
            painter.drawText(
                QRectF(bar_x + bar_w + 6, y, value_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _percent(r.probability),
            )
            y += row_h
        painter.end()

    @staticmethod
    def _label_text(r: BarRow) -> str:
        tags = []
        if r.is_true:
            tags.append("true")
        if r.is_target:
            tags.append("target")
        return f"{r.label} ({', '.join(tags)})" if tags else r.label

    @staticmethod
    def _color(r: BarRow, top: bool) -> QColor:
        if r.is_target:
            return QColor(theme.COLOR_TARGET)
        if r.is_true:
            return QColor(theme.COLOR_TRUE)
        if top:  # the model's (wrong) prediction: the class that beats the true one
            return QColor(theme.COLOR_OTHER)
        return QColor(theme.COLOR_NEUTRAL_BAR)


def _percent(p: float) -> str:
    value = 100.0 * p
    return f"{value:.1f} %" if value < 99.95 else "100 %"


def demo() -> TopKBars:
    labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    logits = np.array([0.2, -2.0, 1.1, -0.5, 2.0, -3.0, 2.6, -2.5, -1.0, -3.0])
    probs = np.exp(logits) / np.exp(logits).sum()
    bars = TopKBars(title="Top-5 classes (adversarial)")
    bars.set_probabilities(probs, labels, true_index=4, target_index=8, k=5)
    bars.resize(420, 260)
    return bars


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("TopKBars demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
