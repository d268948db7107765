"""The Evasion lab's live run, shown as it goes: the run's state (``_Live``), its events
(steps, traces, decision-boundary slices) drawn at a bounded cadence, and its end (a run
record on a finish, the views where it stopped on a cancel). A mixin of
:class:`~workbench.gui.labs.evasion.EvasionLab`; the run itself is started by the lab's
``run`` through its :class:`~workbench.gui.labs.run_page.RunControl`."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer

from workbench.core.events import AttackResult, AttackStep
from workbench.core.tracking import AttackTrace
from workbench.gui.state import RunView

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


class LiveRunEvents:
    """The live run's event slots, redraws and ends (mixed into the Evasion lab)."""

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

    # -- presentation -------------------------------------------------------------------------------
    def live_run(self) -> _Live | None:
        return self._live
