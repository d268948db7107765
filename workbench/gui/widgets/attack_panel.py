"""``AttackPanel``: pick an attack, set its parameters, run, pause, stop, copy as command.

The parameter form is generated from the attack's declaration (:mod:`workbench.gui.forms`).
The panel holds no state of its own: the attack, its values, the targeted mode, the target
class and the seed live in :class:`~workbench.gui.state.AppState`, which it shows and updates.
It asks the lab to act through signals (``runRequested``, ``batchRequested`` — run on every
image of the gallery —, ``pauseRequested(bool)``, ``stopRequested``, ``copyCommandRequested``);
:func:`build_command` writes the equivalent ``workbench attack …`` line. The access switch
runs the same attack with the model's weights or through its API
(:mod:`workbench.gui.widgets.access_switch`).

Run alone for development: ``python -m workbench.gui.widgets.attack_panel``.
"""
from __future__ import annotations

import shlex
import sys
from typing import Any, Mapping

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.attacks import ATTACKS
from workbench.gui import theme
from workbench.gui.forms import ParamForm, format_number
from workbench.gui.state import AppState, ModelSource
from workbench.gui.widgets.access_switch import AccessSwitch

DEFAULT_ATTACK = "pgd"

# OracleParams fields ← the command line's options for them.
ORACLE_OPTIONS = {"top_k": "--top-k", "decimals": "--round", "label_only": "--label-only",
                  "budget": "--budget", "latency_ms": "--latency"}


def _quote(value: str) -> str:
    return shlex.quote(str(value))


def build_command(
    model: ModelSource | str,
    data: str,
    attack_id: str,
    params: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    target: str | None = None,
    mask_file: str | None = None,
    mask_rect: tuple[int, int, int, int] | None = None,
    seed: int = 0,
    limit: int | None = None,
    oracle: Mapping[str, Any] | None = None,
) -> str:
    """The ``workbench attack …`` line that repeats a run. Parameters equal to their declared
    default (``defaults``) are left out; the mask is a PNG file or a rectangle in model pixels."""
    source = model if isinstance(model, ModelSource) else ModelSource(str(model), builtin=True)
    parts = ["workbench", "attack", *(_quote(arg) for arg in source.to_cli_args())]
    parts += ["--data", _quote(data)]
    if limit is not None:
        parts += ["--limit", str(int(limit))]
    parts += ["--attack", _quote(attack_id)]
    for key, value in params.items():
        if defaults is not None and key in defaults and defaults[key] == value:
            continue
        parts += ["--param", _quote(f"{key}={format_number(value) if not isinstance(value, str) else value}")]
    if target is not None:
        parts += ["--target", _quote(target)]
    for key, value in (oracle or {}).items():
        option = ORACLE_OPTIONS.get(key)
        if option is None:
            continue
        if isinstance(value, bool):
            parts += [option] if value else []
        else:
            parts += [option, format_number(value)]
    if mask_file:
        parts += ["--mask", _quote(mask_file)]
    elif mask_rect is not None:
        parts += ["--mask-rect", ",".join(str(int(v)) for v in mask_rect)]
    parts += ["--seed", str(int(seed))]
    return " ".join(parts)


class AttackPanel(QWidget):
    """Attack picker, generated parameter form, targeted mode, seed and run controls."""

    runRequested = Signal()
    batchRequested = Signal()
    pauseRequested = Signal(bool)  # True: pause, False: resume
    stopRequested = Signal()
    copyCommandRequested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._paused = False
        self._syncing = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.picker = QComboBox()
        self.picker.setObjectName("attackPicker")
        for attack in ATTACKS:
            self.picker.addItem(attack.title, attack.id)
        layout.addWidget(self.picker)
        self.access = AccessSwitch(state)
        layout.addWidget(self.access)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("attackSummary")
        layout.addWidget(self.summary)
        self.paper = QLabel()
        self.paper.setWordWrap(True)
        self.paper.setObjectName("attackPaper")
        self.paper.setStyleSheet("color: #555; font-style: italic;")
        layout.addWidget(self.paper)

        self.params_box = QGroupBox("Parameters")
        box_layout = QVBoxLayout(self.params_box)
        self.form = ParamForm()
        box_layout.addWidget(self.form)
        layout.addWidget(self.params_box)

        from workbench.core.oracle import OracleParams

        self.oracle_box = QGroupBox("Black-box access: what the model's API reveals")
        self.oracle_box.setToolTip(
            "Score-based and label-only attacks never see the model: they query it through an "
            "API that answers these top-k labels (with rounded confidences, or labels only), "
            "within a query budget per image."
        )
        oracle_layout = QVBoxLayout(self.oracle_box)
        self.oracle_form = ParamForm(OracleParams)
        self.oracle_form.setObjectName("oracleForm")
        oracle_layout.addWidget(self.oracle_form)
        layout.addWidget(self.oracle_box)

        goal = QGridLayout()
        self.targeted_check = QCheckBox("Targeted: make it say")
        self.targeted_check.setToolTip("Push the prediction to a chosen class instead of away from the true one")
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("targetClass")
        self.target_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        goal.addWidget(self.targeted_check, 0, 0)
        goal.addWidget(self.target_combo, 0, 1)
        self.seed_label = QLabel("Seed:")
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seed")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same result on the same device")
        goal.addWidget(self.seed_label, 1, 0)
        goal.addWidget(self.seed_spin, 1, 1)
        goal.setColumnStretch(1, 1)
        layout.addLayout(goal)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("▶ Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip(f"Run the attack on the current image ({QKeySequence('Ctrl+R').toString()} or F5)")
        self.run_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the attack (Esc)")
        for button in (self.run_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.batch_button = QPushButton("▶▶ Run on all images")
        self.batch_button.setObjectName("batchButton")
        self.batch_button.setToolTip(
            "Attack every image of the gallery with these settings and list the results "
            f"({QKeySequence('Ctrl+Shift+R').toString()})"
        )
        layout.addWidget(self.batch_button)
        self.reason = QLabel()
        self.reason.setObjectName("runReason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #c62828;")
        layout.addWidget(self.reason)
        self.copy_button = QPushButton("Copy as command")
        self.copy_button.setObjectName("copyCommand")
        self.copy_button.setToolTip("Copy the equivalent `workbench attack …` command line to the clipboard")
        layout.addWidget(self.copy_button)
        layout.addStretch(1)

        # user → state
        self.picker.currentIndexChanged.connect(self._picked)
        self.form.valuesChanged.connect(self._form_edited)
        self.form.validityChanged.connect(lambda _valid: self._update_buttons())
        self.oracle_form.valuesChanged.connect(self._oracle_edited)
        self.oracle_form.validityChanged.connect(lambda _valid: self._update_buttons())
        self.targeted_check.toggled.connect(state.set_targeted)
        self.target_combo.currentIndexChanged.connect(self._target_picked)
        self.seed_spin.valueChanged.connect(state.set_seed)
        self.run_button.clicked.connect(self.runRequested)
        self.batch_button.clicked.connect(self.batchRequested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stopRequested)
        self.copy_button.clicked.connect(self.copyCommandRequested)
        # state → widgets
        state.attackChanged.connect(self._show_attack)
        state.attackParamsChanged.connect(self._show_params)
        state.targetedChanged.connect(self._show_targeted)
        state.targetClassChanged.connect(self._show_target_class)
        state.seedChanged.connect(self.seed_spin.setValue)
        state.oracleParamsChanged.connect(self._show_oracle)
        state.modelChanged.connect(self._show_labels)
        state.imagesChanged.connect(lambda _images: self._update_buttons())
        state.currentIndexChanged.connect(lambda _index: self._update_buttons())
        state.busyChanged.connect(lambda _busy: self._update_buttons())
        state.presentationChanged.connect(lambda _on: self._show_advanced())
        state.showAdvancedChanged.connect(lambda _on: self._show_advanced())
        theme.theme_signals().changed.connect(self._restyle)

        if not state.attack_id:
            state.set_attack(DEFAULT_ATTACK if DEFAULT_ATTACK in ATTACKS else ATTACKS.ids()[0])
        self._show_attack(state.attack_id)
        self._show_labels(state.model)
        self._show_targeted(state.targeted)
        self._show_oracle(state.oracle_params)
        self.seed_spin.setValue(state.seed)
        self._show_advanced()
        self._restyle()

    # -- what the lab reads -----------------------------------------------------------------------
    def attack_class(self):
        return ATTACKS.get(self.state.attack_id)

    def values(self) -> dict[str, Any]:
        """The form's checked values (all fields when the form is valid)."""
        return self.form.values()

    def defaults(self) -> dict[str, Any]:
        return {info.name: info.default for info in self.form.params()}

    def is_black_box(self) -> bool:
        return self.attack_class().access != "white-box"

    def oracle_values(self) -> dict[str, Any]:
        """The oracle settings that differ from their declared defaults."""
        defaults = {info.name: info.default for info in self.oracle_form.params()}
        return {k: v for k, v in self.oracle_form.values().items() if defaults.get(k) != v}

    def run_blocker(self) -> str:
        """Why Run is disabled ('' when it is enabled)."""
        if self.state.busy:
            return ""
        if self.state.model is None:
            return "Load a model first."
        if self.state.current_index < 0:
            return "Open images first."
        if not self.form.is_valid():
            names = ", ".join(info.title for info in self.form.params() if info.name in self.form.errors())
            return f"Fix {names} to run."
        if self.is_black_box() and not self.oracle_form.is_valid():
            names = ", ".join(info.title for info in self.oracle_form.params() if info.name in self.oracle_form.errors())
            return f"Fix {names} to run."
        if self.state.model is not None and not self.state.model.capabilities.gradients and self.attack_class().access == "white-box":
            return "This model gives no gradients: pick a black-box attack."
        return ""

    def set_paused(self, paused: bool) -> None:
        """Show the paused state (the lab calls this when the worker pauses or resumes)."""
        self._paused = bool(paused)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(self._paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if self._paused else "Pause")

    # -- user → state ---------------------------------------------------------------------------
    def _picked(self, index: int) -> None:
        if not self._syncing and index >= 0:
            self.state.set_attack(self.picker.itemData(index))

    def _form_edited(self) -> None:
        if not self._syncing:
            self.state.set_attack_params(self.form.values())
        self._update_buttons()

    def _oracle_edited(self) -> None:
        if not self._syncing:
            self.state.set_oracle_params(self.oracle_values())
        self._update_buttons()

    def _show_oracle(self, values: dict) -> None:
        if values != self.oracle_values():
            self._syncing = True
            try:
                self.oracle_form.reset()
                self.oracle_form.set_values(values)
            finally:
                self._syncing = False

    def _target_picked(self, index: int) -> None:
        if not self._syncing and index >= 0:
            self.state.set_target_class(index)

    def _pause_toggled(self, checked: bool) -> None:
        self.set_paused(checked)
        self.pauseRequested.emit(checked)

    # -- state → widgets ------------------------------------------------------------------------
    def _show_attack(self, attack_id: str) -> None:
        if attack_id not in ATTACKS:
            return
        attack = ATTACKS.get(attack_id)
        self._syncing = True
        try:
            self.picker.setCurrentIndex(self.picker.findData(attack_id))
            self.summary.setText(attack.summary)
            self.paper.setText(f"Paper: {attack.paper}")
            self.paper.setToolTip(attack.paper)
            self.form.set_params(attack.parameters())
            stored = self.state.attack_params(attack_id)
            if stored:
                self.form.set_values(stored)
            self.form.set_show_advanced(self.state.show_advanced)
            self.oracle_box.setVisible(attack.access != "white-box")
        finally:
            self._syncing = False
        self._update_buttons()

    def _show_params(self, values: dict) -> None:
        if values != self.form.values():
            self._syncing = True
            try:
                self.form.set_values(values)
            finally:
                self._syncing = False
        self._update_buttons()

    def _show_targeted(self, targeted: bool) -> None:
        self.targeted_check.setChecked(targeted)
        self.target_combo.setEnabled(targeted)

    def _show_target_class(self, index: int) -> None:
        self._syncing = True
        self.target_combo.setCurrentIndex(index)
        self._syncing = False

    def _show_labels(self, model) -> None:
        self._syncing = True
        try:
            self.target_combo.clear()
            if model is not None:
                self.target_combo.addItems([f"{i}: {name}" for i, name in enumerate(model.labels)])
                self.target_combo.setCurrentIndex(min(self.state.target_class, model.num_classes - 1))
        finally:
            self._syncing = False
        self._update_buttons()

    def _show_advanced(self) -> None:
        show = self.state.show_advanced
        self.form.set_show_advanced(show)
        self.oracle_form.set_show_advanced(show)
        self.seed_label.setVisible(show)
        self.seed_spin.setVisible(show)
        self.copy_button.setVisible(show)
        self.paper.setVisible(show)

    def _update_buttons(self) -> None:
        busy = self.state.busy
        blocker = self.run_blocker()
        self.run_button.setEnabled(not busy and not blocker)
        self.batch_button.setEnabled(not busy and not blocker)
        self.pause_button.setEnabled(busy)
        self.stop_button.setEnabled(busy)
        if not busy and self._paused:
            self.set_paused(False)
        # Settings stay editable (and readable) during a run; they apply to the next one.
        self.picker.setEnabled(not busy)
        self.access.setEnabled(not busy)
        self.target_combo.setEnabled(self.state.targeted)
        self.reason.setText(blocker)
        self.reason.setVisible(bool(blocker))

    def _restyle(self) -> None:
        big = theme.font(theme.style().title_pt, bold=True)
        self.run_button.setFont(big)
        self.run_button.setMinimumHeight(int(theme.style().font_pt * 3))
        for button in (self.pause_button, self.stop_button, self.batch_button):
            button.setFont(theme.font())
            button.setMinimumHeight(int(theme.style().font_pt * 3))


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    state = AppState()
    panel = AttackPanel(state)
    panel.runRequested.connect(lambda: print("run", state.attack_id, panel.values()))
    panel.copyCommandRequested.connect(
        lambda: print(build_command("fashion-cnn", "samples:fashion-mnist", state.attack_id, panel.values(), defaults=panel.defaults(), seed=state.seed))
    )
    panel.setWindowTitle("AttackPanel demo")
    panel.resize(360, 560)
    panel.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
