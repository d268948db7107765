"""The Evasion lab: draw a mask on an image, attack the model, watch the attack live.

It composes widgets — the mask canvas and its toolbar, the original │ perturbation │
adversarial triptych, the confidence curves, the top-k bars, the decision-boundary slice and the
attack panel — and contains no algorithm: a run is the attack's event generator from the
registry, wrapped by :func:`workbench.audit.boundary.with_boundary_slices` (slices computed in
the worker thread) and :func:`workbench.core.tracking.track` (one history point per iteration) —
the engine's recipe :func:`workbench.audit.live.live_run` — handed to the shared
:class:`~workbench.gui.worker.TaskWorker`.

The attack runs on the current image (a batch of one), with the image's mask rasterized to the
model's resolution (no mask, or an empty one: every pixel may change). "Run on all images"
attacks the whole gallery instead (:mod:`workbench.gui.labs.evasion_batch`): a results table
with its summary, and for black-box attacks a histogram of the queries to success. Black-box
runs show what the attacker sees (the oracle's last answer, the queries left) and draw their
curves over queries instead of iterations.

Run alone for development: ``python -m workbench.gui.labs.evasion``.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackResult, AttackStep
from workbench.core.mask_policy import effective_mask, mask_rectangle
from workbench.core.tracking import AttackTrace
from workbench.gui.labs.base import BOTTOM, RIGHT, DockSpec, Lab, LabAction, register_lab
from workbench.gui.labs.run_page import RunControl
from workbench.gui.state import AppState, RunView
from workbench.gui.widgets.attack_panel import AttackPanel
from workbench.gui.widgets.boundary import BoundaryView
from workbench.gui.widgets.canvas import MaskCanvas
from workbench.gui.widgets.canvas_toolbar import MaskToolbar
from workbench.gui.widgets.curves import ConfidenceCurves
from workbench.gui.widgets.image_triptych import ImageTriptych
from workbench.gui.widgets.oracle_view import OracleView
from workbench.gui.widgets.query_histogram import QueryHistogram
from workbench.gui.widgets.results_table import ResultsTable
from workbench.gui.widgets.topk import TopKBars
from workbench.gui.worker import TaskWorker

try:  # the slice event type, to recognise it among the worker's events
    from workbench.audit.boundary import BoundarySlice
except ImportError:  # pragma: no cover - the audit package is part of the workbench
    BoundarySlice = None  # type: ignore[assignment]


# Live redraw cadence. Every millisecond the GUI thread spends drawing is taken from the attack
# (the worker thread shares the CPU and Python's GIL with it), and everything drawn in one pass
# of the event loop adds up to one stall of the window, so the views redraw less often than the
# worker delivers steps (≤ 25/s) and the costlier ones never in the same pass:
VIEWS_INTERVAL_S = 0.1  # images, top-k bars and status at most this often (10/s)
CURVES_INTERVAL_S = 0.2  # the curves at most this often (each history is complete: no point is lost)
SLICE_GAP_S = 0.1  # the curves wait this long after a decision-boundary slice was drawn


def percent(p: float) -> str:
    return f"{100.0 * float(p):.0f} %" if p >= 0.01 else f"{100.0 * float(p):.1f} %"


def prediction_text(probs: np.ndarray, labels: list[str]) -> str:
    """The predicted class and its probability, e.g. "Shirt 64 %"."""
    index = int(np.argmax(probs))
    return f"{labels[index]} {percent(probs[index])}"


def prediction_title(prefix: str, probs: np.ndarray, labels: list[str]) -> str:
    """e.g. "Adversarial: Shirt 64 %"."""
    return f"{prefix}: {prediction_text(probs, labels)}"


@dataclass
class _Live:
    """The run in progress: what it started from and the latest views."""

    run_id: int
    attack_id: str
    attack_title: str
    params: dict[str, Any]
    seed: int
    x: np.ndarray  # C×H×W
    true_class: int
    target_class: int | None
    mask: np.ndarray | None
    labels: list[str]
    model_id: str
    device: str
    image_index: int
    image_name: str
    probs_clean: np.ndarray
    oracle: dict[str, Any] = field(default_factory=dict)
    black_box: bool = False
    x_extent: float | None = None  # black-box: the queries the run may spend (the curves' x axis)
    iteration: int = 0
    total: int = 0
    history: dict[str, np.ndarray] = field(default_factory=dict)
    boundary: Any = None
    x_adv: np.ndarray | None = None
    probs_adv: np.ndarray | None = None
    success: bool = False
    queries: int = 0
    seen: Any = None  # black-box: the oracle's last answer (labels, scores) on the image
    budget: int = 0


@register_lab
class EvasionLab(Lab):
    """Evasion attacks on the current image (see the module docstring).

    Signals: ``message(str, str)`` — text and kind ("error", "info") for the window's message
    bar; ``runFinished(int)`` — the id of a run that joined the run list; ``dockWanted(str,
    bool)`` — a panel (by its dock's object name) that applies now or no longer: the attacker's
    view in place of the top classes for black-box attacks; the batch results (and their
    histogram of queries) in place of the curves and the decision boundary after "Run on all
    images".
    """

    title = "Evasion"
    runFinished = Signal(int)

    def __init__(self, state: AppState, worker: TaskWorker, parent: QWidget | None = None, *,
                 settings: QSettings | None = None) -> None:
        super().__init__(state, worker, parent, settings=settings)
        self._live: _Live | None = None
        self.live_control = RunControl(self, on_end=self._on_end)  # the live run's plumbing
        self._showing_image = -1
        self._curves_shown_at = 0.0
        self._curves_timer = QTimer(self)
        self._curves_timer.setSingleShot(True)
        self._curves_timer.timeout.connect(self._draw_live_curves)
        self._views_shown_at = 0.0
        self._views_timer = QTimer(self)
        self._views_timer.setSingleShot(True)
        self._views_timer.timeout.connect(self._draw_live_views)
        self._slice_shown_at = 0.0

        self.canvas = MaskCanvas()
        self.canvas.setObjectName("maskCanvas")
        self.toolbar = MaskToolbar(self.canvas, file_actions=False)  # File menu has them
        self.triptych = ImageTriptych()
        self.triptych.setObjectName("triptych")
        self.curves = ConfidenceCurves()
        self.curves.setObjectName("curves")
        self.topk = TopKBars()
        self.topk.setObjectName("topk")
        self.boundary = BoundaryView()
        self.boundary.setObjectName("boundary")
        self.attack_panel = AttackPanel(state)
        self.attack_panel.setObjectName("attackPanel")
        self.oracle_view = OracleView()
        self.oracle_view.setObjectName("oracleView")
        self.results = ResultsTable()
        self.results.setObjectName("resultsTable")
        self.query_histogram = QueryHistogram()
        self.query_histogram.setObjectName("queryHistogram")

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.triptych)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)

        # state → views
        state.imagesChanged.connect(lambda _images: self._show_current(force=True))
        state.currentIndexChanged.connect(self._current_changed)
        state.maskChanged.connect(self._mask_changed_in_state)
        state.modelChanged.connect(lambda _model: self._model_changed())
        state.predictionsChanged.connect(lambda _p: self._show_current(force=True))
        state.selectedRunChanged.connect(self._show_run)
        state.attackChanged.connect(lambda _id: self._show_access())
        state.oracleParamsChanged.connect(lambda _values: self._show_access())
        # views → state
        self.canvas.maskChanged.connect(self._mask_edited)
        self.toolbar.failed.connect(lambda text: self.message.emit(text, "error"))
        from workbench.gui.labs.evasion_templates import TemplateFitter

        self.toolbar.set_fitter(TemplateFitter(self))
        self.toolbar.notice.connect(lambda text: self.message.emit(text, "info"))
        # panel → lab
        self.attack_panel.runRequested.connect(self.run)
        self.attack_panel.batchRequested.connect(self.run_batch)
        self.attack_panel.access.switched.connect(lambda text: self.message.emit(text, "info"))
        self.attack_panel.pauseRequested.connect(self.set_paused)
        self.attack_panel.stopRequested.connect(self.stop)
        from workbench.gui.labs.evasion_files import EvasionFiles

        self.files = EvasionFiles(self)
        self.attack_panel.copyCommandRequested.connect(self.files.copy_command)
        worker.pausedChanged.connect(self._on_paused)  # the panel's Pause button follows the Run menu's
        from workbench.gui.labs.evasion_batch import BatchRunner

        self.batch = BatchRunner(self)
        self._show_current(force=True)
        self._show_access()

    # -- layout -------------------------------------------------------------------------------------
    def docks(self) -> list[DockSpec]:
        """The lab's panels: attack, top classes and (when black-box) the attacker's view on the
        right; curves and the decision boundary under the page, or (batch) the results with
        their histogram of queries. Panels shown when they apply take no tabs: Qt 6.11 leaves a
        stray copy of the tab bar of a second tabbed group on screen."""
        return [
            DockSpec("attackDock", "Attack", self.attack_panel, RIGHT, 0, size=0.2, stretch=0.45,
                     presentation_size=0.23, presentation_stretch=0.55),
            DockSpec("topkDock", "Top classes", self.topk, RIGHT, 10, stretch=0.25, presentation_stretch=0.4),
            DockSpec("oracleDock", "What the attacker sees", self.oracle_view, RIGHT, 20, stretch=0.467, hidden=True),
            DockSpec("curvesDock", "Confidence curves", self.curves, BOTTOM, 0, size=0.45, stretch=0.55,
                     presentation_size=0.5, presentation_stretch=0.58),
            DockSpec("boundaryDock", "Decision boundary", self.boundary, BOTTOM, 10, stretch=0.45,
                     presentation_stretch=0.42),
            DockSpec("batchDock", "Batch results", self.results, BOTTOM, 20, stretch=0.68, hidden=True),
            DockSpec("queryDock", "Queries to success", self.query_histogram, BOTTOM, 30, stretch=0.32, hidden=True),
        ]

    def actions(self) -> list[LabAction]:
        """The lab's menu entries: masks and exports in File, the batch run and the command line
        in Run (:mod:`workbench.gui.labs.evasion_files`)."""
        files = self.files
        return [
            LabAction("&Save mask…", files.save_mask_dialog, "Ctrl+Shift+S", "Save the current image's mask as a PNG",
                      menu="File", role="mask"),
            LabAction("&Load mask…", files.load_mask_dialog, "Ctrl+Shift+L", "Load a mask PNG for the current image",
                      menu="File", role="mask"),
            LabAction("Export &adversarial PNG…", files.export_adversarial_dialog, "Ctrl+E",
                      "Save the adversarial image of the selected run", menu="File", role="export"),
            LabAction("Export &perturbation PNG…", files.export_perturbation_dialog, "Ctrl+Shift+E",
                      "Save the coloured perturbation of the selected run", menu="File", role="export"),
            LabAction("Export p&rintable…", files.export_printable_dialog, None,
                      "Save the selected run's perturbed region (its mask) at a physical size, to print",
                      menu="File", role="export"),
            LabAction("Export batch &results CSV…", files.export_results_dialog, None,
                      "Save the batch results table as a CSV file", menu="File", role="export"),
            LabAction("Run on &all images", self.run_batch, "Ctrl+Shift+R",
                      "Attack every image of the gallery and list the results", role="batch"),
            LabAction("&Copy as command", files.copy_command, "Ctrl+Shift+C",
                      "Copy the equivalent `workbench attack …` line", role="command", idle_only=False),
        ]

    def print_run(self, run_id: int) -> bool:
        return self.files.export_printable_dialog(run_id)

    def set_canvas_share(self, fraction: float) -> None:
        """Give the mask canvas ``fraction`` of the page's width, the triptych the rest."""
        total = max(self.splitter.width(), 400)
        canvas = int(total * min(max(fraction, 0.2), 0.8))
        self.splitter.setSizes([canvas, total - canvas])

    # -- running ------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._live is not None or self.batch.is_running()

    def run_batch(self) -> bool:
        """Attack every image of the gallery with the panel's settings (see
        :mod:`workbench.gui.labs.evasion_batch`); False (with a message) if it cannot."""
        return self.batch.start()

    def show_batch_views(self, batch: bool, black_box: bool = False) -> None:
        """Batch results (and, black-box, the histogram of queries) in place of the curves and
        the decision boundary, or back."""
        for name, wanted in (("curvesDock", not batch), ("boundaryDock", not batch),
                             ("batchDock", batch), ("queryDock", batch and black_box)):
            self.dockWanted.emit(name, wanted)

    def run(self) -> bool:
        """Start the selected attack on the current image; False (with a message) if it cannot."""
        if self.worker.is_running():
            return False
        blocker = self.attack_panel.run_blocker()
        if blocker:
            self.message.emit(blocker, "error")
            return False
        try:
            live, source = self._prepare()
        except WorkbenchError as error:
            self.message.emit(str(error), "error")
            return False
        self._live = live
        # first: the views below are reset while the attack starts
        on = {AttackTrace: self._on_trace, AttackStep: self._show_step}
        if BoundarySlice is not None:
            on[BoundarySlice] = self._on_slice
        self.live_control.start(source, on, self._on_finished, device=live.device)
        self.state.set_selected_run(-1)
        self.boundary.clear()  # the previous run's slice does not stand for this one
        self.triptych.set_fixed_scale(self.color_scale(live.attack_id, live.params))
        self.curves.clear()
        self.curves.set_x_series("queries" if live.x_extent is not None else "iteration")
        self.show_batch_views(False)
        self.show_access_views(live.black_box)
        if live.black_box:
            self.oracle_view.set_oracle(self.state.oracle_params, live.labels)
        else:
            self.oracle_view.set_white_box()
        self.triptych.set_images(live.x, live.x, (prediction_title("Original", live.probs_clean, live.labels), "Adversarial: starting…"))
        self.topk.set_probabilities(live.probs_clean, live.labels, live.true_class, live.target_class)
        self._emit_status()
        return True

    def _prepare(self):
        """The live run's record and its event factory, from the panel and the current image
        (the recipe itself is :func:`workbench.audit.live.live_run`)."""
        from workbench.audit.live import live_run

        state = self.state
        model, index = state.model, state.current_index
        attack_class = self.attack_panel.attack_class()
        params = self.attack_panel.values()
        x_np = np.ascontiguousarray(state.current_image(), dtype=np.float32)
        run = live_run(
            model, attack_class(**params), x_np, state.current_label(),  # ParameterError names the key
            clean_probs=self._clean_probs(index), mask=state.mask(index),
            target=state.target_class if state.targeted else None, seed=state.seed,
            oracle_params=state.oracle_params,
        )
        live = _Live(
            run_id=state.new_run_id(), attack_id=attack_class.id, attack_title=attack_class.title,
            params=dict(params), seed=run.seed, x=x_np, true_class=run.true_class, target_class=run.target_class,
            mask=run.mask_array, labels=list(model.labels), model_id=model.model_id,
            device=self.device_text(), image_index=index, image_name=state.current_name(),
            probs_clean=run.probs_clean,
            oracle=state.oracle_params if run.black_box else {}, black_box=run.black_box, x_extent=run.x_extent,
            budget=run.budget,
        )
        return live, run.events

    def _clean_probs(self, index: int) -> np.ndarray | None:
        """The image's clean scores when the gallery has them (else the run predicts them)."""
        predictions = self.state.predictions
        if predictions is not None and 0 <= index < len(predictions):
            return np.asarray(predictions[index], dtype=np.float32)
        return None

    @staticmethod
    def color_scale(attack_id: str, params: dict) -> float | None:
        """The perturbation colours span ±ε for L∞ attacks (stable during a run and comparable
        between runs); other norms use the perturbation's own largest change."""
        from workbench.attacks import ATTACKS

        attack = ATTACKS.get(attack_id) if attack_id in ATTACKS else None
        eps = params.get("eps")
        if attack is not None and attack.norm == "linf" and isinstance(eps, (int, float)) and eps > 0:
            return float(eps)
        return None

    def set_paused(self, paused: bool) -> None:
        self.live_control.set_paused(paused)
        self.batch.set_paused(paused)

    def stop(self) -> None:
        self.live_control.stop()
        self.batch.stop()

    # -- the run's events ---------------------------------------------------------------------------
    def _on_trace(self, event: AttackTrace) -> None:
        self._live.history = event.history
        self._show_step(event.step)

    def _on_slice(self, event: Any) -> None:
        self._live.boundary = event  # the final one is drawn with the finished run (_show_run)
        if not event.final:
            self.boundary.set_slice(event)
            self._slice_shown_at = time.monotonic()

    def _show_step(self, step: AttackStep) -> None:
        live = self._live
        live.iteration, live.total = int(step.iteration), int(step.total)
        live.queries = int(getattr(step, "queries", 0) or 0)
        live.x_adv = np.asarray(step.x_adv[0], dtype=np.float32)
        live.probs_adv = np.asarray(step.probs[0], dtype=np.float32)
        live.success = bool(np.asarray(step.success).reshape(-1)[0])
        if step.seen is not None:
            spent = step.queries_per_image
            live.seen = (step.seen.labels[0], None if step.seen.scores is None else step.seen.scores[0],
                         int(spent[0]) if spent is not None else live.queries)
        self._schedule_curves()
        self._schedule(self._views_timer, self._views_shown_at + VIEWS_INTERVAL_S, self._draw_live_views)

    @staticmethod
    def _schedule(timer: QTimer, due: float, draw) -> None:
        """Draw now if ``due`` (time.monotonic()) has passed, else then (the latest state)."""
        wait = due - time.monotonic()
        if wait <= 0:
            draw()
        elif not timer.isActive():
            timer.start(int(wait * 1000) + 1)

    def _draw_live_views(self) -> None:
        self._views_timer.stop()
        live = self._live
        if live is None or live.x_adv is None:
            return
        self.triptych.set_images(
            live.x, live.x_adv,
            (prediction_title("Original", live.probs_clean, live.labels),
             prediction_title("Adversarial", live.probs_adv, live.labels)),
            success=live.success,
        )
        self.topk.set_probabilities(live.probs_adv, live.labels, live.true_class, live.target_class)
        if live.seen is not None:
            self.oracle_view.set_answer(*live.seen, live.budget)
        self._emit_status()
        self._views_shown_at = time.monotonic()

    def _schedule_curves(self) -> None:
        """Redraw the curves at most every CURVES_INTERVAL_S, not within SLICE_GAP_S of a slice
        (each history is complete: no point is lost), never within the worker's batch itself."""
        due = max(self._curves_shown_at + CURVES_INTERVAL_S, self._slice_shown_at + SLICE_GAP_S)
        if self._live.history and not self._curves_timer.isActive():
            self._curves_timer.start(max(0, int((due - time.monotonic()) * 1000) + 1))

    def _draw_live_curves(self) -> None:
        self._curves_timer.stop()
        live = self._live
        if live is None or not live.history:
            return
        wait = self._slice_shown_at + SLICE_GAP_S - time.monotonic()
        if wait > 0:  # a slice came in meanwhile: let its repaint pass first
            self._curves_timer.start(int(wait * 1000) + 1)
            return
        self.curves.set_x_extent(live.x_extent or live.total or None)  # the x axis stays put for the run
        self.curves.set_history(live.history, live=True)
        self._curves_shown_at = time.monotonic()

    def _stop_live_timers(self) -> None:
        self._curves_timer.stop()
        self._views_timer.stop()

    def _on_end(self, state: str, message: str) -> None:
        if state == "cancelled":
            self._on_cancelled()
        elif state == "failed":
            self._on_failed(message)

    def _on_finished(self, result: Any) -> None:
        live = self._live
        if live is None:
            return
        self._live = None
        self.state.set_busy(False)
        if not isinstance(result, AttackResult):
            self.message.emit("The attack ended without a result.", "error")
            return
        self._stop_live_timers()
        if live.seen is not None:  # the last answer, whether or not its redraw was due yet
            self.oracle_view.set_answer(*live.seen, live.budget)
        x_adv = np.asarray(result.x_adv[0], dtype=np.float32)
        probs_adv = np.asarray(result.probs[0], dtype=np.float32)
        success = bool(np.asarray(result.success).reshape(-1)[0])
        live.iteration = int(result.iterations)
        live.queries = int(getattr(result, "queries", 0) or live.queries)
        seconds = max(self.live_control.elapsed(), 1e-9)
        title = self._run_title(live, probs_adv)
        run = RunView(
            run_id=live.run_id, title=title, attack_id=live.attack_id, attack_title=live.attack_title,
            params=live.params, seed=live.seed, labels=live.labels, model_id=live.model_id,
            image_index=live.image_index, image_name=live.image_name, true_class=live.true_class,
            target_class=live.target_class, x=live.x, x_adv=x_adv, mask=live.mask,
            probs_clean=live.probs_clean, probs_adv=probs_adv, history=dict(live.history),
            boundary=live.boundary, success=success, iterations=int(result.iterations),
            seconds=seconds, device=live.device, queries=live.queries, oracle=dict(live.oracle),
        )
        run.command = self.command_for(run)
        self.state.add_run(run)
        self.state.set_selected_run(run.run_id)
        self._emit_status(live)
        verdict = "fooled the model" if success else "did not fool the model"
        self.message.emit(
            f"{live.attack_title} {verdict} in {run.iterations} iterations ({seconds:.1f} s): "
            f"now {prediction_text(probs_adv, live.labels)}.",
            "info",
        )
        self.runFinished.emit(run.run_id)

    def _on_cancelled(self) -> None:
        live = self._live
        if live is None:
            return
        if self._views_timer.isActive():  # show where it stopped
            self._draw_live_views()
        self._live = None
        self._stop_live_timers()
        if live.history:
            self.curves.set_history(live.history)
        self.boundary.set_slice(live.boundary)
        self.state.set_busy(False)
        self.message.emit(f"Stopped {live.attack_title} at iteration {live.iteration}.", "info")

    def _on_failed(self, text: str) -> None:
        if self._live is None:
            return
        self._live = None
        self._stop_live_timers()
        self.state.set_busy(False)
        self.message.emit(f"The attack failed: {text}", "error")

    def _on_paused(self, paused: bool) -> None:
        self.attack_panel.set_paused(paused)

    # -- showing ------------------------------------------------------------------------------------
    def _current_changed(self, index: int) -> None:
        """Another image: leave a past run's views for the new image's own (a live run keeps
        its views; the canvas always follows the current image)."""
        if self._live is None and self.state.selected_run > 0:
            run = self.state.run(self.state.selected_run)
            if run is None or run.image_index != index:
                self.state.set_selected_run(-1)  # shows the current image through _show_run
                return
        self._show_current()

    def _model_changed(self) -> None:
        """Another model (never during a run): the previous model's run views go, the current
        image shows as the new model sees it."""
        self.curves.clear()
        self.boundary.clear()
        self.batch.clear()
        self._show_current(force=True)
        self._show_access()

    def _show_current(self, force: bool = False) -> None:
        """Show the current image on the canvas (with its mask) and as the clean original."""
        index = self.state.current_index
        if index == self._showing_image and not force:
            return
        self._showing_image = index
        image = self.state.current_image()
        if image is None:
            self.triptych.clear()
            self.topk.clear()
            return
        self.canvas.set_image(image)
        self.canvas.set_mask(self.state.mask(index))
        if self._live is not None or self.state.selected_run > 0:
            return  # the live views show the run
        model = self.state.model
        probs = self.state.predictions
        # While a new model is being installed the predictions may still be the old model's.
        if model is not None and probs is not None and index < len(probs) and probs.shape[-1] == model.num_classes:
            self.triptych.set_original(image, prediction_title("Original", probs[index], model.labels))
            label = self.state.current_label()
            self.topk.set_probabilities(probs[index], model.labels, label if label >= 0 else None,
                                        self.state.target_class if self.state.targeted else None)
        else:
            self.triptych.set_original(image)
            self.topk.clear()  # until the new model's predictions come

    def _show_run(self, run_id: int) -> None:
        run = self.state.run(run_id)
        if run is None:
            if self._live is None:
                self.curves.clear()
                self.boundary.clear()
                self._show_current(force=True)
            return
        self.show_batch_views(False)
        self.triptych.set_fixed_scale(self.color_scale(run.attack_id, run.params))
        self.triptych.set_images(
            run.x, run.x_adv,
            (prediction_title("Original", run.probs_clean, run.labels),
             prediction_title("Adversarial", run.probs_adv, run.labels)),
            success=run.success,
        )
        if run.history:
            queries = run.history.get("queries")
            over_queries = queries is not None and len(queries) > 0 and queries[-1] > 1
            self.curves.set_x_series("queries" if over_queries else "iteration")
            self.curves.set_x_extent(None)  # fitted to the iterations (queries) the run took
            self.curves.set_history(run.history)
        else:
            self.curves.clear()
        self.topk.set_probabilities(run.probs_adv, run.labels, run.true_class, run.target_class)
        if run.boundary is not None:
            self.boundary.set_slice(run.boundary)

    def show_images(self, x, x_adv, probs_clean, probs_adv, labels, true_class, target_class, success,
                    suffix: str = "") -> None:
        """Show an image and its adversarial in the triptych and the top-k bars (batch rows)."""
        self.triptych.set_images(
            x, x_adv,
            (prediction_title("Original", probs_clean, labels) + suffix, prediction_title("Adversarial", probs_adv, labels)),
            success=success,
        )
        self.topk.set_probabilities(probs_adv, labels, true_class, target_class)

    def _show_access(self) -> None:
        """Between runs the attacker's view says what the chosen attack gets: the API's rules,
        or the weights."""
        if self.is_running() or self.state.model is None or self.state.attack_id == "":
            return
        black_box = self.attack_panel.is_black_box()
        if black_box:
            self.oracle_view.set_oracle(self.state.oracle_params, self.state.model.labels)
        else:
            self.oracle_view.set_white_box()
        self.show_access_views(black_box)

    def show_access_views(self, black_box: bool) -> None:
        """Black-box attacks show what the attacker sees in place of the model's top classes."""
        self.dockWanted.emit("topkDock", not black_box)
        self.dockWanted.emit("oracleDock", black_box)

    def _mask_edited(self) -> None:
        index = self.state.current_index
        if index >= 0:
            self.state.set_mask(index, self.canvas.model_mask())

    def _mask_changed_in_state(self, index: int) -> None:
        if index == self.state.current_index:
            mask = self.state.mask(index)
            current = self.canvas.model_mask()
            if mask is None or current is None or current.shape != mask.shape or not np.array_equal(current, mask):
                self.canvas.set_mask(mask)

    # -- status and commands ------------------------------------------------------------------------
    def device_text(self) -> str:
        model = self.state.model
        if model is None:
            return ""
        try:
            from workbench.core.device import describe_device

            return describe_device(model.device)
        except Exception:
            return str(model.device)

    def _emit_status(self, live: _Live | None = None) -> None:
        """The run's counters that its events do not carry (the planned total, the queries)."""
        live = live or self._live
        if live is not None:
            self.live_control.refine(counter="Iteration", rate_unit="it", done=live.iteration, total=live.total,
                                queries=live.queries)

    @staticmethod
    def _run_title(live: _Live, probs_adv: np.ndarray) -> str:
        """e.g. "#3 PGD (L∞) ε=0.1: Coat → Shirt 64 %"."""
        budget = live.params.get("eps")
        shown = f" ε={budget:g}" if isinstance(budget, (int, float)) else ""
        goal = f" (target {live.labels[live.target_class]})" if live.target_class is not None else ""
        clean = live.labels[int(np.argmax(live.probs_clean))]
        return f"#{live.run_id} {live.attack_title}{shown}{goal}: {clean} → {prediction_text(probs_adv, live.labels)}"

    def command_for(self, run: RunView | None = None, mask_file: str | None = None) -> str:
        """The equivalent ``workbench attack …`` line for a run (or for the panel's settings on
        the current image). A mask that is not one rectangle needs ``mask_file``, the PNG the
        caller saved it to."""
        from workbench.gui.widgets.attack_panel import build_command

        state = self.state
        source = state.model_source or (state.model.model_id if state.model is not None else "MODEL")
        if run is not None:
            attack_id, params, seed, image_index = run.attack_id, run.params, run.seed, run.image_index
            target, mask = run.target_class, run.mask
        else:
            attack_id, params, seed, image_index = state.attack_id, self.attack_panel.values(), state.seed, state.current_index
            target, mask = (state.target_class if state.targeted else None), effective_mask(state.mask())
        defaults = {info.name: info.default for info in self.attack_panel.attack_class().parameters()} if attack_id == state.attack_id else None
        labels = state.model.labels if state.model is not None else []
        return build_command(
            source, data_argument(state.images, image_index), attack_id, params, defaults=defaults,
            target=(labels[target] if target is not None and target < len(labels) else None),
            mask_file=mask_file if mask is not None and mask_rectangle(mask) is None else None,
            mask_rect=mask_rectangle(mask), seed=seed,
            oracle=self._oracle_for_command(attack_id, run),
        )

    def _oracle_for_command(self, attack_id: str, run: RunView | None) -> dict | None:
        from workbench.attacks import ATTACKS

        if attack_id not in ATTACKS or ATTACKS.get(attack_id).access == "white-box":
            return None
        return dict(run.oracle) if run is not None else self.attack_panel.oracle_values()

    # -- presentation -------------------------------------------------------------------------------
    def live_run(self) -> _Live | None:
        return self._live


def data_argument(images, index: int) -> str:
    """The ``--data`` value that names image ``index`` alone: its file, when the image came from
    a sample set, a folder or an image file; otherwise (IDX records) the whole source. (The
    command line does not know a lone file's class and attacks the model's answer instead,
    which is the true class whenever the model was right.)"""
    if images is None:
        return "DATA"
    source = str(getattr(images, "source", "DATA"))
    names = getattr(images, "names", None) or []
    name = names[index] if 0 <= index < len(names) else None
    if name is None:
        return source
    from pathlib import Path

    scheme, _, rest = source.partition(":")
    candidates = []
    if scheme == "samples" and rest:
        from workbench.core.resources import resource_path

        candidates.append(resource_path("samples", rest, name))
    candidates += [Path(source) / name, Path(source)]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return source


def main() -> int:  # pragma: no cover - manual development aid
    """The lab alone, on the built-in model and its samples."""
    from workbench.gui.labs.standalone import run_lab_alone

    return run_lab_alone(EvasionLab, "Evasion lab")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
