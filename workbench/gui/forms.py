"""``ParamForm``: a form generated from a parameter declaration (ARCHITECTURE.md, contract 3).

bool → check box; int → spin box; float → spin box with decimals and a step that suit the
declared default and bounds; a ``choices`` parameter → combo box; any other str → line edit.
Each field shows the declared title as its label and its description, unit and bounds as the
tooltip. The spin boxes' arrows stop at the declared bounds, but a typed value outside them is
kept and flagged: an inline message under the field (the engine's own message, from
:meth:`~workbench.core.params.ParamInfo.check`) and :attr:`ParamForm.validityChanged` ``(False)``,
which the attack panel uses to disable Run.

Run alone for development: ``python -m workbench.gui.forms``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from PySide6.QtCore import QLocale, QSize, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from workbench.core.errors import ParameterError
from workbench.core.params import ParamInfo, describe
from workbench.core.params import format_number  # noqa: F401 - re-exported for the widgets

ERROR_COLOR = "#c62828"
_WIDE = 1e12  # spin box range: typing is never blocked, the declared bounds are checked instead
_INT_WIDE = 2**31 - 1
_DECIMALS = 10


def _float_step(info: ParamInfo) -> float:
    """A step of about a tenth of the default's magnitude (or 1 % of the range)."""
    reference = abs(float(info.default)) if info.default else 0.0
    if reference == 0.0 and info.low is not None and info.high is not None:
        reference = (float(info.high) - float(info.low)) / 10.0
    if reference == 0.0:
        return 0.1
    step = 10.0 ** math.floor(math.log10(reference))
    if step >= reference:  # a power of ten itself: step by its tenth
        step /= 10.0
    if info.low is not None and info.high is not None:
        step = min(step, (float(info.high) - float(info.low)) / 10.0 or step)
    return step


class NumberSpinBox(QDoubleSpinBox):
    """A float spin box whose arrows stop at the declared bounds but that accepts any typed
    number (the form flags values out of bounds), shown without trailing zeros."""

    def __init__(self, info: ParamInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setLocale(QLocale.c())
        step = _float_step(info)
        # Qt rounds the value to `decimals`; keep plenty (the text shows no trailing zeros) so
        # that a typed 0.00035 survives focus changes and arrow steps.
        self.setDecimals(_DECIMALS)
        self.setRange(-_WIDE, _WIDE)
        self.setSingleStep(step)
        self.setKeyboardTracking(True)
        self.setAccelerated(True)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    # Python-side text conversion: "0.03", "1e-4", never a locale comma.
    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        return format_number(round(value, self.decimals()))

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt API
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 - Qt API
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "-.", "+."):
            return QValidator.State.Intermediate, text, pos
        try:
            float(stripped)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            if stripped[-1:] in ("e", "E", "-", "+") and _is_prefix_number(stripped):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt API
        value = self.value() + steps * self.singleStep()
        if self.info.low is not None:
            value = max(value, float(self.info.low))
        if self.info.high is not None:
            value = min(value, float(self.info.high))
        self.setValue(value)

    def stepEnabled(self):  # noqa: N802 - Qt API
        flags = QDoubleSpinBox.StepEnabledFlag.StepNone
        if self.info.high is None or self.value() < float(self.info.high):
            flags |= QDoubleSpinBox.StepEnabledFlag.StepUpEnabled
        if self.info.low is None or self.value() > float(self.info.low):
            flags |= QDoubleSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def sizeHint(self) -> QSize:  # noqa: N802 - the wide range would make it absurdly wide
        hint = super().sizeHint()
        width = self.fontMetrics().horizontalAdvance("-0.000000") + 48
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance("0.000") + 40, super().minimumSizeHint().height())


def _is_prefix_number(text: str) -> bool:
    try:
        float(text + "0")
        return True
    except ValueError:
        return False


class IntSpinBox(QSpinBox):
    """An int spin box with the same policy as :class:`NumberSpinBox`."""

    def __init__(self, info: ParamInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setLocale(QLocale.c())
        self.setRange(-_INT_WIDE, _INT_WIDE)
        span = None
        if info.low is not None and info.high is not None:
            span = float(info.high) - float(info.low)
        self.setSingleStep(max(1, int(10 ** math.floor(math.log10(span / 100)))) if span and span >= 1000 else 1)
        self.setAccelerated(True)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt API
        value = self.value() + steps * self.singleStep()
        if self.info.low is not None:
            value = max(value, math.ceil(self.info.low))
        if self.info.high is not None:
            value = min(value, math.floor(self.info.high))
        self.setValue(value)

    def stepEnabled(self):  # noqa: N802 - Qt API
        flags = QSpinBox.StepEnabledFlag.StepNone
        if self.info.high is None or self.value() < self.info.high:
            flags |= QSpinBox.StepEnabledFlag.StepUpEnabled
        if self.info.low is None or self.value() > self.info.low:
            flags |= QSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("-0000000") + 48, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance("00000") + 40, super().minimumSizeHint().height())


def tooltip(info: ParamInfo) -> str:
    """Description, unit and bounds of a parameter, for its tooltip."""
    parts = [info.description.rstrip(".") + "."]
    if info.unit:
        parts.append(f"Unit: {info.unit}.")
    if info.low is not None and info.high is not None:
        parts.append(f"From {format_number(info.low)} to {format_number(info.high)}.")
    elif info.low is not None:
        parts.append(f"At least {format_number(info.low)}.")
    elif info.high is not None:
        parts.append(f"At most {format_number(info.high)}.")
    if info.choices:
        parts.append("One of: " + ", ".join(info.choices) + ".")
    parts.append(f"Default: {format_number(info.default) if not isinstance(info.default, str) else info.default}.")
    parts.append(f"(--param {info.name}=…)")
    return " ".join(parts)


class ParamForm(QWidget):
    """Widgets for a parameter declaration, with inline validation.

    ``params`` is a list of :class:`~workbench.core.params.ParamInfo` or a declaration class.
    """

    validityChanged = Signal(bool)
    valuesChanged = Signal()

    def __init__(self, params: Sequence[ParamInfo] | type = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setHorizontalSpacing(10)
        self._layout.setVerticalSpacing(4)
        self._layout.setColumnStretch(1, 1)
        self._infos: dict[str, ParamInfo] = {}
        self._editors: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._messages: dict[str, QLabel] = {}
        self._errors: dict[str, str] = {}
        self._show_advanced = True
        self._valid = True
        self._updating = False
        self.set_params(params)

    # -- building -------------------------------------------------------------------------------
    def set_params(self, params: Sequence[ParamInfo] | type) -> None:
        """Rebuild the form for another declaration (defaults as values)."""
        infos = describe(params) if isinstance(params, type) else list(params)
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # gone at once, even before the deferred delete runs
                item.widget().deleteLater()
        self._infos = {info.name: info for info in infos}
        self._editors.clear()
        self._labels.clear()
        self._messages.clear()
        self._errors.clear()
        for row, info in enumerate(infos):
            editor = self._make_editor(info)
            editor.setObjectName(f"param-{info.name}")
            editor.setToolTip(tooltip(info))
            label = QLabel(info.title + ("" if isinstance(editor, QCheckBox) else ":"))
            label.setToolTip(editor.toolTip())
            label.setBuddy(editor)
            message = QLabel()
            message.setObjectName(f"param-{info.name}-message")
            message.setWordWrap(True)
            message.setStyleSheet(f"color: {ERROR_COLOR};")
            message.setVisible(False)
            self._layout.addWidget(label, 2 * row, 0)
            self._layout.addWidget(editor, 2 * row, 1)
            self._layout.addWidget(message, 2 * row + 1, 0, 1, 2)
            self._editors[info.name] = editor
            self._labels[info.name] = label
            self._messages[info.name] = message
        self._apply_advanced()
        self._revalidate(emit_values=False)

    def _make_editor(self, info: ParamInfo) -> QWidget:
        if info.kind is bool:
            editor = QCheckBox()
            editor.setChecked(bool(info.default))
            editor.toggled.connect(lambda _=None, n=info.name: self._edited(n))
        elif info.choices:
            editor = QComboBox()
            editor.addItems(list(info.choices))
            if info.default in info.choices:
                editor.setCurrentText(str(info.default))
            editor.currentTextChanged.connect(lambda _=None, n=info.name: self._edited(n))
        elif info.kind is int:
            editor = IntSpinBox(info)
            editor.setValue(int(info.default))
            editor.lineEdit().textChanged.connect(lambda _=None, n=info.name: self._edited(n))
        elif info.kind is float:
            editor = NumberSpinBox(info)
            editor.setValue(float(info.default))
            editor.lineEdit().textChanged.connect(lambda _=None, n=info.name: self._edited(n))
        else:
            editor = QLineEdit(str(info.default))
            editor.textChanged.connect(lambda _=None, n=info.name: self._edited(n))
        return editor

    # -- values ---------------------------------------------------------------------------------
    def params(self) -> list[ParamInfo]:
        return list(self._infos.values())

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def message(self, name: str) -> str:
        """The inline validation message of a field ('' when valid)."""
        return self._errors.get(name, "")

    def message_label(self, name: str) -> QLabel:
        return self._messages[name]

    def raw_value(self, name: str) -> Any:
        """What the field holds, unchecked: bool, the combo's text, or the typed text."""
        editor = self._editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            return editor.lineEdit().text().strip()
        return editor.text()

    def values(self) -> dict[str, Any]:
        """The checked values of the valid fields (invalid ones are left out; see :meth:`errors`)."""
        out = {}
        for name, info in self._infos.items():
            try:
                out[name] = info.check(self.raw_value(name))
            except ParameterError:
                pass
        return out

    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def is_valid(self) -> bool:
        return not self._errors

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (unknown keys are ignored; out-of-range values are shown and flagged)."""
        self._updating = True
        try:
            for name, value in values.items():
                editor = self._editors.get(name)
                if editor is None:
                    continue
                if isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value) if not isinstance(value, str) else value.lower() in ("1", "true", "yes", "on"))
                elif isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                    text = format_number(value) if isinstance(value, (int, float)) else str(value)
                    try:
                        number = float(text)
                        if isinstance(editor, QSpinBox):
                            if number.is_integer() and abs(number) <= _INT_WIDE:
                                editor.setValue(int(number))
                        elif abs(number) <= _WIDE:
                            editor.setValue(number)
                    except ValueError:
                        pass
                    editor.lineEdit().setText(text)
                else:
                    editor.setText(str(value))
        finally:
            self._updating = False
        self._revalidate()

    def reset(self) -> None:
        """Back to the declared defaults."""
        self.set_values({name: info.default for name, info in self._infos.items()})

    # -- advanced fields ------------------------------------------------------------------------
    def set_show_advanced(self, show: bool) -> None:
        """Show or hide the fields declared ``advanced`` (hidden in presentation mode)."""
        self._show_advanced = bool(show)
        self._apply_advanced()

    def _apply_advanced(self) -> None:
        for name, info in self._infos.items():
            visible = self._show_advanced or not info.advanced
            self._editors[name].setVisible(visible)
            self._labels[name].setVisible(visible)
            self._messages[name].setVisible(visible and name in self._errors)

    # -- validation -----------------------------------------------------------------------------
    def _edited(self, name: str) -> None:
        if not self._updating:
            self._revalidate()

    def _revalidate(self, emit_values: bool = True) -> None:
        errors = {}
        for name, info in self._infos.items():
            try:
                info.check(self.raw_value(name))
            except ParameterError as error:
                errors[name] = _inline(str(error), info)
        self._errors = errors
        for name, label in self._messages.items():
            text = errors.get(name, "")
            label.setText(text)
            visible = bool(text) and (self._show_advanced or not self._infos[name].advanced)
            label.setVisible(visible)
            editor = self._editors[name]
            editor.setProperty("invalid", bool(text))
            editor.setStyleSheet(f"border: 1px solid {ERROR_COLOR};" if text else "")
        valid = not errors
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
        if emit_values:
            self.valuesChanged.emit()


def _inline(message: str, info: ParamInfo) -> str:
    """The engine's message without the ``parameter 'name':`` prefix (the field names it)."""
    prefix = f"parameter '{info.name}': "
    text = message[len(prefix):] if message.startswith(prefix) else message
    if text.startswith("'") and "is not a valid" in text:
        value = text.split("'")[1]
        if value == "":
            return "Enter a number." if info.kind in (int, float) else "Enter a value."
    return text[:1].upper() + text[1:]


def _demo() -> int:  # pragma: no cover - manual development aid
    import sys

    from PySide6.QtWidgets import QApplication

    from workbench.attacks import ATTACKS

    app = QApplication.instance() or QApplication(sys.argv)
    form = ParamForm(ATTACKS.get("pgd").Params)
    form.validityChanged.connect(lambda ok: print("valid" if ok else "invalid", form.errors()))
    form.valuesChanged.connect(lambda: print(form.values()))
    form.setWindowTitle("ParamForm — PGD")
    form.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_demo())
