"""``DefenseComparison``: the same attack on a stack of defenses, naive and adaptive, side by
side (Athalye, Carlini and Wagner, "Obfuscated Gradients Give a False Sense of Security", ICML
2018), with a gradient-free black-box attack as the check of Carlini et al. ("On Evaluating
Adversarial Robustness", 2019): when Square (Andriushchenko et al., ECCV 2020), which only
queries, beats the white-box attack, the defense masks gradients.

Left, the settings: the defense stack (:mod:`~workbench.gui.widgets.defense_stack`), a bounded
white-box attack (:mod:`~workbench.gui.widgets.attack_chooser`), the adaptive attacker's
switches — BPDA and EOT with its K draws, set to what the stack needs whenever it changes —,
the black-box check (on or off, and its queries per image) and how many of the gallery's
images to attack. Right, a card per stage (:mod:`~workbench.gui.widgets.defense_card`): the
undefended model for reference, the defended model under the naive attack, under the adaptive
one and, when the check is on, under Square, each with its warnings; and a line that sums them
up.

The widget runs nothing: ``runRequested`` and ``stopRequested`` ask its lab to, and the lab
feeds the cards (:attr:`cards`, by stage name, :data:`~workbench.defenses.evaluation.COMPARISON_STAGES`).
Its settings go to and come back from the lab's QSettings through :meth:`~DefenseComparison.save_state`
and :meth:`~DefenseComparison.restore_state`.

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
from workbench.defenses.evaluation import BLACK_BOX_QUERIES, COMPARISON_STAGES
from workbench.gui import theme
from workbench.gui.widgets.attack_chooser import AttackChooser, bounded_white_box
from workbench.gui.widgets.defense_card import DefenseCard, percent
from workbench.gui.widgets.defense_stack import DefenseStack
from workbench.gui.widgets.page_parts import (
    group,
    restore_check,
    restore_spin,
    run_buttons,
    settings_panel,
)

DEFAULT_IMAGES = 32
DEFAULT_EOT = 16


@dataclass(frozen=True)
class ComparisonSettings:
    """What the user set: the stack as (defense id, values), the attack, the adaptive switches,
    the black-box check's queries per image (None: the check is off) and how many images
    (spread over the gallery) to attack."""

    stack: list[tuple[str, dict[str, Any]]]
    attack_id: str
    attack_values: dict[str, Any]
    adaptive: Adaptive
    black_box_queries: int | None
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
        self.black_box = QCheckBox("Square")
        self.black_box.setObjectName("blackBoxSwitch")
        self.black_box.setChecked(True)
        self.black_box.setToolTip("Square attack (Andriushchenko et al. 2020) on the defended model at the same ε, "
                                  "through its answers only. It needs no gradient: if it beats the white-box attack, "
                                  "the defense masks gradients (Carlini et al. 2019).")
        self.black_box_queries = QSpinBox()
        self.black_box_queries.setObjectName("blackBoxQueries")
        self.black_box_queries.setRange(10, 100_000)
        self.black_box_queries.setSingleStep(100)
        self.black_box_queries.setValue(BLACK_BOX_QUERIES)
        self.black_box_queries.setToolTip("Queries Square may send per image (one per step)")
        self.images = QSpinBox()
        self.images.setObjectName("compareImages")
        self.images.setRange(1, 10_000)
        self.images.setValue(DEFAULT_IMAGES)
        self.images.setToolTip("The attack runs on N images spread evenly over the gallery")
        self.run_button, self.stop_button, buttons = run_buttons("Run the attacks")
        self.run_button.setObjectName("runComparison")
        self.stop_button.setObjectName("stopComparison")

        adaptive_form = QFormLayout()
        for switch, text in ((self.bpda, "a differentiable stand-in in the backward pass"),
                             (self.eot, "gradients averaged over K draws")):
            explanation = QLabel(text)
            explanation.setWordWrap(True)
            adaptive_form.addRow(switch, explanation)
        adaptive_form.addRow("Draws K:", self.eot_draws)
        black_box_form = QFormLayout()
        explanation = QLabel("no gradients, only the model's answers")
        explanation.setWordWrap(True)
        black_box_form.addRow(self.black_box, explanation)
        black_box_form.addRow("Queries per image:", self.black_box_queries)
        images_form = QFormLayout()
        images_form.addRow("Images:", self.images)
        images_box = QWidget()
        images_box.setLayout(images_form)
        images_form.setContentsMargins(0, 0, 0, 0)
        settings = settings_panel(
            group("Defense stack", self.stack),
            group("Attack", self.attack),
            group("Adaptive attack", layout=adaptive_form),
            group("Black-box check", layout=black_box_form),
            images_box,
            buttons,
        )

        self.cards = {
            "reference": DefenseCard("No defense"),
            "naive": DefenseCard("Defended · naive attack"),
            "adaptive": DefenseCard("Defended · adaptive attack"),
            "black-box": DefenseCard("Black-box (Square)"),
        }
        self.verdict = QLabel("Stack a defense, then run the same attack naive and adaptive.")
        self.verdict.setObjectName("comparisonVerdict")
        self.verdict.setWordWrap(True)
        cards = QHBoxLayout()
        cards.setSpacing(10)
        for stage in COMPARISON_STAGES:
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
        self.black_box.toggled.connect(self._black_box_switched)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    # -- API --------------------------------------------------------------------------------------
    def settings(self) -> ComparisonSettings:
        return ComparisonSettings(
            stack=self.stack.stack(), attack_id=self.attack.attack_id(), attack_values=self.attack.values(),
            adaptive=self.adaptive(), black_box_queries=self.black_box_queries.value() if self.black_box.isChecked() else None,
            images=self.images.value(),
        )

    def save_state(self) -> dict[str, Any]:
        """Everything set on the page, for the settings."""
        return {"stack": self.stack.save_state(), "attack": self.attack.save_state(), "bpda": self.bpda.isChecked(),
                "eot": self.eot.isChecked(), "eot_draws": self.eot_draws.value(), "black_box": self.black_box.isChecked(),
                "black_box_queries": self.black_box_queries.value(), "images": self.images.value()}

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings (what is missing or bad is left as
        it is). The stack comes first: a changed stack recommends adaptive switches, and the
        stored ones then stand."""
        if not isinstance(state, dict):
            return
        self.stack.restore_state(state.get("stack"))
        self.attack.restore_state(state.get("attack"))
        for box, key in ((self.bpda, "bpda"), (self.eot, "eot"), (self.black_box, "black_box")):
            restore_check(box, state.get(key))
        for spin, key in ((self.eot_draws, "eot_draws"), (self.black_box_queries, "black_box_queries"), (self.images, "images")):
            restore_spin(spin, state.get(key))
        self.eot_draws.setEnabled(self.eot.isChecked())

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
        blind = results.get("black-box", (None, None))[1]
        parts = []
        if naive is not None:
            parts.append(f"Against the naive attack the defense keeps <b>{percent(naive)}</b> robust accuracy"
                         f" (undefended model: {percent(reference)}).")
        if strong is not None:
            parts.append(f"The adaptive attack ({adaptive}) leaves <b>{percent(strong)}</b>.")
        if blind is not None:
            parts.append(f"Square, with queries alone, leaves <b>{percent(blind)}</b>.")
        self.verdict.setText(" ".join(parts))

    def stopped(self, text: str) -> None:
        """The run was stopped: the cards without a result say so."""
        for card in self.cards.values():
            if card.robust_accuracy() is None:
                card.set_progress(0, 1, "stopped")
        self.verdict.setText(text)

    def _black_box_switched(self, on: bool) -> None:
        self.black_box_queries.setEnabled(on)
        self.cards["black-box"].setVisible(on)

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
    view.cards["black-box"].set_progress(180, 500, "query 180 of 500")
    view.show_verdict({"reference": (0.94, 0.0), "naive": (0.88, 0.75)}, "BPDA")
    view.setWindowTitle("DefenseComparison demo")
    view.resize(1200, 700)
    view.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
