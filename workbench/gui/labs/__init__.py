"""Lab pages: one per activity, all sharing the window's ``AppState`` and ``TaskWorker``.

A lab composes widgets and contains no algorithm: it builds an engine generator, hands it to
the worker and shows the events. :mod:`workbench.gui.labs.base` is the protocol (how to add a
lab, a page, an event, a command) and the registry; :mod:`workbench.gui.labs.run_page` is the
base of the pages that run something. Importing this package registers the built-in labs in
their tab order: Evasion, Defenses.
"""
from __future__ import annotations

from workbench.gui.labs.base import Lab, registered_labs
from workbench.gui.labs.evasion import EvasionLab
from workbench.gui.labs.defenses import DefensesLab  # noqa: I001 - registration order is tab order

__all__ = ["DefensesLab", "EvasionLab", "Lab", "registered_labs"]
