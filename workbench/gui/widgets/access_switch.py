"""``AccessSwitch``: run the same attack with the model's weights or only through its API.

White-box attacks read the model's gradients; an attacker behind a prediction API has none.
The engine runs a white-box attack "through the API" in the two ways the literature does, as
registered black-box attacks, and this combo box switches between them while carrying the
parameters over:

- **PGD ↔ NES + PGD** (Ilyas et al. 2018): the same signed-gradient steps in the same ε-ball,
  with the gradient estimated from the API's confidences (2n + 1 queries per step), so the
  query budget buys the same number of steps;
- **any white-box attack ↔ transfer** (Papernot et al. 2016): the attack runs on a surrogate
  model the attacker owns, and one query per image shows whether it fooled the target. The
  surrogate defaults to the current model itself (the attacker's best case) until the user
  names another.

Black-box attacks without a white-box form (Square, SimBA, HopSkipJump, Boundary) show their
access as fixed. The widget holds no state: it reads and writes the attack and its values in
:class:`~workbench.gui.state.AppState`.

Run alone for development: ``python -m workbench.gui.widgets.access_switch``.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QWidget

from workbench.attacks import ATTACKS
from workbench.attacks.pgd import automatic_step_size
from workbench.core.params import build, describe, parse_assignments
from workbench.gui import theme
from workbench.gui.forms import format_number
from workbench.gui.state import AppState

WHITE_BOX = "white"
NES_OF = {"pgd": "nes"}  # white-box attack → its gradient-estimating black-box twin


def _complete(attack_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the declared defaults for the missing parameters of ``attack_id``."""
    return {**{info.name: info.default for info in ATTACKS.get(attack_id).parameters()}, **values}


def access_choices(attack_id: str) -> list[tuple[str, str]]:
    """(text, key) of the ways to run ``attack_id``; the first is how it runs now. Keys:
    "white" (white-box), or the id of the black-box attack that runs it through the API."""
    attack = ATTACKS.get(attack_id)
    if attack.access == "white-box":
        choices = [("White-box: the model's weights and gradients", WHITE_BOX)]
        if attack_id in NES_OF and NES_OF[attack_id] in ATTACKS:
            choices.append(("Through the API: gradients estimated from its answers (NES)", NES_OF[attack_id]))
        if "transfer" in ATTACKS:
            choices.append(("Through the API: transfer from a surrogate model", "transfer"))
        return choices
    twin = {nes: white for white, nes in NES_OF.items()}
    if attack_id in twin:
        return [("Through the API: gradients estimated from its answers (NES)", attack_id),
                (f"White-box: {ATTACKS.get(twin[attack_id]).title} with the model's gradients", WHITE_BOX)]
    if attack_id == "transfer":
        return [("Through the API: transfer from a surrogate model", attack_id),
                ("White-box: the crafting attack on the model itself", WHITE_BOX)]
    kind = "confidences" if attack.access == "score" else "labels"
    return [(f"Through the API only (its {kind})", attack_id)]


def switch_access(
    attack_id: str,
    values: Mapping[str, Any],
    key: str,
    *,
    stored: Callable[[str], Mapping[str, Any]] = lambda _attack_id: {},
    surrogate: str = "",
) -> tuple[str, dict[str, Any]]:
    """The attack and values that run ``attack_id`` (with ``values``) the way ``key`` says
    (see :func:`access_choices`). ``stored(id)`` gives the values the user set before for an
    attack (kept where nothing carries over); ``surrogate`` is the transfer's surrogate when
    none was set."""
    values = _complete(attack_id, values)
    if key == "nes":  # PGD → NES: same ε and step, the budget of the same number of steps
        nes = _complete("nes", stored("nes"))
        step = automatic_step_size(values["eps"], values["steps"], values["step_size"])
        nes.update(eps=values["eps"], step_size=step, max_queries=values["steps"] * (2 * nes["samples"] + 1))
        return "nes", nes
    if key == "transfer":  # any white-box attack → crafted on the surrogate
        defaults = _complete(attack_id, {})
        changed = [f"{k}={format_number(v) if not isinstance(v, str) else v}" for k, v in values.items() if defaults[k] != v]
        transfer = _complete("transfer", stored("transfer"))
        transfer.update(white_box=attack_id, white_box_params=",".join(changed))
        transfer["surrogate"] = transfer["surrogate"] or surrogate
        return "transfer", transfer
    if key != WHITE_BOX:
        return attack_id, dict(values)
    if attack_id == "transfer":  # transfer → the crafting attack, on the model itself
        inner = ATTACKS.get(values["white_box"])
        pairs = [item for item in values["white_box_params"].split(",") if item.strip()]
        params = build(inner.Params, parse_assignments(pairs))
        return inner.id, {info.name: getattr(params, info.name) for info in describe(inner.Params)}
    white = {nes: white for white, nes in NES_OF.items()}.get(attack_id)
    if white is None:
        return attack_id, dict(values)
    pgd = _complete(white, stored(white))
    pgd.update(eps=values["eps"], step_size=values["step_size"],
               steps=max(1, values["max_queries"] // (2 * values["samples"] + 1)))
    return white, pgd


class AccessSwitch(QWidget):
    """A combo box "Access" bound to the state's attack (see the module docstring).

    Signals: ``switched(str)`` — a sentence saying what changed, for the window's message bar.
    """

    switched = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._syncing = False
        self.label = QLabel("Access:")
        self.combo = QComboBox()
        self.combo.setObjectName("accessSwitch")
        self.combo.setToolTip(
            "Run the same attack with the model's weights (white-box) or only through its "
            "prediction API (black-box: the settings below say what the API reveals)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.combo, 1)
        self.combo.activated.connect(self._chosen)
        state.attackChanged.connect(self._show)
        theme.theme_signals().changed.connect(self._restyle)
        self._show(state.attack_id)
        self._restyle()

    def choices(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def choose(self, key: str) -> None:
        """Switch the access as if the user picked ``key`` (see :func:`access_choices`)."""
        self._chosen(self.combo.findData(key))

    def _restyle(self) -> None:
        self.label.setFont(theme.font())
        self.combo.setFont(theme.font())

    def _show(self, attack_id: str) -> None:
        if attack_id not in ATTACKS:
            return
        self._syncing = True
        try:
            self.combo.clear()
            for text, key in access_choices(attack_id):
                self.combo.addItem(text, key)
            self.combo.setCurrentIndex(0)
            self.combo.setEnabled(self.combo.count() > 1)
        finally:
            self._syncing = False

    def _chosen(self, index: int) -> None:
        if self._syncing or index <= 0:
            return  # the first entry is how the attack runs already
        state = self.state
        current = state.attack_id
        model_name = state.model_source.source if state.model_source is not None else (
            state.model.model_id if state.model is not None else "")
        new_id, values = switch_access(
            current, state.attack_params(current), self.combo.itemData(index),
            stored=state.attack_params, surrogate=model_name,
        )
        if new_id == current:
            return
        state.set_attack_params(values, new_id)
        state.set_attack(new_id)
        attack = ATTACKS.get(new_id)
        if new_id == "transfer":
            note = f"crafted with {ATTACKS.get(values['white_box']).title} on the surrogate '{values['surrogate']}'"
            if values["surrogate"] == model_name:
                note += " (the target's own weights, the attacker's best case: name your own model in Surrogate model)"
            self.switched.emit(f"Through the API: {note}; one query per image checks the target.")
        elif attack.access != "white-box":
            self.switched.emit(f"Through the API: {attack.title}, the same ε and step size, "
                               f"{values['max_queries']:,} queries per image for as many steps.")
        else:
            self.switched.emit(f"White-box: {attack.title} with the model's own gradients.")


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    state = AppState()
    state.set_attack("pgd")
    widget = AccessSwitch(state)
    widget.switched.connect(print)
    state.attackChanged.connect(lambda attack_id: print("attack:", attack_id, state.attack_params()))
    widget.setWindowTitle("AccessSwitch demo")
    widget.resize(460, 40)
    widget.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
