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

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackStep
from workbench.core.mask_policy import effective_mask, mask_rectangle
from workbench.core.tracking import AttackTrace
from workbench.gui.labs.base import BOTTOM, RIGHT, DockSpec, Lab, LabAction, register_lab
from workbench.gui.labs.evasion_live import LiveRunEvents, _Live, prediction_title
from workbench.gui.labs.evasion_views import EvasionViews
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


@register_lab
class EvasionLab(LiveRunEvents, EvasionViews, Lab):
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
        self.live_control = RunControl(self, on_cancelled=self._on_cancelled, on_failed=self._on_failed)  # the live run's plumbing
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
            # shown (top classes hidden): 70 % of the room it shares with the run list (stretch 0.2)
            DockSpec("oracleDock", "What the attacker sees", self.oracle_view, RIGHT, 20, stretch=0.467, hidden=True),
            DockSpec("curvesDock", "Confidence curves", self.curves, BOTTOM, 0, size=0.45, stretch=0.55,
                     presentation_size=0.5, presentation_stretch=0.58),
            DockSpec("boundaryDock", "Decision boundary", self.boundary, BOTTOM, 10, stretch=0.45,
                     presentation_stretch=0.42),
            DockSpec("batchDock", "Batch results", self.results, BOTTOM, 20, stretch=0.68, hidden=True),
            DockSpec("queryDock", "Queries to success", self.query_histogram, BOTTOM, 30, stretch=0.32, hidden=True),
        ]

    def actions(self) -> list[LabAction]:
        """The lab's menu entries (:mod:`workbench.gui.labs.evasion_files`)."""
        return self.files.actions()

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
        prepared = self.live_control.prepare(self._prepare, self.attack_panel.run_blocker())
        if prepared is None:
            return False
        live, source = prepared
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

    # -- status and commands ------------------------------------------------------------------------
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
