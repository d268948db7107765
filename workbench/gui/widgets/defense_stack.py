"""``DefenseStack``: choose input defenses from the registry and stack them.

The list shows the stack in the order the defenses run (top first) with what each one needs
from an adaptive attacker: a randomized defense is answered with EOT, one without a useful
gradient with BPDA (Athalye et al., ICML 2018). Add, remove and reorder with the buttons (or
Delete and Ctrl+Up/Down in the list); the selected defense's parameters are edited in a form
generated from its declaration (:mod:`workbench.gui.forms`). The stack is kept in the
settings with :meth:`~DefenseStack.save_state`.

Run alone for development: ``python -m workbench.gui.widgets.defense_stack``.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.defenses import DEFENSES, Defense
from workbench.gui.forms import ParamForm, format_number
from workbench.gui.widgets.page_parts import tint, valid_values

_SPEC = Qt.ItemDataRole.UserRole  # an item's (defense id, values)


def needs(defense: type[Defense]) -> str:
    """What an adaptive attacker needs against ``defense``: "EOT", "BPDA", both or ""."""
    parts = (["BPDA"] if not defense.differentiable else []) + (["EOT"] if defense.randomized else [])
    return " + ".join(parts)


def item_text(position: int, defense_id: str, values: Mapping[str, Any]) -> str:
    """e.g. "1. Bit-depth reduction — bits 3   [BPDA]"."""
    defense = DEFENSES.get(defense_id)
    strength = values.get(defense.strength)
    shown = f" — {defense.strength} {format_number(strength)}" if strength is not None else ""
    wanted = needs(defense)
    return f"{position}. {defense.title}{shown}" + (f"   [{wanted}]" if wanted else "")


class DefenseStack(QWidget):
    """A stack of defenses with their parameters (see the module docstring).

    ``stackChanged()`` — a defense was added, removed, moved or re-parametrized.
    """

    stackChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.picker = QComboBox()
        self.picker.setObjectName("defensePicker")
        for defense in DEFENSES:
            self.picker.addItem(defense.title, defense.id)
            self.picker.setItemData(self.picker.count() - 1, f"{defense.summary}\n{defense.paper}", Qt.ItemDataRole.ToolTipRole)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("addDefense")
        self.add_button.setToolTip("Add the chosen defense at the end of the stack")
        self.list = QListWidget()
        self.list.setObjectName("defenseList")
        self.list.setMinimumHeight(self.fontMetrics().height() * 3)
        self.list.setMaximumHeight(self.fontMetrics().height() * 7)
        self.list.setToolTip("Defenses run top to bottom before the model. [EOT] and [BPDA] say what "
                             "an adaptive attack needs against each one.")
        self.empty = QLabel("No defense: the model is attacked as it is. Add one above.")
        self.empty.setWordWrap(True)
        tint(self.empty, "#777777")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeDefense")
        self.up_button = QPushButton("Up")
        self.up_button.setObjectName("moveDefenseUp")
        self.down_button = QPushButton("Down")
        self.down_button.setObjectName("moveDefenseDown")
        self.about = QLabel()
        self.about.setWordWrap(True)
        tint(self.about, "#555555")
        self.form = ParamForm()
        self.form.setObjectName("defenseForm")

        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.add_button)
        moves = QHBoxLayout()
        for button in (self.remove_button, self.up_button, self.down_button):
            moves.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addLayout(moves)
        layout.addWidget(self.about)
        layout.addWidget(self.form)

        self.add_button.clicked.connect(lambda: self.add(str(self.picker.currentData())))
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.list.currentRowChanged.connect(self._selected)
        self.form.valuesChanged.connect(self._form_edited)
        for keys, slot in ((QKeySequence.StandardKey.Delete, self.remove_selected),
                           ("Ctrl+Up", lambda: self.move_selected(-1)), ("Ctrl+Down", lambda: self.move_selected(1))):
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        self._selected(-1)

    # -- API --------------------------------------------------------------------------------------
    def stack(self) -> list[tuple[str, dict[str, Any]]]:
        """The stack, first defense first: (defense id, parameter values)."""
        return [tuple(self.list.item(row).data(_SPEC)) for row in range(self.list.count())]

    def defenses(self) -> list[Defense]:
        """The stack as defense objects (a bad value raises ParameterError naming the key)."""
        return [DEFENSES.get(defense_id)(**values) for defense_id, values in self.stack()]

    def set_stack(self, specs: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self.list.clear()
        for defense_id, values in specs:
            self._append(defense_id, values)
        self.list.setCurrentRow(self.list.count() - 1)
        self._renumber()
        self.stackChanged.emit()

    def add(self, defense_id: str, values: Mapping[str, Any] | None = None) -> None:
        """Add a defense at the end of the stack (its defaults unless ``values``) and select it."""
        self._append(defense_id, values)
        self.list.setCurrentRow(self.list.count() - 1)
        self._renumber()
        self.stackChanged.emit()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        self.list.takeItem(row)
        self.list.setCurrentRow(min(row, self.list.count() - 1))
        self._renumber()
        self.stackChanged.emit()

    def move_selected(self, offset: int) -> None:
        row = self.list.currentRow()
        new = row + offset
        if row < 0 or not 0 <= new < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(new, item)
        self.list.setCurrentRow(new)
        self._renumber()
        self.stackChanged.emit()

    def is_valid(self) -> bool:
        return self.form.is_valid()

    def save_state(self) -> list[list[Any]]:
        """The stack as [defense id, values] pairs, for the settings."""
        return [[defense_id, dict(values)] for defense_id, values in self.stack()]

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings. Defenses no longer registered,
        unknown parameters and bad values are left out (their defaults stand); a stored stack of
        which nothing is left keeps the current one."""
        if not isinstance(state, list):
            return
        specs = [(entry[0], valid_values(DEFENSES.get(entry[0]).parameters(), entry[1])) for entry in state
                 if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], str) and entry[0] in DEFENSES]
        if specs or not state:
            self.set_stack(specs)

    # -- internals --------------------------------------------------------------------------------
    def _append(self, defense_id: str, values: Mapping[str, Any] | None) -> None:
        defense = DEFENSES.get(defense_id)
        full = {info.name: info.default for info in defense.parameters()}
        full.update(values or {})
        item = QListWidgetItem()
        item.setData(_SPEC, (defense_id, full))
        item.setToolTip(f"{defense.summary}\n{defense.paper}")
        self.list.addItem(item)

    def _renumber(self) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            defense_id, values = item.data(_SPEC)
            item.setText(item_text(row + 1, defense_id, values))
        empty = self.list.count() == 0
        self.empty.setVisible(empty)
        self.list.setVisible(not empty)
        row = self.list.currentRow()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.list.count() - 1)

    def _selected(self, row: int) -> None:
        item = self.list.item(row) if row >= 0 else None
        if item is None:
            self.form.set_params([])
            self.about.setText("")
            self.about.setVisible(False)
        else:
            defense_id, values = item.data(_SPEC)
            defense = DEFENSES.get(defense_id)
            wanted = needs(defense)
            adaptive = f"<br><i>Adaptive attack: {wanted}.</i>" if wanted else "<br><i>Differentiable and deterministic: a plain gradient attack already adapts.</i>"
            self.about.setText(f"<b>{defense.title}</b>: {defense.summary}{adaptive}")
            self.about.setToolTip(defense.paper)
            self.about.setVisible(True)
            self._loading = True
            try:
                self.form.set_params(defense.Params)
                self.form.set_values(values)
            finally:
                self._loading = False
        self._renumber()

    def _form_edited(self) -> None:
        item = self.list.currentItem()
        if item is None or self._loading:
            return
        defense_id, values = item.data(_SPEC)
        item.setData(_SPEC, (defense_id, {**values, **self.form.values()}))
        self._renumber()
        self.stackChanged.emit()


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    stack = DefenseStack()
    stack.set_stack([("bit-depth", {"bits": 3}), ("gaussian-noise", {"sigma": 0.1})])
    stack.stackChanged.connect(lambda: print(stack.stack()))
    stack.setWindowTitle("DefenseStack demo")
    stack.resize(380, 420)
    stack.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
