"""``TradeoffPlot``: one defense's strength swept into the accuracy/robustness trade-off.

Left, the settings: the defense, the strengths to try (its ``strength`` parameter, e.g.
"0, 0.05, 0.1, 0.2" for the noise σ) and its other parameters, the attack, the adaptive
attacker's EOT draws, the radius at which Gaussian noise's smoothed classifier is certified
(with the smoothing's sample sizes), and how many of the gallery's images to use.

Right, filling in point by point as :func:`~workbench.defenses.evaluation.sweep_tradeoff`
delivers them: clean accuracy, robust accuracy under the naive and under the adaptive attack,
and certified accuracy at the radius (Gaussian noise only) against the strength; the warnings
that qualify the naive curve; and export of the plot (PNG) and of the numbers (CSV, one row
per strength as :meth:`~workbench.defenses.evaluation.Tradeoff.rows` gives them).

The view runs nothing: ``runRequested``/``stopRequested`` ask its lab, which feeds
:meth:`show_stage`, :meth:`add_point` and :meth:`show_result`, and keeps the settings
(:meth:`~TradeoffPlot.save_state`).

Run alone for development: ``python -m workbench.gui.widgets.tradeoff_plot``.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.attacks import ATTACKS
from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.params import describe
from workbench.defenses import DEFENSES
from workbench.defenses.smoothing import SmoothingParams
from workbench.gui import theme
from workbench.gui.forms import ERROR_COLOR, ParamForm, format_number
from workbench.gui.widgets.attack_chooser import AttackChooser, bounded_white_box
from workbench.gui.widgets.page_parts import (
    group,
    restore_check,
    restore_choice,
    restore_form,
    restore_spin,
    run_buttons,
    settings_panel,
    styled_plot,
    tint,
)
from workbench.gui.widgets.warning_banner import WarningBanner

# Strengths to sweep by default, weakest defense first.
DEFAULT_STRENGTHS = {
    "gaussian-noise": "0, 0.05, 0.1, 0.2",
    "bit-depth": "8, 4, 3, 2, 1",
    "jpeg": "95, 75, 50, 25, 10",
    "median": "1, 3, 5",
    "resize-pad": "1, 0.9, 0.8, 0.6",
    "thermometer": "256, 32, 16, 8, 4",
}
DEFAULT_IMAGES = 16
# The sweep certifies every strength: smaller samples than a lone certification keep it quick.
SWEEP_SMOOTHING = {"n0": 50, "n": 500}
SERIES = (  # (key, name, colour, dashed)
    ("clean_accuracy", "clean accuracy", theme.COLOR_RIGHT, False),
    ("robust_naive", "robust, naive attack", theme.COLOR_TARGET, True),
    ("robust_adaptive", "robust, adaptive attack", theme.COLOR_WRONG, False),
    ("certified", "certified at radius", theme.COLOR_LINF, False),
)
STAGES = {"naive": "naive attack", "adaptive": "adaptive attack", "certify": "certifying"}


def parse_strengths(text: str, defense_id: str) -> list[float]:
    """The strengths typed as a comma-separated list, each checked against the defense's
    strength parameter (a message naming the bad value otherwise)."""
    defense = DEFENSES.get(defense_id)
    info = next(i for i in defense.parameters() if i.name == defense.strength)
    values = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        try:
            values.append(info.check(part))
        except ParameterError as error:
            raise WorkbenchError(f"{info.title}: {str(error).split(': ', 1)[-1]}") from None
    if not values:
        raise WorkbenchError(f"give at least one value of {info.title}, e.g. {DEFAULT_STRENGTHS.get(defense_id, info.default)}")
    return values


class TradeoffPlot(QWidget):
    """The trade-off sweep and its plot (see the module docstring)."""

    runRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[Any] = []
        self._result: Any = None
        self._radius = 0.5

        self.defense = QComboBox()
        self.defense.setObjectName("tradeoffDefense")
        for defense in DEFENSES:
            self.defense.addItem(defense.title, defense.id)
        self.strength_label = QLabel()
        self.strengths = QLineEdit()
        self.strengths.setObjectName("tradeoffStrengths")
        self.strengths_message = QLabel()
        self.strengths_message.setWordWrap(True)
        tint(self.strengths_message, ERROR_COLOR)
        self.strengths_message.setVisible(False)
        self.defense_form = ParamForm()
        self.attack = AttackChooser(bounded_white_box, initial="pgd", values={"pgd": {"eps": 0.1}})
        self.attack.setObjectName("tradeoffAttack")
        self.eot = QSpinBox()
        self.eot.setObjectName("tradeoffEot")
        self.eot.setRange(1, 256)
        self.eot.setValue(16)
        self.eot.setToolTip("Draws of the defense's randomness that the adaptive attack averages its gradients over")
        self.radius = QDoubleSpinBox()
        self.radius.setObjectName("tradeoffRadius")
        self.radius.setRange(0.0, 10.0)
        self.radius.setSingleStep(0.05)
        self.radius.setValue(self._radius)
        self.smoothing = ParamForm([info for info in describe(SmoothingParams) if info.name != "sigma"])
        self.smoothing.set_values(SWEEP_SMOOTHING)
        self.noise_models = QCheckBox("Noise-trained models")
        self.noise_models.setObjectName("tradeoffNoiseModels")
        self.noise_models.setToolTip("Use the built-in fashion-cnn-noise-σ model where one exists for a swept σ")
        self.images = QSpinBox()
        self.images.setObjectName("tradeoffImages")
        self.images.setRange(1, 10_000)
        self.images.setToolTip("How many of the gallery's images, spread evenly over it")
        self.images.setValue(DEFAULT_IMAGES)
        self.run_button, self.stop_button, buttons = run_buttons("Sweep")
        self.run_button.setObjectName("runTradeoff")
        self.stop_button.setObjectName("stopTradeoff")

        defense_box = QWidget()
        defense_layout = QVBoxLayout(defense_box)
        defense_layout.setContentsMargins(0, 0, 0, 0)
        defense_layout.addWidget(self.defense)
        defense_layout.addWidget(self.strength_label)
        defense_layout.addWidget(self.strengths)
        defense_layout.addWidget(self.strengths_message)
        defense_layout.addWidget(self.defense_form)
        adaptive_form = QFormLayout()
        adaptive_form.addRow("EOT draws (adaptive):", self.eot)
        self.certify_box = QWidget()
        certify_layout = QFormLayout(self.certify_box)
        certify_layout.setContentsMargins(0, 0, 0, 0)
        certify_layout.addRow("Radius (L2):", self.radius)
        certify_layout.addRow(self.smoothing)
        certify_layout.addRow(self.noise_models)
        images_form = QFormLayout()
        images_form.addRow("Images:", self.images)
        images_box = QWidget()
        images_box.setLayout(images_form)
        images_form.setContentsMargins(0, 0, 0, 0)
        self.certify_group = group("Certified accuracy (Gaussian noise)", self.certify_box)
        settings = settings_panel(
            group("Defense and strengths", defense_box),
            group("Attack", self.attack),
            group("Adaptive attack", layout=adaptive_form),
            self.certify_group,
            images_box,
            buttons,
        )

        self.status = QLabel("Choose a defense and the strengths to sweep.")
        self.status.setObjectName("tradeoffStatus")
        self.status.setWordWrap(True)
        self.banner = WarningBanner()
        self.plot_widget = styled_plot("Trade-off", "strength", "accuracy")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setYRange(0.0, 1.02, padding=0.0)
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextColor="#222222", brush=pg.mkBrush(255, 255, 255, 220))
        self.curves = {}
        for key, name, color, dashed in SERIES:
            self.curves[key] = self.plot.plot([], [], name=name, symbol="o", connect="finite")
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.setObjectName("exportTradeoffPng")
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.setObjectName("exportTradeoffCsv")
        for button in (self.export_png_button, self.export_csv_button):
            button.setEnabled(False)
        exports = QHBoxLayout()
        exports.addStretch(1)
        exports.addWidget(self.export_png_button)
        exports.addWidget(self.export_csv_button)
        results = QVBoxLayout()
        results.addWidget(self.status)
        results.addWidget(self.banner)
        results.addWidget(self.plot_widget, 1)
        results.addLayout(exports)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(settings)
        layout.addLayout(results, 1)

        self.defense.currentIndexChanged.connect(lambda _i: self._defense_chosen())
        self.strengths.textChanged.connect(self._check_strengths)
        self.run_button.clicked.connect(self.runRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        self.export_png_button.clicked.connect(self._export_png_dialog)
        self.export_csv_button.clicked.connect(self._export_csv_dialog)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._defense_chosen()

    # -- settings ---------------------------------------------------------------------------------
    def defense_id(self) -> str:
        return str(self.defense.currentData())

    def set_defense(self, defense_id: str, strengths: str | None = None) -> None:
        self.defense.setCurrentIndex(max(self.defense.findData(defense_id), 0))
        if strengths is not None:
            self.strengths.setText(strengths)

    def strength_values(self) -> list[float]:
        """The strengths to sweep (WorkbenchError with a message if one is bad)."""
        return parse_strengths(self.strengths.text(), self.defense_id())

    def defense_params(self) -> dict[str, Any]:
        return self.defense_form.values()

    def radius_value(self) -> float:
        return self.radius.value()

    def smoothing_params(self) -> dict[str, Any]:
        return self.smoothing.values()

    def set_noise_models_available(self, available: bool, hint: str) -> None:
        self.noise_models.setEnabled(available)
        self.noise_models.setChecked(available and self.noise_models.isChecked())
        self.noise_models.setToolTip(hint)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            for button in (self.export_png_button, self.export_csv_button):
                button.setEnabled(False)

    def save_state(self) -> dict[str, Any]:
        """Everything set on the page, for the settings."""
        return {"defense": self.defense_id(), "strengths": self.strengths.text(), "defense_params": self.defense_params(),
                "attack": self.attack.save_state(), "eot": self.eot.value(), "radius": self.radius.value(),
                "smoothing": self.smoothing_params(), "noise_models": self.noise_models.isChecked(),
                "images": self.images.value()}

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings (what is missing or bad, such as
        strengths the defense no longer takes, is left as it is)."""
        if not isinstance(state, dict):
            return
        restore_choice(self.defense, state.get("defense"))
        strengths = state.get("strengths")
        try:
            if isinstance(strengths, str):
                parse_strengths(strengths, self.defense_id())
                self.strengths.setText(strengths)
        except WorkbenchError:
            pass
        restore_form(self.defense_form, state.get("defense_params"))
        self.attack.restore_state(state.get("attack"))
        restore_form(self.smoothing, state.get("smoothing"))
        for spin, key in ((self.eot, "eot"), (self.radius, "radius"), (self.images, "images")):
            restore_spin(spin, state.get(key))
        restore_check(self.noise_models, state.get("noise_models"))

    def _defense_chosen(self) -> None:
        defense = DEFENSES.get(self.defense_id())
        info = next(i for i in defense.parameters() if i.name == defense.strength)
        unit = f" ({info.unit})" if info.unit else ""
        self.strength_label.setText(f"{info.title}{unit} — values to sweep:")
        self.strengths.setToolTip(f"{info.description}. Comma-separated values.")
        self.strengths.setText(DEFAULT_STRENGTHS.get(defense.id, format_number(info.default)))
        self.defense_form.set_params([i for i in defense.parameters() if i.name != defense.strength])
        self.certify_group.setVisible(defense.id == "gaussian-noise")
        self.plot.getAxis("bottom").setLabel(f"{info.title}{unit}", color="#222222")

    def _check_strengths(self) -> None:
        try:
            self.strength_values()
            self.strengths_message.setVisible(False)
            self.strengths.setStyleSheet("")
        except WorkbenchError as error:
            self.strengths_message.setText(str(error))
            self.strengths_message.setVisible(True)
            self.strengths.setStyleSheet(f"border: 1px solid {ERROR_COLOR};")

    # -- results ----------------------------------------------------------------------------------
    def start(self, strengths: Sequence[float], radius: float, warnings: Sequence[str] = ()) -> None:
        """A sweep over ``strengths`` began."""
        self._points = []
        self._result = None
        self._radius = float(radius)
        for curve in self.curves.values():
            curve.setData([], [])
        self.curves["certified"].opts["name"] = f"certified at radius {format_number(radius)}"
        self._relabel_legend()
        low, high = float(min(strengths)), float(max(strengths))
        span = (high - low) or max(abs(high), 1.0)
        self.plot.setXRange(low - 0.05 * span, high + 0.05 * span, padding=0.0)
        self.banner.set_warnings(warnings)
        self.status.setText("Starting…")

    def show_stage(self, stage: Any) -> None:
        """A :class:`~workbench.defenses.evaluation.TradeoffStage` (NumPy snapshot)."""
        inner = stage.event
        step = getattr(inner, "event", None)  # a BatchStep's attack event
        if stage.stage == "certify":
            detail = f"image {inner.image + 1} of {inner.images}"
        elif step is not None and hasattr(step, "iteration"):
            detail = f"iteration {step.iteration} of {step.total}"
        else:
            detail = ""
        strength = format_number(stage.strength)
        self.status.setText(f"Strength {strength} ({stage.index + 1} of {stage.count}) · "
                            f"{STAGES.get(stage.stage, stage.stage)}" + (f" · {detail}" if detail else ""))

    def add_point(self, point: Any) -> None:
        """A :class:`~workbench.defenses.evaluation.TradeoffPoint`: drawn at once."""
        self._points.append(point)
        self._redraw()

    def show_result(self, result: Any) -> None:
        """The final :class:`~workbench.defenses.evaluation.Tradeoff`."""
        self._result = result
        self._points = list(result.points)
        self._redraw()
        attack_id = result.settings.get("attack", "")
        attack = ATTACKS.get(attack_id).title if attack_id in ATTACKS else attack_id
        self.status.setText(f"Swept {len(self._points)} strengths of {DEFENSES.get(result.defense).title} "
                            f"against {attack} (adaptive: EOT×{result.settings.get('eot', '')} where random, "
                            "BPDA where without gradient).")
        for button in (self.export_png_button, self.export_csv_button):
            button.setEnabled(True)

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The plotted series: key → (strengths, values) with NaN where there is no value."""
        return {key: (np.asarray(curve.xData if curve.xData is not None else []),
                      np.asarray(curve.yData if curve.yData is not None else []))
                for key, curve in self.curves.items()}

    def result(self) -> Any:
        return self._result

    def stopped(self, text: str) -> None:
        self.status.setText(text)

    # -- export -----------------------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> None:
        """The sweep's rows (one per strength) as CSV."""
        if self._result is None:
            raise WorkbenchError("there is no finished sweep to export")
        rows = self._result.rows()
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in rows)

    def export_png(self, path: str | Path) -> None:
        """The plot as it is shown, as PNG."""
        if not self.plot_widget.grab().save(str(path), "PNG"):
            raise WorkbenchError(f"could not write {path}")

    def _export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the trade-off plot", "tradeoff.png", "PNG image (*.png)")
        if path:
            self._export(self.export_png, path)

    def _export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the trade-off numbers", "tradeoff.csv", "CSV (*.csv)")
        if path:
            self._export(self.export_csv, path)

    def _export(self, export, path: str) -> None:
        try:
            export(path)
            self.status.setText(f"Saved {path}")
        except (OSError, WorkbenchError) as error:
            self.status.setText(f"<span style='color:{ERROR_COLOR}'>Could not export: {error}</span>")

    # -- internals --------------------------------------------------------------------------------
    def _redraw(self) -> None:
        x = np.array([float(p.strength) for p in self._points])
        for key, curve in self.curves.items():
            values = np.array([np.nan if getattr(p, key) is None else float(getattr(p, key)) for p in self._points])
            if key == "certified" and np.isnan(values).all():
                curve.setData([], [])
            else:
                curve.setData(x, values)

    def _relabel_legend(self) -> None:
        self.legend.clear()
        for key, curve in self.curves.items():
            self.legend.addItem(curve, curve.opts["name"])

    def _restyle(self) -> None:
        s = theme.style()
        for key, name, color, dashed in SERIES:
            pen = pg.mkPen(color, width=s.line_width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            self.curves[key].setPen(pen)
            self.curves[key].setSymbolBrush(pg.mkBrush(color))
            self.curves[key].setSymbolPen(pg.mkPen("w"))
            self.curves[key].setSymbolSize(s.marker_size)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTickFont(theme.font(s.font_pt * 0.9))
        self.status.setFont(theme.font())


def demo() -> TradeoffPlot:
    from workbench.defenses.evaluation import Tradeoff, TradeoffPoint

    view = TradeoffPlot()
    view.set_defense("gaussian-noise")
    strengths = [0.0, 0.05, 0.1, 0.2]
    view.start(strengths, 0.25, ["The defense is randomized but the naive attack used no EOT."])
    points = [TradeoffPoint(s, 0.94 - s, min(0.9, 4 * s), 0.02 + s, None if s == 0 else 0.6 - s) for s in strengths]
    view.show_result(Tradeoff("gaussian-noise", "sigma", points, {"attack": "pgd", "eot": 16}))
    return view


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    view = demo()
    view.setWindowTitle("TradeoffPlot demo")
    view.resize(1200, 720)
    view.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
