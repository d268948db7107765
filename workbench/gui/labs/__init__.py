"""Lab pages: one per activity, all sharing the window's ``AppState`` and ``TaskWorker``.

A lab composes widgets and contains no algorithm: it builds an engine generator, hands it to
the worker and shows the events. Each lab offers

- ``title`` — the name on the lab switcher;
- the page widget itself (the lab's central area);
- ``docks()`` — its panels as ``(object_name, title, widget, area)``, which the window puts in
  dock widgets that are shown while the lab is current;
- ``actions`` it wants in the Run menu through ``run()``, ``set_paused(bool)`` and ``stop()``.

The window lists :data:`LABS` in order: Evasion, Defenses.
"""
from __future__ import annotations

from workbench.gui.labs.defenses import DefensesLab
from workbench.gui.labs.evasion import EvasionLab

LABS = (EvasionLab, DefensesLab)

__all__ = ["LABS", "DefensesLab", "EvasionLab"]
