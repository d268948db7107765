"""``OracleView``: what a black-box attacker actually sees — the API's last answer.

A black-box attack never sees the model: it sends images to a prediction API (an
:class:`~workbench.core.oracle.Oracle`) and reads back the top-k labels, with confidences
rounded to a few decimals, or the labels alone. This view shows exactly that answer for the
image being attacked, digit for digit as the attacker got it, with the API's rules in words
above it and the queries spent against the per-image budget below (a bar that fills up).

For a white-box attack it says that there is nothing to query: the attacker holds the weights.

Run alone for development: ``python -m workbench.gui.widgets.oracle_view``.
"""
from __future__ import annotations

import html
import sys
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QProgressBar, QScrollArea, QVBoxLayout, QWidget

from workbench.core.oracle import OracleParams
from workbench.core.params import build
from workbench.gui import theme


def rules_text(settings: OracleParams, num_classes: int) -> str:
    """The API's rules in a few words, e.g. "The API answers the top 3 of 10 classes · rounded
    to 2 decimals · 5,000 queries per image"."""
    k = num_classes if settings.top_k == 0 else min(settings.top_k, num_classes)
    listed = f"all {num_classes} classes" if k == num_classes else f"the top {k} of {num_classes} classes"
    if settings.label_only:
        shown = "labels only"
    elif settings.decimals >= 0:
        shown = f"rounded to {settings.decimals} decimal{'s' if settings.decimals != 1 else ''}"
    else:
        shown = "exact confidences"
    budget = f"{settings.budget:,} queries per image" if settings.budget else "no query budget"
    latency = f" · {settings.latency_ms:g} ms per call" if settings.latency_ms else ""
    return f"The API answers {listed} · {shown} · {budget}{latency}"


def format_score(score: float, decimals: int) -> str:
    """A confidence as the API printed it: its rounding, or 4 decimals when unrounded."""
    return f"{score:.{decimals if decimals >= 0 else 4}f}"


class OracleView(QWidget):
    """The oracle's last answer, its rules and the query count (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = OracleParams()
        self._labels: list[str] = []
        self._rows: list[tuple[str, float | None]] = []
        self.rules = QLabel()
        self.rules.setObjectName("oracleRules")
        self.rules.setWordWrap(True)
        self.answer = QLabel()
        self.answer.setObjectName("oracleAnswer")
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.answer.setStyleSheet("background: #fbfbf7; border: 1px solid #cfcfc4; padding: 3px;")
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.queries = QLabel()
        self.queries.setObjectName("oracleQueries")
        self.queries.setWordWrap(True)
        self.budget_bar = QProgressBar()
        self.budget_bar.setObjectName("oracleBudget")
        self.budget_bar.setTextVisible(False)
        self.budget_bar.setMaximumHeight(10)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(3)
        layout.addWidget(self.rules)
        layout.addWidget(self.answer)
        layout.addWidget(self.queries)
        layout.addWidget(self.budget_bar)
        layout.addStretch(1)
        scroll = QScrollArea()  # a short dock scrolls instead of squeezing the answer
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setToolTip(
            "A black-box attacker only knows what the model's API answers: these labels and "
            "confidences, for the image it last sent, and how many queries it has left."
        )
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self.set_white_box()

    # -- API -------------------------------------------------------------------------------------
    def set_oracle(self, settings: dict[str, Any] | OracleParams, labels: Sequence[str]) -> None:
        """A black-box run begins: the API's ``settings`` (OracleParams or its values, defaults
        for the missing ones) over a model with class ``labels``. No answer yet."""
        self._settings = settings if isinstance(settings, OracleParams) else build(OracleParams, dict(settings))
        self._labels = [str(label) for label in labels]
        self._rows = []
        self.rules.setText(rules_text(self._settings, len(self._labels)))
        self.answer.setText("<i>No query answered yet.</i>")
        self.answer.setVisible(True)
        self._show_queries(0, self._settings.budget)

    def set_answer(
        self,
        labels: np.ndarray,
        scores: np.ndarray | None,
        queries: int,
        budget: int | None = None,
        image: str = "",
    ) -> None:
        """Show one answer: the listed class indices ``labels`` (most likely first) and their
        ``scores`` as the API gave them (None: labels only); ``queries`` spent on the image so
        far, of ``budget`` (default: the oracle's); ``image`` names it (batch runs)."""
        labels = np.asarray(labels).reshape(-1)
        shown = None if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
        self._rows = [
            (self._label(int(k)), None if shown is None else float(shown[i])) for i, k in enumerate(labels)
        ]
        decimals = self._settings.decimals
        lines = []
        for rank, (name, score) in enumerate(self._rows, start=1):
            value = "" if score is None else f"<td align='right'>&nbsp;&nbsp;<tt>{format_score(score, decimals)}</tt></td>"
            weight = "bold" if rank == 1 else "normal"
            lines.append(f"<tr><td>{rank}.&nbsp;</td><td style='font-weight:{weight}'>{html.escape(name)}</td>{value}</tr>")
        heading = f"<span style='color:#555'>Last answer{' for ' + html.escape(image) if image else ''}:</span>"
        self.answer.setText(heading + "<table cellspacing='0' cellpadding='1'>" + "".join(lines) + "</table>")
        self._show_queries(int(queries), self._settings.budget if budget is None else int(budget))

    def set_white_box(self) -> None:
        """A white-box run (or none): there is no API to show."""
        self._rows = []
        self.rules.setText(
            "White-box attack: the attacker holds the model's weights and gradients and sends no "
            "queries. Pick a black-box attack (or switch Access to the API) to see what an API user sees."
        )
        self.answer.setVisible(False)
        self.queries.setText("")
        self.budget_bar.setVisible(False)

    def answer_rows(self) -> list[tuple[str, float | None]]:
        """The answer shown: (class name, confidence as given, or None for labels only)."""
        return list(self._rows)

    def queries_text(self) -> str:
        return self.queries.text()

    # -- internals -------------------------------------------------------------------------------
    def _label(self, index: int) -> str:
        return self._labels[index] if 0 <= index < len(self._labels) else str(index)

    def _show_queries(self, queries: int, budget: int) -> None:
        if budget:
            left = max(budget - queries, 0)
            self.queries.setText(f"Queries: <b>{queries:,}</b> of {budget:,} — <b>{left:,}</b> left")
            self.budget_bar.setRange(0, budget)
            self.budget_bar.setValue(min(queries, budget))
            self.budget_bar.setVisible(True)
        else:
            self.queries.setText(f"Queries: <b>{queries:,}</b> (no budget)")
            self.budget_bar.setVisible(False)

    def _restyle(self) -> None:
        f = theme.font()
        for label in (self.rules, self.answer, self.queries):
            label.setFont(f)


def demo() -> OracleView:
    view = OracleView()
    labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    view.set_oracle({"top_k": 3, "decimals": 2, "budget": 1000}, labels)
    view.set_answer(np.array([4, 6, 2]), np.array([0.61, 0.27, 0.08]), 312, image="Coat/3.png")
    view.resize(360, 260)
    return view


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("OracleView demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
