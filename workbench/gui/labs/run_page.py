"""``RunPage``: the base of every page that runs something (ARCHITECTURE.md, "The GUI").

**Adding a page.** Subclass :class:`RunPage`, declare its settings and supply three things —
the generator, the routing of its events, what to do with the result::

    class LeakPage(RunPage):
        key = "leaks"                      # QSettings key, under the lab's group
        title = "Membership"               # the lab's tab for the page
        params = LeakParams                # a Params dataclass: the settings column's form

        def source(self):                  # in the GUI thread; raise WorkbenchError to refuse
            model, values = self.require_model(), self.form.values()
            return lambda: membership_attack(model, **values)   # called in the worker

        def routes(self):                  # the run's events → the page's views
            return {LeakStep: self.plot.add_point}

        def show_result(self, result):     # the last event, always delivered
            self.report.setText(f"AUC {result.auc:.2f}")

The base builds the page: a settings column (the declared form, Run and Stop, a progress
bar fed by the run's :class:`~workbench.gui.tasks.RunStatus`), a result area
(``self.results``, a layout the page fills with its views) and a report section
(``self.report``). It starts the run on the shared worker with the page's routes (no other
page sees its events; the status bar shows its progress), refuses a second run, stops and
pauses it, marks the application busy, says how a run ended, shows or hides the form's
advanced parameters with the application, and keeps the settings in QSettings
(``<lab group>/<key>``, JSON) — restored when the page is made, saved when the lab hides.

A page whose view already brings its own settings, buttons and result widgets (the Defenses
views) passes it as ``view``: the base then shows the view (scrollable) and drives it through
``view.set_running(bool)``, ``view.stopped(text)``, ``view.save_state()``/``restore_state()``
and the forms named by :meth:`forms`; the view's Run button calls :meth:`run`.

**Adding an event** and **a command**: see :mod:`workbench.gui.tasks` (events and progress) and
:mod:`workbench.cli` (every page has a command built on the same engine generator).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, ClassVar, Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.gui.forms import ParamForm
from workbench.gui.tasks import RunStatus
from workbench.gui.widgets.page_parts import scrollable

log = logging.getLogger(__name__)


class RunControl:
    """The plumbing of one kind of run of a lab, without a page: start the generator on the
    lab's worker with its routes (the application is busy meanwhile), stop, pause, refine the
    status bar's counters, and end (``on_cancelled()`` or ``on_failed(message)``, then
    ``on_end(status, message)``, then not busy any more).
    :class:`RunPage` runs through one; a lab whose runs are driven from its own panels uses one
    per kind of run (the Evasion lab's live and batch runs)."""

    def __init__(self, lab, on_end: Callable[[str, str], None] | None = None, *,
                 on_cancelled: Callable[[], None] | None = None, on_failed: Callable[[str], None] | None = None) -> None:
        self.lab, self.state, self.worker = lab, lab.state, lab.worker
        self.task = None  # the run's TaskHandle
        self._on_end, self._on_cancelled, self._on_failed = on_end, on_cancelled, on_failed

    def prepare(self, prepare: Callable[[], Any], blocker: str | None = None) -> Any:
        """``prepare()``'s result (the run's state and source), or None when the run cannot
        start: another run is in progress (silently), ``blocker`` says why not, or ``prepare``
        refuses with a :class:`~workbench.core.errors.WorkbenchError` (both told to the user)."""
        if self.worker.is_running():
            return None
        try:
            if blocker:
                raise WorkbenchError(blocker)
            return prepare()
        except WorkbenchError as error:
            self.lab.message.emit(str(error), "error")
            return None

    def start(self, source: Any, on: Mapping[type, Callable[[Any], None]], on_result: Callable[[Any], None], *,
              device: str = "") -> None:
        self.state.set_busy(True)
        self.task = self.worker.start(source, on=dict(on), on_result=on_result, on_end=self._ended,
                                      owner=self.lab, device=device)

    def is_running(self) -> bool:
        return self.task is not None

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def set_paused(self, paused: bool) -> None:
        if self.task is not None:
            self.task.set_paused(paused)

    def refine(self, **changes: Any) -> None:
        """The status bar's counters that the events do not carry (see ``RunStatus``)."""
        if self.task is not None:
            self.task.refine(**changes)

    def elapsed(self) -> float:
        """Seconds the run has run, pauses excluded."""
        return self.task.elapsed() if self.task is not None else 0.0

    def _ended(self, status: str, message: str) -> None:
        self.task = None
        try:
            if status == "cancelled" and self._on_cancelled is not None:
                self._on_cancelled()
            elif status == "failed" and self._on_failed is not None:
                self._on_failed(message)
            if self._on_end is not None:
                self._on_end(status, message)
        finally:
            self.state.set_busy(False)


class RunPage(QWidget):
    """One page of a lab that runs an engine generator (see the module docstring). ``lab`` is
    the page's :class:`~workbench.gui.labs.base.Lab` (its state, worker, settings and message
    bar). Signals: ``runEnded(str)`` — "finished", "cancelled" or "failed"."""

    key: ClassVar[str] = "page"
    title: ClassVar[str] = "Page"
    params: ClassVar[type | None] = None
    runEnded = Signal(str)

    def __init__(self, lab, view: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lab, self.state, self.worker, self.view = lab, lab.state, lab.worker, view
        self.control = RunControl(lab, on_end=self._end)
        self.form = ParamForm(self.params) if self.params is not None else None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if view is not None:
            layout.addWidget(scrollable(view))
        else:
            self._build_default(layout)
        self.worker.statusChanged.connect(self._status)
        self.state.showAdvancedChanged.connect(lambda _show: self.apply_advanced())
        self.state.presentationChanged.connect(lambda _on: self.apply_advanced())

    def _build_default(self, layout: QVBoxLayout) -> None:
        row = QHBoxLayout()
        layout.addLayout(row)
        column = QVBoxLayout()
        if self.form is not None:
            column.addWidget(self.form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        column.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        column.addWidget(self.progress)
        column.addStretch(1)
        row.addLayout(column, 1)
        right = QVBoxLayout()
        self.results = QVBoxLayout()
        right.addLayout(self.results, 1)
        self.report = QLabel()
        self.report.setObjectName("runReport")
        self.report.setWordWrap(True)
        right.addWidget(self.report)
        row.addLayout(right, 3)

    # -- what a page supplies -----------------------------------------------------------------------
    def source(self) -> Any:
        """The run: a generator, or a callable returning one (called in the worker). Raise
        :class:`~workbench.core.errors.WorkbenchError` to refuse with a message."""
        raise WorkbenchError(f"{self.title} has nothing to run.")

    def routes(self) -> Mapping[type, Callable[[Any], None]]:
        """The run's events → the page's slots, by event type (``object`` catches all)."""
        return {}

    def show_result(self, result: Any) -> None:
        """The run's last event (always delivered)."""

    def ended(self, status: str) -> None:
        """After a run that did not finish ("cancelled" or "failed"): say where it stopped."""
        text = "Stopped." if status == "cancelled" else "The run failed."
        if self.view is not None:
            self.view.stopped(text)
        else:
            self.report.setText(text)

    def forms(self) -> list[ParamForm]:
        """The forms whose advanced parameters follow the application's setting."""
        return [self.form] if self.form is not None else []

    def save_state(self) -> dict[str, Any]:
        """What the user set (JSON-able); by default the view's, or the form's values."""
        if self.view is not None:
            return self.view.save_state()
        return dict(self.form.values()) if self.form is not None else {}

    def restore_state(self, stored: Any) -> None:
        """Back to :meth:`save_state`'s values (None: keep the defaults)."""
        if self.view is not None:
            self.view.restore_state(stored)
        elif self.form is not None and isinstance(stored, dict):
            self.form.set_values(stored)

    # -- what the base does -------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the page's run; False (with a message) if it cannot."""
        if self.worker.is_running():
            return self.refuse(WorkbenchError("Another run is in progress: stop it or wait for it to end."))
        try:
            source = self.source()
        except WorkbenchError as error:
            return self.refuse(error)
        self.set_running(True)
        model = self.state.model
        self.control.start(source, self.routes(), self.show_result, device=str(model.device) if model is not None else "")
        return True

    def refuse(self, error: Exception) -> bool:
        self.lab.message.emit(str(error), "error")
        return False

    def require_model(self):
        """The current model, or a refusal."""
        if self.state.model is None:
            raise WorkbenchError("Open a model first.")
        return self.state.model

    def is_running(self) -> bool:
        return self.control.is_running()

    def stop(self) -> None:
        self.control.stop()

    def set_paused(self, paused: bool) -> None:
        self.control.set_paused(paused)

    def refine(self, done: float, total: float, unit: str = "it", counter: str = "Iteration") -> None:
        """The status bar's ``counter done/total`` (0: open-ended) at ``unit``/s, where the
        events do not say it themselves."""
        self.control.refine(done=int(done), total=int(total), counter=counter, rate_unit=unit)

    def set_running(self, running: bool) -> None:
        if self.view is not None:
            self.view.set_running(running)
            return
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first status
            self.report.clear()

    def apply_advanced(self) -> None:
        for form in self.forms():
            form.set_show_advanced(self.state.show_advanced)

    def save_settings(self, settings, group: str) -> None:
        settings.setValue(f"{group}/{self.key}", json.dumps(self.save_state()))

    def restore_settings(self, settings, group: str) -> None:
        """Stored values that are not JSON or no longer fit are ignored (the defaults stay)."""
        stored = settings.value(f"{group}/{self.key}")
        try:
            self.restore_state(json.loads(stored) if isinstance(stored, str) else None)
        except Exception:  # stored settings must never stop the lab from opening
            log.warning("ignored the stored settings of the %s page", self.key, exc_info=True)

    def _status(self, status: RunStatus) -> None:
        if not self.control.is_running() or self.view is not None or status.owner is not self.lab:
            return
        if status.total:
            self.progress.setRange(0, int(status.total))
            self.progress.setValue(int(status.done))

    def _end(self, status: str, message: str) -> None:
        if status == "failed":
            self.lab.message.emit(f"The run failed: {message}", "error")
        self.set_running(False)
        if self.view is None:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if status == "finished" else 0)
        self.state.set_busy(False)
        if status != "finished":
            self.ended(status)
            if status == "cancelled":
                self.lab.message.emit("Stopped.", "info")
        self.runEnded.emit(status)
