"""``DefenseComparison``: the same attack on a stack of defenses, naive and adaptive, side by
side (Athalye, Carlini and Wagner, "Obfuscated Gradients Give a False Sense of Security", ICML
2018).

Left, the settings: the defense stack (:mod:`~workbench.gui.widgets.defense_stack`), a bounded
white-box attack (:mod:`~workbench.gui.widgets.attack_chooser`), the adaptive attacker's
switches — BPDA and EOT with its K draws, set to what the stack needs whenever it changes —
and how many of the gallery's images to attack. Right, three cards
(:mod:`~workbench.gui.widgets.defense_card`): the undefended model for reference, the defended
model under the naive attack, and under the adaptive one, each with its warnings; and a line
that sums the three up.

The widget runs nothing: ``runRequested`` and ``stopRequested`` ask its lab to, and the lab
feeds the cards (:attr:`cards`, by stage name).

Run alone for development: ``python -m workbench.gui.widgets.defense_compare``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.defenses.base import Adaptive
from workbench.gui import theme
from workbench.gui.widgets.attack_chooser import AttackChooser, bounded_white_box
from workbench.gui.widgets.defense_card import DefenseCard, percent
from workbench.gui.widgets.defense_stack import DefenseStack
from workbench.gui.widgets.page_parts import group, run_buttons, settings_panel

STAGES = ("reference", "naive", "adaptive")  # the order the lab runs them in
DEFAULT_IMAGES = 32
DEFAULT_EOT = 16


@dataclass(frozen=True)
class ComparisonSettings:
    """What the user set: the stack as (defense id, values), the attack, the adaptive switches
    and how many images (spread over the gallery) to attack."""

    stack: list[tuple[str, dict[str, Any]]]
    attack_id: str
    attack_values: dict[str, Any]
    adaptive: Adaptive
    images: int


class DefenseComparison(QWidget):
    """Naive vs adaptive attack on a defense stack (see the module docstring)."""

    runRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = DefenseStack()
        self.stack.setObjectName("defenseStack")
        self.attack = AttackChooser(bounded_white_box, initial="pgd", values={"pgd": {"eps": 0.1}})
        self.attack.setObjectName("compareAttack")
        self.bpda = QCheckBox("BPDA")
        self.bpda.setObjectName("bpdaSwitch")
        self.bpda.setToolTip("Backward Pass Differentiable Approximation (Athalye et al. 2018): the forward pass "
                             "runs the defense, the backward pass a differentiable stand-in for it.")
        self.eot = QCheckBox("EOT")
        self.eot.setObjectName("eotSwitch")
        self.eot.setToolTip("Expectation over Transformation (Athalye et al. 2018): every gradient is averaged "
                            "over K random draws of the defense.")
        self.eot_draws = QSpinBox()
        self.eot_draws.setObjectName("eotDraws")
        self.eot_draws.setRange(2, 256)
        self.eot_draws.setValue(DEFAULT_EOT)
        self.eot_draws.setToolTip("K: the draws of the defense's randomness each gradient averages over")
        self.eot.toggled.connect(self.eot_draws.setEnabled)
        self.images = QSpinBox()
        self.images.setObjectName("compareImages")
        self.images.setRange(1, 10_000)
        self.images.setValue(DEFAULT_IMAGES)
        self.images.setToolTip("The attack runs on N images spread evenly over the gallery")
        self.run_button, self.stop_button, buttons = run_buttons("Run naive, then adaptive")
        self.run_button.setObjectName("runComparison")
        self.stop_button.setObjectName("stopComparison")

        adaptive_form = QFormLayout()
        for switch, text in ((self.bpda, "a differentiable stand-in in the backward pass"),
                             (self.eot, "gradients averaged over K draws")):
            explanation = QLabel(text)
            explanation.setWordWrap(True)
            adaptive_form.addRow(switch, explanation)
        adaptive_form.addRow("Draws K:", self.eot_draws)
        images_form = QFormLayout()
        images_form.addRow("Images:", self.images)
        images_box = QWidget()
        images_box.setLayout(images_form)
        images_form.setContentsMargins(0, 0, 0, 0)
        settings = settings_panel(
            group("Defense stack", self.stack),
            group("Attack", self.attack),
            group("Adaptive attack", layout=adaptive_form),
            images_box,
            buttons,
        )

        self.cards = {
            "reference": DefenseCard("No defense"),
            "naive": DefenseCard("Defended · naive attack"),
            "adaptive": DefenseCard("Defended · adaptive attack"),
        }
        self.verdict = QLabel("Stack a defense, then run the same attack naive and adaptive.")
        self.verdict.setObjectName("comparisonVerdict")
        self.verdict.setWordWrap(True)
        cards = QHBoxLayout()
        cards.setSpacing(10)
        for stage in STAGES:
            cards.addWidget(self.cards[stage], 1)
        results = QVBoxLayout()
        results.addWidget(self.verdict)
        results.addLayout(cards, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(settings)
        layout.addLayout(results, 1)

        self.run_button.clicked.connect(self.runRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    # -- API --------------------------------------------------------------------------------------
    def settings(self) -> ComparisonSettings:
        return ComparisonSettings(
            stack=self.stack.stack(), attack_id=self.attack.attack_id(), attack_values=self.attack.values(),
            adaptive=self.adaptive(), images=self.images.value(),
        )

    def adaptive(self) -> Adaptive:
        """The adaptive attacker's switches as set."""
        return Adaptive(bpda=self.bpda.isChecked(), eot=self.eot_draws.value() if self.eot.isChecked() else 1)

    def set_adaptive(self, adaptive: Adaptive) -> None:
        self.bpda.setChecked(adaptive.bpda)
        self.eot.setChecked(adaptive.eot > 1)
        if adaptive.eot > 1:
            self.eot_draws.setValue(adaptive.eot)
        self.eot_draws.setEnabled(self.eot.isChecked())

    def eot_draws_value(self) -> int:
        """K as set, also while EOT is off (the draws it would use)."""
        return self.eot_draws.value()

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_verdict(self, results: dict[str, tuple[float | None, float | None]], adaptive: str) -> None:
        """Sum up the finished stages; ``results`` maps a stage to (clean, robust) accuracy."""
        reference = results.get("reference", (None, None))[1]
        naive = results.get("naive", (None, None))[1]
        strong = results.get("adaptive", (None, None))[1]
        parts = []
        if naive is not None:
            parts.append(f"Against the naive attack the defense keeps <b>{percent(naive)}</b> robust accuracy"
                         f" (undefended model: {percent(reference)}).")
        if strong is not None:
            parts.append(f"The adaptive attack ({adaptive}) leaves <b>{percent(strong)}</b>.")
        self.verdict.setText(" ".join(parts))

    def stopped(self, text: str) -> None:
        """The run was stopped: the cards without a result say so."""
        for card in self.cards.values():
            if card.robust_accuracy() is None:
                card.set_progress(0, 1, "stopped")
        self.verdict.setText(text)

    def _restyle(self) -> None:
        self.verdict.setFont(theme.font(theme.style().title_pt))


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    view = DefenseComparison()
    view.stack.add("bit-depth")
    view.set_adaptive(Adaptive(bpda=True))
    view.cards["reference"].set_result(0.94, 0.0)
    view.cards["naive"].set_result(0.88, 0.75, 0.0, ["A defense step gives no useful gradient, and the attack did not use BPDA."])
    view.cards["adaptive"].set_progress(12, 40, "BPDA · iteration 12 of 40")
    view.show_verdict({"reference": (0.94, 0.0), "naive": (0.88, 0.75)}, "BPDA")
    view.setWindowTitle("DefenseComparison demo")
    view.resize(1200, 700)
    view.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
