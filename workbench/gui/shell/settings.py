"""What the window keeps in QSettings between sessions: its geometry, the dock layout (as the
first lab shows it), and the shared run settings of ``AppState`` (attack, its parameters, the
oracle's, the seed). Each lab stores its own settings itself (``Lab.save_settings``); stored
values that no longer fit are ignored."""
from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from workbench.gui.shell.recent import json_value
from workbench.gui.state import AppState

LAYOUT_VERSION = 1


def restore_window(window: QMainWindow, settings: QSettings, state: AppState) -> bool:
    """Restore geometry, layout and the shared run settings; True if a saved layout was restored."""
    restored = False
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    layout = settings.value("window/state")
    if isinstance(layout, QByteArray) and not layout.isEmpty():
        restored = bool(window.restoreState(layout, LAYOUT_VERSION))
    attack = settings.value("attack/id")
    if isinstance(attack, str) and attack:
        from workbench.attacks import ATTACKS

        if attack in ATTACKS:
            stored = json_value(settings.value(f"attack/params/{attack}"))
            if isinstance(stored, dict):
                state.set_attack_params(stored, attack)
            state.set_attack(attack)
    oracle = json_value(settings.value("attack/oracle"))
    if isinstance(oracle, dict):
        state.set_oracle_params(oracle)
    seed = settings.value("attack/seed")
    try:
        if seed is not None:
            state.set_seed(int(seed))
    except (TypeError, ValueError):
        pass
    return restored


def save_window(window: QMainWindow, settings: QSettings, state: AppState, layout: QByteArray) -> None:
    """Store the geometry, ``layout`` (the window's state as the first lab shows it) and the
    shared run settings."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", layout)
    if state.attack_id:
        settings.setValue("attack/id", state.attack_id)
        settings.setValue(f"attack/params/{state.attack_id}", json.dumps(state.attack_params()))
    settings.setValue("attack/seed", state.seed)
    settings.setValue("attack/oracle", json.dumps(state.oracle_params))
    settings.sync()
