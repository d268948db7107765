"""``AttackChooser``: pick one attack of a kind and set its parameters, for pages that run an
attack as part of something else (a defense evaluation, a trade-off sweep, a monitored
black-box run).

Unlike the Evasion lab's attack panel it holds its own choice (a page's attack is not the
window's attack) and has no run controls. ``accepts`` chooses which attacks of the registry it
lists; the parameter form comes from the attack's declaration (:mod:`workbench.gui.forms`), and
the values typed for each attack are kept while the user switches between them, and with
:meth:`~AttackChooser.save_state` in the settings.

Run alone for development: ``python -m workbench.gui.widgets.attack_chooser``.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QVBoxLayout, QWidget

from workbench.attacks import ATTACKS
from workbench.attacks.base import Attack
from workbench.gui.forms import ParamForm
from workbench.gui.widgets.page_parts import tint, valid_values


def bounded_white_box(attack: type[Attack]) -> bool:
    """Gradient attacks with a perturbation budget ε: the attacks whose robust accuracy at ε a
    defense evaluation reports (minimum-norm attacks always succeed eventually)."""
    return attack.access == "white-box" and attack.norm in ("linf", "l2") and any(
        info.name == "eps" for info in attack.parameters()
    )


def query_based(attack: type[Attack]) -> bool:
    """Black-box attacks that query an oracle (those a stateful monitor can watch)."""
    return attack.access in ("score", "label") and attack.id != "transfer"


class AttackChooser(QWidget):
    """An attack picker and its parameter form (see the module docstring).

    ``changed()`` — the attack or a value changed; ``validityChanged(bool)`` — as the form's.
    """

    changed = Signal()
    validityChanged = Signal(bool)

    def __init__(
        self,
        accepts: Callable[[type[Attack]], bool] = bounded_white_box,
        *,
        initial: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._values: dict[str, dict[str, Any]] = {key: dict(v) for key, v in (values or {}).items()}
        self.picker = QComboBox()
        self.picker.setObjectName("attackChooserPicker")
        for attack in ATTACKS:
            if accepts(attack):
                self.picker.addItem(attack.title, attack.id)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        tint(self.summary, "#555555")
        self.form = ParamForm()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picker)
        layout.addWidget(self.summary)
        layout.addWidget(self.form)
        self._shown = ""
        index = self.picker.findData(initial) if initial else 0
        self.picker.setCurrentIndex(max(index, 0))
        self._show(self.attack_id())
        self.picker.currentIndexChanged.connect(lambda _i: self._show(self.attack_id()))
        self.form.valuesChanged.connect(self._form_edited)
        self.form.validityChanged.connect(self.validityChanged)

    # -- API --------------------------------------------------------------------------------------
    def attack_id(self) -> str:
        return str(self.picker.currentData() or "")

    def attack_class(self) -> type[Attack]:
        return ATTACKS.get(self.attack_id())

    def values(self) -> dict[str, Any]:
        return self.form.values()

    def attack(self) -> Attack:
        """The chosen attack built with the form's values (a bad value raises ParameterError)."""
        return self.attack_class()(**self.values())

    def is_valid(self) -> bool:
        return self.form.is_valid()

    def set_attack(self, attack_id: str, values: Mapping[str, Any] | None = None) -> None:
        """Choose ``attack_id`` (if listed) and show ``values`` in its form."""
        if values is not None:
            self._values[attack_id] = dict(values)
        index = self.picker.findData(attack_id)
        if index >= 0 and index != self.picker.currentIndex():
            self.picker.setCurrentIndex(index)
        elif index >= 0:
            self._show(attack_id)

    def save_state(self) -> dict[str, Any]:
        """The choice and the values typed for each attack, for the settings."""
        values = {key: dict(v) for key, v in self._values.items()}
        if self._shown:
            values[self._shown] = self.form.values()  # every value the form shows, typed or default
        return {"attack": self.attack_id(), "values": values}

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings: attacks no longer listed, unknown
        parameters and bad values are left out."""
        if not isinstance(state, dict):
            return
        stored = state.get("values")
        for attack_id, values in (stored.items() if isinstance(stored, dict) else ()):
            if isinstance(attack_id, str) and self.picker.findData(attack_id) >= 0:
                kept = valid_values(ATTACKS.get(attack_id).parameters(), values)
                self._values[attack_id] = {**self._values.get(attack_id, {}), **kept}
        attack = state.get("attack")
        self.set_attack(attack if isinstance(attack, str) and self.picker.findData(attack) >= 0 else self.attack_id())

    # -- internals --------------------------------------------------------------------------------
    def _show(self, attack_id: str) -> None:
        if not attack_id:
            return
        attack = ATTACKS.get(attack_id)
        self._shown = attack_id
        self.summary.setText(attack.summary)
        self.summary.setToolTip(attack.paper)
        self.form.set_params(attack.Params)
        self.form.set_values(self._values.get(attack_id, {}))
        self.changed.emit()

    def _form_edited(self) -> None:
        if self._shown:
            self._values[self._shown] = self.form.values()
        self.changed.emit()


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    chooser = AttackChooser(initial="pgd", values={"pgd": {"eps": 0.1}})
    chooser.changed.connect(lambda: print(chooser.attack_id(), chooser.values()))
    chooser.setWindowTitle("AttackChooser demo")
    chooser.resize(360, 300)
    chooser.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
