"""``DefenseCard``: the outcome of one attack on a defended model, as a card.

The robust accuracy in large type, the clean accuracy under it, a reference result for
comparison (the undefended model's robust accuracy under the same attack, or the white-box
attack's for a black-box card) and the difference in points, a progress bar
while the attack runs, the evaluation warnings in a yellow banner right under the numbers
they qualify, and a few of the adversarial images with what the (defended) model answered.

Run alone for development: ``python -m workbench.gui.widgets.defense_card``.
"""
from __future__ import annotations

import math
import sys
from typing import Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.widgets.image_triptych import numpy_to_qimage
from workbench.gui.widgets.warning_banner import WarningBanner

EXAMPLES = 6  # adversarial images shown
EXAMPLE_COLUMNS = 3
EXAMPLE_GAP = 6  # pixels between thumbnails


def percent(value: float | None) -> str:
    """An accuracy as "75 %", or "—" when unknown (None or NaN: no labelled image)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    return f"{100.0 * float(value):.0f}\u00a0%"  # never "94" and "%" on two lines


def points(value: float, reference: float) -> str:
    """The difference of two accuracies in percentage points, e.g. "+72 points"."""
    delta = 100.0 * (float(value) - float(reference))
    return f"{delta:+.0f} points"


class ExampleGrid(QWidget):
    """Thumbnails with a coloured caption under each, as large as the width allows (up to the
    theme's thumbnail size), so that a narrow card stays narrow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[tuple[QImage, str, str]] = []  # image, caption, colour
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_items(self, items: list[tuple[QImage, str, str]]) -> None:
        self._items = items
        self.updateGeometry()
        self.update()

    def captions(self) -> list[str]:
        return [caption for _image, caption, _color in self._items]

    def _side(self, width: int) -> int:
        cell = (width - (EXAMPLE_COLUMNS - 1) * EXAMPLE_GAP) // EXAMPLE_COLUMNS
        return max(16, min(cell, int(theme.style().thumbnail)))

    def _rows(self) -> int:
        return -(-len(self._items) // EXAMPLE_COLUMNS)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        line = self.fontMetrics().lineSpacing()
        return self._rows() * (self._side(width) + line + EXAMPLE_GAP)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = EXAMPLE_COLUMNS * 72 + (EXAMPLE_COLUMNS - 1) * EXAMPLE_GAP
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = EXAMPLE_COLUMNS * 24 + (EXAMPLE_COLUMNS - 1) * EXAMPLE_GAP
        return QSize(width, self.heightForWidth(width))

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        side = self._side(self.width())
        line = self.fontMetrics().lineSpacing()
        used = EXAMPLE_COLUMNS * side + (EXAMPLE_COLUMNS - 1) * EXAMPLE_GAP
        left = max(0, (self.width() - used) // 2)
        for i, (image, caption, color) in enumerate(self._items):
            x = left + (i % EXAMPLE_COLUMNS) * (side + EXAMPLE_GAP)
            y = (i // EXAMPLE_COLUMNS) * (side + line + EXAMPLE_GAP)
            painter.drawImage(QRect(x, y, side, side), image)  # nearest neighbour: pixels stay crisp
            painter.setPen(QColor(color))
            text = self.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideRight, side + EXAMPLE_GAP)
            painter.drawText(QRect(x - EXAMPLE_GAP // 2, y + side, side + EXAMPLE_GAP, line), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()


class DefenseCard(QFrame):
    """A card for one attack's outcome (see the module docstring)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("defenseCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#defenseCard { background: white; border: 1px solid #c8c8c8; border-radius: 6px; }"
                           " QFrame#defenseCard QLabel { background: transparent; }")
        self.title = QLabel(title)
        self.title.setObjectName("cardTitle")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("cardSubtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet("color: #555555;")
        self.robust = QLabel("—")
        self.robust.setObjectName("robustAccuracy")
        self.robust.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.robust_caption = QLabel("robust accuracy")
        self.robust_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.robust_caption.setWordWrap(True)
        self.robust_caption.setStyleSheet("color: #555555;")
        self.clean = QLabel()
        self.clean.setObjectName("cleanAccuracy")
        self.clean.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clean.setWordWrap(True)
        self.reference = QLabel()
        self.reference.setObjectName("referenceAccuracy")
        self.reference.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reference.setWordWrap(True)
        self.reference.setStyleSheet("color: #444444;")
        self.progress = QProgressBar()
        self.progress.setObjectName("cardProgress")
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.banner = WarningBanner()
        self.examples_title = QLabel("Adversarial images, as the model answers them:")
        self.examples_title.setWordWrap(True)
        self.examples_title.setStyleSheet("color: #555555;")
        self.examples = ExampleGrid()
        self.examples.setObjectName("cardExamples")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addSpacing(6)
        layout.addWidget(self.robust)
        layout.addWidget(self.robust_caption)
        layout.addWidget(self.clean)
        layout.addWidget(self.reference)
        layout.addWidget(self.progress)
        layout.addWidget(self.banner)
        layout.addSpacing(6)
        layout.addWidget(self.examples_title)
        layout.addWidget(self.examples)
        layout.addStretch(1)
        self._robust: float | None = None
        self._clean: float | None = None
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self.clear()

    # -- API --------------------------------------------------------------------------------------
    def clear(self, subtitle: str = "") -> None:
        """Empty: no result yet."""
        self._robust = self._clean = None
        self.subtitle.setText(subtitle)
        self.subtitle.setVisible(bool(subtitle))
        self.robust.setText("—")
        self.clean.setText("clean accuracy —")
        self.reference.setText("")
        self.progress.setVisible(False)
        self.banner.set_warnings([])
        self.set_examples(np.zeros((0, 1, 1, 1), np.float32), [], [], [])

    def set_examples(self, images: np.ndarray, predicted: Sequence[int], labels: Sequence[int],
                     class_names: Sequence[str]) -> None:
        """A few adversarial ``images`` (of N×C×H×W in [0, 1], spread over them) with the class
        the model answered for each: green where it is still the true class, red where the
        attack won."""
        items = []
        for i in sorted({int(round(v)) for v in np.linspace(0, len(images) - 1, min(len(images), EXAMPLES))}):
            answer = int(predicted[i])
            name = class_names[answer] if 0 <= answer < len(class_names) else str(answer)
            color = theme.COLOR_RIGHT if answer == int(labels[i]) else theme.COLOR_WRONG
            items.append((numpy_to_qimage(theme.to_display_uint8(np.asarray(images[i]))), name, color))
        self.examples.set_items(items)
        self.examples.setVisible(bool(items))
        self.examples_title.setVisible(bool(items))

    def set_waiting(self, text: str = "waiting…") -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text)

    def set_progress(self, done: int, total: int, text: str) -> None:
        """The attack at ``done`` of ``total`` (iterations), described by ``text``."""
        self.progress.setVisible(True)
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(min(int(done), max(int(total), 1)))
        self.progress.setFormat(text)

    def set_result(
        self,
        clean: float | None,
        robust: float | None,
        reference_robust: float | None = None,
        warnings: Sequence[str] = (),
        reference_name: str = "undefended model",
    ) -> None:
        """The measured accuracies; ``reference_robust`` is the robust accuracy to compare with,
        named ``reference_name`` (by default the undefended model's under the same attack; None:
        not measured)."""
        self._robust, self._clean = robust, clean
        self.progress.setVisible(False)
        self.robust.setText(percent(robust))
        self.clean.setText(f"clean accuracy {percent(clean)}")
        if reference_robust is not None and robust is not None:
            self.reference.setText(f"{reference_name}: {percent(reference_robust)} robust "
                                   f"({points(robust, reference_robust)})")
        else:
            self.reference.setText("")
        self.set_warnings(warnings)

    def set_warnings(self, warnings: Sequence[str]) -> None:
        """The evaluation warnings under the numbers (replacing the earlier ones: a later stage
        can qualify a finished result)."""
        self.banner.set_warnings(list(warnings))

    def robust_accuracy(self) -> float | None:
        return self._robust

    def clean_accuracy(self) -> float | None:
        return self._clean

    def warnings(self) -> list[str]:
        return self.banner.warnings()

    def _restyle(self) -> None:
        s = theme.style()
        self.title.setFont(theme.font(s.title_pt * 1.1, bold=True))
        self.robust.setFont(theme.font(s.title_pt * (2.5 if s.presentation else 3.2), bold=True))
        self.clean.setFont(theme.font(s.font_pt * 1.2))
        # The card's style sheet stops its children from following the application font:
        # every one gets it here.
        for widget in (self.subtitle, self.robust_caption, self.reference, self.examples_title, self.progress):
            widget.setFont(theme.font())
        self.examples.setFont(theme.font(s.font_pt * 0.9))
        self.examples.updateGeometry()
        # Two lines for every subtitle, so that the cards' large numbers line up.
        self.subtitle.setMinimumHeight(2 * self.subtitle.fontMetrics().lineSpacing())


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    card = DefenseCard("Naive attack")
    card.clear("PGD (L∞) ε = 0.1 · gradients through the defense as it is")
    card.set_result(0.88, 0.75, 0.0, ["A defense step gives no useful gradient, and the attack did not use BPDA."])
    card.setWindowTitle("DefenseCard demo")
    card.resize(360, 420)
    card.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
