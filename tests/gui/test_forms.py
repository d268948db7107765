"""ParamForm: widgets from declarations, and every field's inline validation."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from workbench.attacks import ATTACKS
from workbench.core.params import describe, param
from workbench.gui.forms import ParamForm, format_number


@dataclass(frozen=True)
class Everything:
    rate: float = param(0.03, title="Rate", description="A float in [0, 1]", unit="pixel value", low=0.0, high=1.0)
    count: int = param(10, title="Count", description="An int", low=1, high=100)
    free: float = param(2.5, title="Free", description="An unbounded float")
    flag: bool = param(True, title="Flag", description="A switch")
    mode: str = param("fast", title="Mode", description="A choice", choices=("fast", "exact"))
    name: str = param("abc", title="Name", description="Free text")
    expert: float = param(1e-4, title="Expert", description="Advanced", low=0.0, high=1.0, advanced=True)


def type_into(qtbot, editor, text):
    line = editor.lineEdit() if isinstance(editor, (QSpinBox, QDoubleSpinBox)) else editor
    line.setFocus()
    qtbot.keyClick(line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(line, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(line, text)


def test_widgets_follow_the_declaration(qtbot):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    assert isinstance(form.editor("rate"), QDoubleSpinBox)
    assert isinstance(form.editor("count"), QSpinBox)
    assert isinstance(form.editor("flag"), QCheckBox)
    assert isinstance(form.editor("mode"), QComboBox)
    assert isinstance(form.editor("name"), QLineEdit)
    assert form.values() == {
        "rate": 0.03, "count": 10, "free": 2.5, "flag": True, "mode": "fast", "name": "abc", "expert": 1e-4,
    }
    tip = form.editor("rate").toolTip()
    assert "A float in [0, 1]" in tip and "pixel value" in tip and "From 0 to 1" in tip
    assert form.editor("rate").lineEdit().text() == "0.03"
    assert form.editor("expert").lineEdit().text() == "0.0001"
    assert form.is_valid()


def test_arrows_stop_at_the_bounds(qtbot):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    rate = form.editor("rate")
    rate.setValue(0.995)
    rate.stepBy(5)
    assert rate.value() == 1.0
    count = form.editor("count")
    count.setValue(2)
    count.stepBy(-10)
    assert count.value() == 1
    assert form.is_valid()


@pytest.mark.parametrize(
    "name, bad, expected",
    [
        ("rate", "1.5", "above its maximum"),
        ("rate", "-0.1", "below its minimum"),
        ("count", "0", "below its minimum"),
        ("count", "500", "above its maximum"),
        ("count", "", "Enter a number"),
        ("free", "", "Enter a number"),
    ],
)
def test_typed_out_of_range_value_shows_inline_message(qtbot, name, bad, expected):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    form.show()
    validity = []
    form.validityChanged.connect(validity.append)
    good = form.raw_value(name)
    type_into(qtbot, form.editor(name), bad)
    assert expected in form.message(name)
    assert form.message_label(name).isVisible()
    assert form.message_label(name).text() == form.message(name)
    assert not form.is_valid() and validity[-1] is False
    assert name not in form.values()
    type_into(qtbot, form.editor(name), good)
    assert form.message(name) == ""
    assert not form.message_label(name).isVisible()
    assert form.is_valid() and validity[-1] is True


def test_set_values_shows_and_flags(qtbot):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    form.set_values({"rate": 0.25, "count": 7, "flag": False, "mode": "exact", "name": "z"})
    assert form.values()["rate"] == 0.25 and form.values()["count"] == 7
    assert form.values()["flag"] is False and form.values()["mode"] == "exact"
    form.set_values({"rate": 3})
    assert not form.is_valid() and "above its maximum" in form.message("rate")
    form.reset()
    assert form.is_valid() and form.values()["rate"] == 0.03


def test_advanced_fields_hide(qtbot):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    form.show()
    assert form.editor("expert").isVisible()
    form.set_show_advanced(False)
    assert not form.editor("expert").isVisible()
    assert form.editor("rate").isVisible()
    assert "expert" in form.values()  # hidden, still used


def _numeric_cases():
    for attack in ATTACKS:
        for info in describe(attack.Params):
            if info.kind not in (int, float):
                continue
            if info.high is not None:
                yield pytest.param(attack.id, info.name, info.high + (1 if info.kind is int else max(abs(info.high), 1) * 0.5), "above its maximum", id=f"{attack.id}-{info.name}-high")
            if info.low is not None:
                yield pytest.param(attack.id, info.name, info.low - (1 if info.kind is int else max(abs(info.low), 1) * 0.5), "below its minimum", id=f"{attack.id}-{info.name}-low")
            yield pytest.param(attack.id, info.name, "", "Enter a number", id=f"{attack.id}-{info.name}-empty")


@pytest.mark.parametrize("attack_id, name, bad, expected", list(_numeric_cases()))
def test_every_attack_field_validates_inline(qtbot, attack_id, name, bad, expected):
    form = ParamForm(ATTACKS.get(attack_id).Params)
    qtbot.addWidget(form)
    form.show()
    type_into(qtbot, form.editor(name), format_number(bad) if bad != "" else "")
    assert expected in form.message(name), form.message(name)
    assert form.message_label(name).isVisible()
    assert not form.is_valid()


def test_format_number():
    assert format_number(0.03) == "0.03"
    assert format_number(1e-5) == "1e-5"
    assert format_number(2.0) == "2"
    assert format_number(40) == "40"
    assert format_number(True) == "true"


def test_small_typed_values_survive_focus_changes_and_steps(qtbot):
    form = ParamForm(Everything)
    qtbot.addWidget(form)
    form.show()
    type_into(qtbot, form.editor("rate"), "0.00035")
    form.editor("count").setFocus()  # focus out: Qt re-interprets the text
    qtbot.keyClick(form.editor("rate").lineEdit(), Qt.Key.Key_Tab)
    assert form.values()["rate"] == 0.00035
    assert form.editor("rate").lineEdit().text() == "0.00035"
    form.editor("rate").stepBy(1)
    assert form.values()["rate"] == pytest.approx(0.01035)
