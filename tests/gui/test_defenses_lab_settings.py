"""The Defenses lab remembers what was set on its pages (QSettings, like the window's other
preferences) and shrugs off stored values that no longer fit; presentation mode entered on the
Defenses lab gives every panel back, and never becomes the saved layout."""
from __future__ import annotations

import json

import pytest
from defenses_lab_helpers import fill_form, lab_state, type_into  # noqa: F401  (lab_state: a fixture)
from PySide6.QtCore import QSettings, Qt

from workbench.gui.labs.defenses import DefensesLab
from workbench.gui.worker import TaskWorker


@pytest.fixture
def open_lab(qtbot, lab_state):  # noqa: F811
    """Opens a Defenses lab on the shared state (as a window opening would); shuts the worker."""
    workers = []

    def open_() -> DefensesLab:
        worker = TaskWorker()
        workers.append(worker)
        lab = DefensesLab(lab_state, worker)
        qtbot.addWidget(lab)
        lab.show()
        qtbot.waitExposed(lab)
        return lab

    yield open_
    for worker in workers:
        worker.shutdown()


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_every_page_comes_back_as_it_was_left(qtbot, open_lab):
    lab = open_lab()
    view = lab.compare
    stack = view.stack
    stack.picker.setCurrentIndex(stack.picker.findData("jpeg"))
    click(qtbot, stack.add_button)
    fill_form(qtbot, stack.form, {"quality": 30})
    view.attack.picker.setCurrentIndex(view.attack.picker.findData("fgsm"))
    fill_form(qtbot, view.attack.form, {"eps": 0.2})
    click(qtbot, view.bpda)  # off: against the recommendation
    type_into(qtbot, view.black_box_queries, "700")
    click(qtbot, view.black_box)  # the black-box check off
    assert not view.black_box_queries.isEnabled()
    type_into(qtbot, view.images, "12")
    fill_form(qtbot, lab.certify.form, {"n0": 20, "alpha": 0.01})
    type_into(qtbot, lab.certify.images, "5")
    models = lab.certify.model
    models.setCurrentIndex(next(i for i in range(models.count()) if models.itemData(i)[0] == "fashion-cnn-noise-0.5"))
    tradeoff = lab.tradeoff
    tradeoff.defense.setCurrentIndex(tradeoff.defense.findData("jpeg"))
    type_into(qtbot, tradeoff.strengths, "20, 60")
    type_into(qtbot, tradeoff.eot, "3")
    type_into(qtbot, tradeoff.radius, "0.3")
    type_into(qtbot, lab.monitor.calibration, "123")
    type_into(qtbot, lab.monitor.accounts, "4")
    lab.show_page(tradeoff)
    expected = {"stack": stack.stack(), "attack": view.attack.save_state(), "tradeoff": tradeoff.save_state()}
    assert expected["stack"] == [("bit-depth", {"bits": 3}), ("jpeg", {"quality": 30})]
    lab.close()

    again = open_lab()
    view = again.compare
    assert view.stack.stack() == expected["stack"]
    assert view.attack.attack_id() == "fgsm" and view.attack.values()["eps"] == 0.2
    assert view.attack.save_state() == expected["attack"]
    assert not view.bpda.isChecked() and not view.eot.isChecked()
    assert not view.black_box.isChecked() and view.black_box_queries.value() == 700
    assert not view.cards["black-box"].isVisible()
    assert view.settings().black_box_queries is None and view.images.value() == 12
    certify = again.certify
    assert certify.model_id() == "fashion-cnn-noise-0.5" and certify.params()["sigma"] == 0.5
    assert certify.params()["n0"] == 20 and certify.params()["alpha"] == 0.01 and certify.images.value() == 5
    assert again.tradeoff.save_state() == expected["tradeoff"]
    assert again.tradeoff.strength_values() == [20.0, 60.0]
    assert again.monitor.calibration.value() == 123 and again.monitor.accounts.value() == 4
    assert again.pages.currentWidget().view is again.tradeoff


def test_stale_and_broken_settings_are_ignored(qtbot, open_lab):
    settings = QSettings()
    settings.setValue("defenses/compare", json.dumps({
        "stack": [["no-such-defense", {}], ["bit-depth", {"bits": 99, "colour": 1}], "junk"],
        "attack": {"attack": "no-such-attack", "values": {"pgd": {"eps": -4, "steps": "many"}, "gone": {}}},
        "bpda": "yes", "eot_draws": 10**9, "images": 2.5, "black_box": False, "black_box_queries": [1],
    }))
    settings.setValue("defenses/certify", "{not json")
    settings.setValue("defenses/tradeoff", json.dumps({"defense": "jpeg", "strengths": "0, 500", "eot": -1}))
    settings.setValue("defenses/monitor", json.dumps([1, 2, 3]))
    settings.setValue("defenses/page", "17")
    settings.sync()

    lab = open_lab()

    view = lab.compare
    assert view.stack.stack() == [("bit-depth", {"bits": 3})]  # the stale id dropped, 99 bits refused
    assert view.attack.attack_id() == "pgd" and view.attack.values()["eps"] == 0.1 and view.attack.form.is_valid()
    assert view.bpda.isChecked()  # the recommendation stands where the stored switch is no bool
    assert view.eot_draws.value() == 16 and view.images.value() == 32
    assert not view.black_box.isChecked() and view.black_box_queries.value() == 500  # the good value kept
    assert lab.certify.images.value() == 16 and lab.certify.form.is_valid()
    assert lab.tradeoff.defense_id() == "jpeg" and lab.tradeoff.strength_values() == [95, 75, 50, 25, 10]  # the defaults
    assert not lab.tradeoff.strengths_message.isVisible() and lab.tradeoff.eot.value() == 16
    assert lab.pages.currentIndex() == 0


def _window(qtbot, settings, restore: bool):
    from workbench.gui.main_window import MainWindow

    win = MainWindow(settings=settings, restore_layout=restore)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def _shown(win) -> set[str]:
    return {name for name, dock in win.docks.items() if dock.isVisible()}


def test_presentation_mode_on_the_defenses_lab_gives_every_panel_back(qtbot, settings):
    win = _window(qtbot, settings, restore=False)
    evasion = _shown(win)
    assert {"attackDock", "curvesDock", "runsDock", "modelDock", "galleryDock"} <= evasion
    defenses = next(lab for lab in win.labs if lab.title == "Defenses")
    win.labs_tabs.setCurrentWidget(defenses)
    qtbot.waitUntil(lambda: not win.docks["runsDock"].isVisible(), timeout=2_000)
    on_defenses = _shown(win)

    # in and out on the Defenses lab, then back to Evasion
    win.presentation_action.trigger()  # F11
    assert win.state.presentation and not win.docks["modelDock"].isVisible()
    win.presentation_action.trigger()  # F11
    assert not win.state.presentation
    assert _shown(win) == on_defenses
    win.labs_tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: _shown(win) == evasion, timeout=2_000)

    # in on the Defenses lab, out on the Evasion lab
    win.labs_tabs.setCurrentWidget(defenses)
    win.presentation_action.trigger()
    win.labs_tabs.setCurrentIndex(0)
    win.presentation_action.trigger()
    qtbot.waitUntil(lambda: _shown(win) == evasion, timeout=2_000)

    # closed in presentation mode on the Defenses lab: the saved layout is the normal one
    win.labs_tabs.setCurrentWidget(defenses)
    win.presentation_action.trigger()
    win.close()
    again = _window(qtbot, settings, restore=True)
    assert again.labs_tabs.currentIndex() == 0 and not again.state.presentation
    assert _shown(again) == evasion
    again.close()


def test_lab_settings_survive_closing_the_window_on_the_defenses_lab(qtbot, settings):
    win = _window(qtbot, settings, restore=False)
    defenses = next(lab for lab in win.labs if lab.title == "Defenses")
    win.labs_tabs.setCurrentWidget(defenses)
    type_into(qtbot, defenses.compare.black_box_queries, "321")
    defenses.show_page(defenses.monitor)
    win.close()
    settings.sync()
    assert json.loads(settings.value("defenses/compare"))["black_box_queries"] == 321  # the window's own store
    assert QSettings().value("defenses/compare") is None  # not the application's default one
    again = _window(qtbot, settings, restore=True)
    lab = next(lab for lab in again.labs if lab.title == "Defenses")
    assert lab.compare.black_box_queries.value() == 321
    assert lab.pages.currentWidget().view is lab.monitor
    again.close()
