"""``Gallery``: thumbnails of the loaded images with true label, prediction and confidence.

Each thumbnail is drawn enlarged by nearest neighbour, with its true label under it and the
model's prediction ("→ Shirt 64 %"): green with ✓ when right, red with ✗ and a red frame when
wrong. A summary line above counts the correct predictions. Files and folders dropped on the
gallery are announced with :attr:`Gallery.filesDropped` (the window loads them).

The widget keeps a reference to the images it shows and converts thumbnails lazily, so that
large sets stay cheap; it holds no other state.
"""
from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme
from workbench.gui.widgets.image_triptych import numpy_to_qimage

_TRUE_ROLE = Qt.ItemDataRole.UserRole + 1
_PRED_ROLE = Qt.ItemDataRole.UserRole + 2
_WRONG_ROLE = Qt.ItemDataRole.UserRole + 3


def _image_at(images: np.ndarray, i: int) -> np.ndarray:
    """Image ``i`` of N×H×W, N×H×W×C or N×C×H×W as H×W or H×W×3 uint8."""
    return theme.to_display_uint8(images[i])


class GalleryModel(QAbstractListModel):
    """Rows of (image, true label, prediction) for the gallery's view."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._images: np.ndarray | None = None
        self._true: list[str | None] = []
        self._pred: list[tuple[str, float] | None] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def set_items(self, images, true_labels, predictions) -> None:
        self.beginResetModel()
        self._images = images
        self._true = list(true_labels)
        self._pred = list(predictions) if predictions is not None else [None] * len(self._true)
        self._pixmaps.clear()
        self.endResetModel()

    def set_predictions(self, predictions) -> None:
        self._pred = list(predictions) if predictions is not None else [None] * len(self._true)
        if self._true:
            self.dataChanged.emit(self.index(0), self.index(len(self._true) - 1))

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._true)

    def is_wrong(self, row: int) -> bool | None:
        truth, pred = self._true[row], self._pred[row] if row < len(self._pred) else None
        if truth is None or pred is None:
            return None
        return str(pred[0]) != str(truth)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._true):
            return None
        row = index.row()
        truth = self._true[row]
        pred = self._pred[row] if row < len(self._pred) else None
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(row)
            if pixmap is None:
                pixmap = QPixmap.fromImage(numpy_to_qimage(_image_at(self._images, row)))
                if len(self._pixmaps) > 2000:
                    self._pixmaps.clear()
                self._pixmaps[row] = pixmap
            return pixmap
        if role == _TRUE_ROLE:
            return truth
        if role == _PRED_ROLE:
            return pred
        if role == _WRONG_ROLE:
            return self.is_wrong(row)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return item_text(truth, pred, row)
        return None

    def summary(self) -> str:
        n = len(self._true)
        if n == 0:
            return "No images — drop image files or folders here"
        judged = [self.is_wrong(i) for i in range(n)]
        known = [w for w in judged if w is not None]
        if not known:
            return f"{n} image{'s' if n != 1 else ''}"
        right = sum(1 for w in known if not w)
        return f"{n} images — {right}/{len(known)} correct ({100.0 * right / len(known):.0f} %)"


def item_text(truth: str | None, pred: tuple[str, float] | None, row: int = 0) -> str:
    """One line per item, e.g. "Coat → Coat 97 %" (or "#3 → Coat 97 %" without a label)."""
    head = truth if truth is not None else f"#{row}"
    if pred is None:
        return head
    mark = "" if truth is None else (" ✓" if str(pred[0]) == str(truth) else " ✗")
    return f"{head} → {pred[0]} {100.0 * float(pred[1]):.0f} %{mark}"


class GalleryDelegate(QStyledItemDelegate):
    """Paints a thumbnail with its true label and its prediction under it."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect = QRectF(option.rect).adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, option.palette.highlight().color().lighter(170))
            painter.setPen(QPen(option.palette.highlight().color(), 2))
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        thumb = theme.style().thumbnail
        pixmap: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        wrong = index.data(_WRONG_ROLE)
        if pixmap is not None and not pixmap.isNull():
            scale = min(thumb / pixmap.width(), thumb / pixmap.height())
            w, h = pixmap.width() * scale, pixmap.height() * scale
            target = QRectF(rect.center().x() - w / 2, rect.top() + 4 + (thumb - h) / 2, w, h)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
            painter.drawPixmap(target.toRect(), pixmap)
            if wrong:
                painter.setPen(QPen(QColor(theme.COLOR_WRONG), 3))
                painter.drawRect(target.adjusted(-1.5, -1.5, 1.5, 1.5))
        fm = QFontMetricsF(theme.font())
        line = fm.height()
        y = rect.top() + thumb + 8
        truth = index.data(_TRUE_ROLE)
        pred = index.data(_PRED_ROLE)
        text_rect = QRectF(rect.left() + 2, y, rect.width() - 4, line)
        painter.setFont(theme.font(bold=True))
        painter.setPen(option.palette.text().color())
        head = truth if truth is not None else f"#{index.row()}"
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, _elide(head, text_rect.width(), theme.font(bold=True)))
        if pred is not None:
            text_rect.translate(0, line)
            painter.setFont(theme.font())
            if wrong is None:
                painter.setPen(option.palette.text().color())
                mark = ""
            else:
                painter.setPen(QColor(theme.COLOR_WRONG if wrong else theme.COLOR_RIGHT))
                mark = "✗ " if wrong else "✓ "
            text = f"{mark}→ {pred[0]} {100.0 * float(pred[1]):.0f}\u00a0%"
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, _elide(text, text_rect.width(), theme.font()))
        painter.restore()


def _elide(text: str, width: float, font) -> str:
    from PySide6.QtGui import QFontMetrics

    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideMiddle, int(width))


def cell_size() -> QSize:
    s = theme.style()
    line = QFontMetricsF(theme.font()).height()
    width = max(s.thumbnail + 16, int(QFontMetricsF(theme.font()).horizontalAdvance("✗ → Ankle boot 100 %") + 10))
    return QSize(width, int(s.thumbnail + 14 + 2 * line + 6))


class _GalleryView(QListView):
    """Icon-mode list that accepts dropped files and shows a hint while empty."""

    def __init__(self, gallery: "Gallery") -> None:
        super().__init__(gallery)
        self._gallery = gallery
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setDragEnabled(False)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setWordWrap(True)
        self.setSpacing(2)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._gallery.filesDropped.emit(paths)
        else:
            event.ignore()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setFont(theme.font())
            painter.setPen(QColor("#777777"))
            painter.drawText(
                self.viewport().rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Drop image files or folders here, or use File ▸ Open images…",
            )
            painter.end()


class Gallery(QWidget):
    """Thumbnails with true label, prediction and confidence; emits ``currentChanged(row)``
    when the current image changes and ``filesDropped(paths)`` when files are dropped."""

    currentChanged = Signal(int)
    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.model = GalleryModel(self)
        self.view = _GalleryView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(GalleryDelegate(self.view))
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._current = -1
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    # -- API -------------------------------------------------------------------------------------
    def set_items(
        self,
        images: np.ndarray,
        true_labels: list[str | None],
        predictions: list[tuple[str, float]] | None = None,
    ) -> None:
        """Show ``images`` (N×H×W, N×H×W×3 or N×C×H×W; float in [0, 1] or uint8) with their
        true labels (None where unknown) and optional predictions (label, confidence in [0, 1]).
        Resets the current image to none (set it with :meth:`set_current`)."""
        n = len(images)
        if len(true_labels) != n:
            raise ValueError(f"{n} images but {len(true_labels)} labels")
        if predictions is not None and len(predictions) != n:
            raise ValueError(f"{n} images but {len(predictions)} predictions")
        self._current = -1
        self.model.set_items(images, true_labels, predictions)
        self._update_summary()

    def set_predictions(self, predictions: list[tuple[str, float]] | None) -> None:
        """Replace the predictions only (e.g. after a model change), keeping the selection."""
        if predictions is not None and len(predictions) != self.count():
            raise ValueError(f"{self.count()} images but {len(predictions)} predictions")
        self.model.set_predictions(predictions)
        self._update_summary()
        self.view.viewport().update()

    def set_current(self, i: int) -> None:
        """Make image ``i`` current (and visible); emits currentChanged if it changed."""
        if not 0 <= i < self.count():
            raise IndexError(f"image {i} is outside 0..{self.count() - 1}")
        index = self.model.index(i)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def current(self) -> int:
        """The current row, or -1."""
        return self._current

    def count(self) -> int:
        return self.model.rowCount()

    def item_text(self, i: int) -> str:
        return str(self.model.data(self.model.index(i), Qt.ItemDataRole.DisplayRole))

    def item_rect(self, i: int) -> QRect:
        """Where item ``i`` is drawn, in the view's viewport coordinates (for tests)."""
        return self.view.visualRect(self.model.index(i))

    def viewport(self) -> QWidget:
        return self.view.viewport()

    # -- internals -------------------------------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.row() if current.isValid() else -1
        if row != self._current:
            self._current = row
            if row >= 0:
                self.currentChanged.emit(row)

    def _update_summary(self) -> None:
        self.summary.setText(self.model.summary())

    def _restyle(self) -> None:
        self.summary.setFont(theme.font(bold=True))
        self.view.setFont(theme.font())
        self.view.setGridSize(cell_size())
        self.view.doItemsLayout()
        self.view.viewport().update()

    def setAcceptDrops(self, on: bool) -> None:  # noqa: N802
        """Accept (or refuse, e.g. while a task runs) dropped files, on the whole gallery."""
        super().setAcceptDrops(on)
        if hasattr(self, "view"):
            self.view.setAcceptDrops(on)
            self.view.viewport().setAcceptDrops(on)

    # Drops on the summary line or margins count too.
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        self.view.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.view.dropEvent(event)


def demo_items(n: int = 12, size: int = 28, seed: int = 0):
    """Synthetic grey images with Fashion-MNIST labels; every fourth prediction is wrong."""
    labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    images = np.zeros((n, size, size), np.float32)
    true, preds = [], []
    for i in range(n):
        c = i % len(labels)
        cx, cy, r = 0.5 + 0.1 * np.sin(i), 0.5, 0.2 + 0.02 * c
        blob = np.exp(-(((xx - cx) / r) ** 2 + ((yy - cy) / (r * (1 + 0.1 * c))) ** 2))
        images[i] = np.clip(blob + 0.05 * rng.standard_normal((size, size)), 0, 1)
        true.append(labels[c])
        wrong = i % 4 == 3
        preds.append((labels[(c + 3) % len(labels)] if wrong else labels[c], 0.55 if wrong else 0.97))
    return images, true, preds


def demo() -> Gallery:
    images, true, preds = demo_items()
    gallery = Gallery()
    gallery.set_items(images, true, preds)
    gallery.set_current(1)
    gallery.currentChanged.connect(lambda i: print("current:", i))
    gallery.filesDropped.connect(lambda paths: print("dropped:", paths))
    gallery.resize(560, 440)
    return gallery


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("Gallery demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
