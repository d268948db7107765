"""The Naive vs adaptive page's black-box check, clicked through: against bit-depth reduction or
JPEG, naive PGD meets zero gradients and "fails", while Square (queries only) breaks the
defense — the naive card then carries the warning of Carlini et al. (2019) that a black-box
attack beat it. Left off, the page runs the three white-box stages only."""
from __future__ import annotations

import pytest
from defenses_lab_helpers import click_and_wait, fill_form, lab, lab_state, type_into  # noqa: F401  (lab, lab_state: fixtures)
from PySide6.QtCore import Qt

TINY_PGD = {"eps": 0.1, "steps": 5}


def stack_one(qtbot, stack, defense_id: str, values: dict) -> None:
    """Replace the stack by one defense, with the buttons."""
    while stack.stack():
        stack.list.setCurrentRow(0)
        qtbot.mouseClick(stack.remove_button, Qt.MouseButton.LeftButton)
    stack.picker.setCurrentIndex(stack.picker.findData(defense_id))
    qtbot.mouseClick(stack.add_button, Qt.MouseButton.LeftButton)
    fill_form(qtbot, stack.form, values)


@pytest.mark.parametrize("defense_id, values", [("bit-depth", {"bits": 3}), ("jpeg", {"quality": 50})])
def test_square_beats_the_naive_attack_and_the_naive_card_says_so(qtbot, lab, defense_id, values):  # noqa: F811
    view = lab.compare
    stack_one(qtbot, view.stack, defense_id, values)
    fill_form(qtbot, view.attack.form, TINY_PGD)
    assert view.black_box.isChecked() and view.cards["black-box"].isVisible()  # on by default
    type_into(qtbot, view.black_box_queries, "300")
    type_into(qtbot, view.images, "16")

    click_and_wait(qtbot, lab, view.run_button)

    cards = view.cards
    naive, adaptive, blind = (cards[s].robust_accuracy() for s in ("naive", "adaptive", "black-box"))
    assert blind is not None and naive is not None
    assert blind <= naive - 0.5  # no gradient stops the naive attack; Square needs none
    assert any("black-box attack did better" in w and "masked" in w for w in cards["naive"].warnings())
    assert not any("black-box attack" in w for w in cards["adaptive"].warnings())  # BPDA is not beaten
    assert cards["black-box"].warnings() == []
    assert "300 queries per image" in cards["black-box"].subtitle.text()
    assert "naive white-box attack" in cards["black-box"].reference.text()
    assert len(cards["black-box"].examples.captions()) == 6
    assert "Square, with queries alone" in view.verdict.text()
    assert adaptive is not None


def test_black_box_check_left_off_runs_the_white_box_stages_only(qtbot, lab):  # noqa: F811
    view = lab.compare
    qtbot.mouseClick(view.black_box, Qt.MouseButton.LeftButton)
    assert not view.black_box.isChecked()
    assert not view.cards["black-box"].isVisible() and not view.black_box_queries.isEnabled()
    fill_form(qtbot, view.attack.form, TINY_PGD)
    type_into(qtbot, view.images, "4")
    messages = []
    lab.message.connect(lambda text, kind: messages.append(text))

    click_and_wait(qtbot, lab, view.run_button)

    assert view.cards["black-box"].robust_accuracy() is None
    assert view.cards["naive"].robust_accuracy() is not None
    assert not any("black-box attack" in w for w in view.cards["naive"].warnings())
    assert "Square" not in view.verdict.text()
    assert "Naive, adaptive attacks done." in messages
