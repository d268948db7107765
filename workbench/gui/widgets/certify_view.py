"""``CertifyView``: randomized smoothing's CERTIFY at work, then its certified accuracy (Cohen,
Rosenfeld and Kolter, "Certified Adversarial Robustness via Randomized Smoothing", ICML 2019).

Left, the settings: the base model (the lab lists the current model and the built-in
noise-trained ``fashion-cnn-noise-<σ>`` models it finds; a base model must have been trained
under the noise it is smoothed with), the smoothing parameters σ, n₀, n, α and batch size (a
form generated from :class:`~workbench.defenses.smoothing.SmoothingParams`) and how many of the
gallery's images to certify.

Right, while it runs: the current image's class votes under noise filling up as bars, and the
images done; when it ends: the certified accuracy against the L2 radius (a step curve: the
fraction of images classified correctly with a certified radius at least r), the abstentions,
and a table of every image's prediction, radius and lower confidence bound.

The view runs nothing: ``runRequested``/``stopRequested`` ask its lab, which feeds
:meth:`show_progress` and :meth:`show_result` with the worker's events, and keeps the settings
(:meth:`~CertifyView.save_state`).

Run alone for development: ``python -m workbench.gui.widgets.certify_view``.
"""
from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.defenses.smoothing import SmoothingParams
from workbench.gui import theme
from workbench.gui.forms import ParamForm, format_number
from workbench.gui.widgets.defense_card import percent
from workbench.gui.widgets.page_parts import (
    group,
    restore_form,
    restore_spin,
    run_buttons,
    settings_panel,
    styled_plot,
    tint,
)

RADIUS_POINTS = 400  # points of the certified-accuracy curve
DEFAULT_IMAGES = 16
PHASES = {"select": "choosing the class (n₀)", "estimate": "bounding its probability (n)"}


def radius_grid(radii: np.ndarray, sigma: float) -> np.ndarray:
    """Radii from 0 to a little beyond the largest certified one (at least σ), where the
    certified accuracy is drawn."""
    top = max(float(np.max(radii, initial=0.0)), float(sigma)) * 1.1
    return np.linspace(0.0, top, RADIUS_POINTS)


class CertifyView(QWidget):
    """Randomized smoothing's certification, live (see the module docstring)."""

    runRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._result: Any = None
        self._curve = (np.zeros(0), np.zeros(0))
        self._image = -1
        self._chosen = ""  # the base model chosen last, chosen again when it is offered

        self.model = QComboBox()
        self.model.setObjectName("certifyModel")
        self.model_hint = QLabel()
        self.model_hint.setWordWrap(True)
        tint(self.model_hint, "#555555")
        self.form = ParamForm(SmoothingParams)
        self.form.setObjectName("smoothingForm")
        self.images = QSpinBox()
        self.images.setObjectName("certifyImages")
        self.images.setRange(1, 10_000)
        self.images.setToolTip("How many of the gallery's images, spread evenly over it")
        self.images.setValue(DEFAULT_IMAGES)
        images_form = QFormLayout()
        images_form.setContentsMargins(0, 0, 0, 0)
        images_form.addRow("Images:", self.images)
        images_box = QWidget()
        images_box.setLayout(images_form)
        self.run_button, self.stop_button, buttons = run_buttons("Certify")
        self.run_button.setObjectName("runCertify")
        self.stop_button.setObjectName("stopCertify")
        settings = settings_panel(
            group("Base model", self.model, self.model_hint),
            group("Randomized smoothing", self.form),
            images_box,
            buttons,
        )

        self.status = QLabel("Certify images of the gallery with the smoothed classifier.")
        self.status.setObjectName("certifyStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("certifyProgress")
        self.progress.setFormat("%v of %m images")
        self.progress.setValue(0)

        self.votes_plot = styled_plot("Votes under noise", "noise samples", "")
        self.votes = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, pen=pg.mkPen("w"))
        self.votes_plot.getPlotItem().addItem(self.votes)
        self.votes_plot.getPlotItem().getViewBox().invertY(True)
        self.curve_plot = styled_plot("Certified accuracy", "L2 radius", "certified accuracy")
        self.curve_plot.getPlotItem().setYRange(0.0, 1.02, padding=0.0)
        self.curve = self.curve_plot.getPlotItem().plot([], [], stepMode=None, pen=pg.mkPen(theme.COLOR_LINF, width=2))
        self.summary = QLabel()
        self.summary.setObjectName("certifySummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("certifyTable")
        self.table.setHorizontalHeaderLabels(["Image", "True class", "Smoothed prediction", "Certified radius", "p_A lower bound"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        plots = QWidget()
        plots_layout = QHBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.votes_plot, 2)
        plots_layout.addWidget(self.curve_plot, 3)
        below = QSplitter(Qt.Orientation.Vertical)
        below.addWidget(plots)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.summary)
        lower_layout.addWidget(self.table, 1)
        below.addWidget(lower)
        below.setSizes([600, 300])
        results = QVBoxLayout()
        results.addWidget(self.status)
        results.addWidget(self.progress)
        results.addWidget(below, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(settings)
        layout.addLayout(results, 1)

        self.run_button.clicked.connect(self.runRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.model.currentIndexChanged.connect(self._model_chosen)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    # -- settings ---------------------------------------------------------------------------------
    def set_models(self, models: Sequence[tuple[str, str, float | None]], hint: str = "") -> None:
        """The base models to offer: (id, shown name, training noise σ or None); choosing one
        with a training σ sets the smoothing σ to it. The last choice (or the stored one) is kept
        if it is offered; otherwise the model trained with the σ nearest the form's is chosen, if
        any is."""
        self.model.blockSignals(True)
        self.model.clear()
        for model_id, name, sigma in models:
            self.model.addItem(name, (model_id, sigma))
        sigma_now = float(self.form.values().get("sigma", 0.25))
        trained = [(abs(sigma - sigma_now), i) for i, (_id, _name, sigma) in enumerate(models) if sigma is not None]
        kept = next((i for i, (model_id, _name, _sigma) in enumerate(models) if model_id == self._chosen), None)
        self.model.setCurrentIndex(kept if kept is not None else min(trained)[1] if trained else 0)
        self.model.blockSignals(False)
        self._model_chosen(self.model.currentIndex())
        self.model_hint.setText(hint)
        self.model_hint.setVisible(bool(hint))

    def model_id(self) -> str:
        data = self.model.currentData()
        return data[0] if data else ""

    def params(self) -> dict[str, Any]:
        return self.form.values()

    def image_count(self) -> int:
        return self.images.value()

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def save_state(self) -> dict[str, Any]:
        """The base model, the smoothing parameters and the image count, for the settings."""
        return {"model": self.model_id(), "smoothing": self.params(), "images": self.images.value()}

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings (what is missing or bad is left as
        it is). The stored model is chosen whenever it is offered (the lab offers the models once
        the current model is known)."""
        if not isinstance(state, dict):
            return
        restore_form(self.form, state.get("smoothing"))
        restore_spin(self.images, state.get("images"))
        model_id = state.get("model")
        if isinstance(model_id, str) and model_id:
            self._chosen = model_id
            index = next((i for i in range(self.model.count()) if self.model.itemData(i)[0] == model_id), -1)
            if index >= 0:
                self.model.setCurrentIndex(index)

    def _model_chosen(self, _index: int) -> None:
        data = self.model.currentData()
        if data:
            self._chosen = data[0]
        if data and data[1] is not None:
            self.form.set_values({"sigma": data[1]})

    # -- results ----------------------------------------------------------------------------------
    def start(self, images: int, labels: Sequence[str]) -> None:
        """A certification of ``images`` images began; ``labels`` are the class names."""
        self._labels = list(labels)
        self._result = None
        self._image = -1
        self.progress.setRange(0, images)
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.summary.setText("")
        self.table.setRowCount(0)
        self.curve.setData([], [])
        self._curve = (np.zeros(0), np.zeros(0))
        k = len(self._labels)
        self.votes.setOpts(x0=np.zeros(k), y=np.arange(k), width=np.zeros(k), brushes=self._class_brushes(k))
        axis = self.votes_plot.getPlotItem().getAxis("left")
        axis.setTicks([[(i, name) for i, name in enumerate(self._labels)]])
        self.votes_plot.getPlotItem().setYRange(-0.6, k - 0.4, padding=0.0)

    def show_progress(self, event: Any) -> None:
        """A :class:`~workbench.core.events.CertifyProgress` (NumPy snapshot)."""
        counts = np.asarray(event.counts, dtype=np.float64)
        self.votes.setOpts(width=counts)
        self.votes_plot.getPlotItem().setXRange(0.0, max(float(event.total), 1.0), padding=0.02)
        self.progress.setValue(int(event.image))
        phase = PHASES.get(event.phase, event.phase)
        top = int(np.argmax(counts)) if counts.sum() else -1
        leader = f" · leading: {self._labels[top]}" if 0 <= top < len(self._labels) else ""
        self.status.setText(f"Image {event.image + 1} of {event.images} · {phase}: "
                            f"{event.done:,} of {event.total:,} noise samples{leader}")
        self.votes_plot.getPlotItem().setTitle(f"Votes under noise, image {event.image + 1}", color="#222222")
        self._image = int(event.image)

    def show_result(self, result: Any, names: Sequence[str] | None = None) -> None:
        """A :class:`~workbench.core.events.CertifyResult` (NumPy snapshot); ``names`` are
        the images' display names."""
        self._result = result
        predictions = np.asarray(result.predictions)
        radii = np.asarray(result.radii, dtype=np.float64)
        labels = np.asarray(result.labels)
        n = len(predictions)
        sigma = float(result.settings.get("sigma", 0.25))
        grid = radius_grid(radii, sigma)
        accuracy = np.array([result.certified_accuracy(float(r)) for r in grid])
        self._curve = (grid, accuracy)
        self.curve.setData(grid, accuracy)
        self.curve_plot.getPlotItem().setXRange(0.0, float(grid[-1]), padding=0.0)
        self.progress.setValue(self.progress.maximum())
        found = result.summary((0.0, sigma))
        self.status.setText(f"Certified {n} images in {result.seconds:.1f} s (σ = {format_number(sigma)}, "
                            f"n = {result.settings.get('n', '?'):,}, α = {format_number(result.settings.get('alpha', 0))}).")
        self.summary.setText(
            f"Certified accuracy <b>{percent(found['certified_accuracy'][0.0])}</b> at radius 0, "
            f"<b>{percent(found['certified_accuracy'][sigma])}</b> at radius σ = {format_number(sigma)} · "
            f"abstained on <b>{found['abstained']}</b> of {n} images"
        )
        self.table.setRowCount(n)
        for i in range(n):
            predicted = int(predictions[i])
            label = int(labels[i])
            right = predicted >= 0 and predicted == label
            cells = [
                names[i] if names is not None and i < len(names) else f"#{i}",
                self._name(label),
                "abstain" if predicted < 0 else self._name(predicted),
                f"{radii[i]:.3f}",
                f"{float(np.asarray(result.p_lower)[i]):.3f}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setForeground(QBrush(QColor(theme.COLOR_RIGHT if right else "#777777" if predicted < 0 else theme.COLOR_WRONG)))
                if column >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, column, item)

    def curve_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The certified-accuracy curve shown: (radii, accuracies)."""
        return self._curve[0].copy(), self._curve[1].copy()

    def result(self) -> Any:
        return self._result

    def stopped(self, text: str) -> None:
        self.status.setText(text)

    # -- internals --------------------------------------------------------------------------------
    def _name(self, index: int) -> str:
        return self._labels[index] if 0 <= index < len(self._labels) else ("—" if index < 0 else str(index))

    @staticmethod
    def _class_brushes(k: int) -> list:
        return [pg.mkBrush(tuple(int(c) for c in rgb)) for rgb in theme.class_colors_rgb(k)]

    def _restyle(self) -> None:
        s = theme.style()
        self.status.setFont(theme.font())
        self.summary.setFont(theme.font(s.font_pt * 1.1))
        self.curve.setPen(pg.mkPen(theme.COLOR_LINF, width=s.line_width))
        for widget in (self.votes_plot, self.curve_plot):
            for side in ("left", "bottom"):
                widget.getPlotItem().getAxis(side).setTickFont(theme.font(s.font_pt * 0.9))


def demo() -> CertifyView:
    from types import SimpleNamespace

    from workbench.core.events import CertifyResult

    view = CertifyView()
    view.set_models([("fashion-cnn", "fashion-cnn (current)", None), ("fashion-cnn-noise-0.25", "fashion-cnn-noise-0.25", 0.25)],
                    "Smoothing needs a base model trained under the same noise.")
    labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    rng = np.random.default_rng(0)
    view.start(16, labels)
    view.show_progress(SimpleNamespace(image=3, images=16, phase="estimate",
                                       counts=np.array([2, 0, 30, 0, 610, 0, 150, 0, 8, 0]), done=800, total=1000))
    truth = rng.integers(0, 10, 16)
    predictions = np.where(rng.random(16) < 0.8, truth, -1)
    radii = np.where(predictions >= 0, rng.uniform(0.0, 0.7, 16), 0.0)
    view.show_result(CertifyResult(predictions=predictions, radii=radii, p_lower=rng.uniform(0.5, 1, 16),
                                   labels=truth, settings={"sigma": 0.25, "n": 1000, "alpha": 0.001}, seconds=4.2))
    return view


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    view = demo()
    view.setWindowTitle("CertifyView demo")
    view.resize(1200, 760)
    view.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
