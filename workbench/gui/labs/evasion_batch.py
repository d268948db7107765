"""Batch mode of the Evasion lab: the current attack on every image of the gallery.

A batch run is the engine's :func:`workbench.attacks.evaluate.evaluate_attack` generator,
handed to the shared :class:`~workbench.gui.worker.TaskWorker` with the result of each batch
marked as an event to keep (never dropped by the worker's latest-wins throttle), so that the
results table fills in row by row as batches finish. While it runs, the triptych, the top-k bars
and (black-box) the oracle's last answer follow the first image of the batch being attacked;
the final :class:`~workbench.attacks.evaluate.Evaluation` ends it. Cancelling keeps the rows of
the batches that finished.

Masks: with none drawn every pixel may change; images with a mask of their own keep it, and
the others take the current image's mask (none: every pixel).

The controller composes the lab's widgets and contains no algorithm.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from workbench.attacks.evaluate import BatchStep, Evaluation
from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackResult, AttackStep
from workbench.core.goals import goal_labels
from workbench.core.mask_policy import batch_masks
from workbench.gui.labs.run_page import RunControl
from workbench.gui.widgets.results_table import ResultRow

BATCH_SIZE = 20  # images attacked together: results appear every batch


@dataclass
class _Batch:
    """The batch run in progress (or the last one): what it attacks and what came back."""

    attack_title: str
    labels: list[str]
    names: list[str]
    x: np.ndarray  # N×C×H×W
    true: np.ndarray  # N, −1 unknown
    clean_probs: np.ndarray  # N×K
    target: int | None
    black_box: bool
    budget: int
    device: str
    oracle: dict[str, Any]  # black-box: the API's settings (OracleParams values)
    model: Any  # the model attacked
    # filled in as batches finish: N×C×H×W, N×K, and N bools (finished, goal met)
    x_adv: np.ndarray = field(init=False)
    adv_probs: np.ndarray = field(init=False)
    finished: np.ndarray = field(init=False)
    success: np.ndarray = field(init=False)
    queries_to_success: list[int] = field(default_factory=list)
    queries_done: int = 0  # spent on the images of finished batches
    batch: int = 0
    batches: int = 0
    iteration: int = 0
    total: int = 0
    queries: int = 0
    evaluation: Any = None

    def __post_init__(self) -> None:
        self.x_adv = self.x.copy()
        self.adv_probs = np.zeros_like(self.clean_probs)
        self.finished = np.zeros(len(self.x), bool)
        self.success = np.zeros(len(self.x), bool)


class BatchRunner(QObject):
    """Runs and shows batch runs for an :class:`~workbench.gui.labs.evasion.EvasionLab`."""

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.lab = lab
        self.state, self.worker = lab.state, lab.worker
        self._live: _Batch | None = None
        self._last: _Batch | None = None
        self._shown_at = 0.0
        self.control = RunControl(lab, on_cancelled=self._on_cancelled, on_failed=self._on_failed)  # the batch run's plumbing
        lab.results.imageActivated.connect(self.show_image)

    # -- running -----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._live is not None

    def start(self) -> bool:
        """Attack every image with the panel's settings; False (with a message) if it cannot."""
        lab = self.lab
        prepared = self.control.prepare(self._prepare, lab.attack_panel.run_blocker())
        if prepared is None:
            return False
        live, source, masks_text = prepared
        self._live = live
        self.state.set_selected_run(-1)
        lab.results.start(live.labels, len(live.x), live.black_box)
        lab.show_batch_views(True, live.black_box)
        lab.show_access_views(live.black_box)
        lab.query_histogram.clear()
        lab.curves.clear()
        lab.boundary.clear()
        lab.triptych.set_fixed_scale(lab.color_scale(lab.attack_panel.attack_class().id, lab.attack_panel.values()))
        if live.black_box:
            lab.oracle_view.set_oracle(self.state.oracle_params, live.labels)
        else:
            lab.oracle_view.set_white_box()
        self.control.start(source, {BatchStep: self._on_progress}, self._on_finished, device=live.device)
        lab.message.emit(f"{live.attack_title} on all {len(live.x)} images ({masks_text}).", "info")
        self._emit_status()
        return True

    def _prepare(self):
        import torch

        from workbench.attacks.evaluate import evaluate_attack

        lab, state = self.lab, self.state
        model, images = state.model, state.images
        if images is None or len(images) == 0:
            raise WorkbenchError("Open images first.")
        attack_class = lab.attack_panel.attack_class()
        params = lab.attack_panel.values()
        attack = attack_class(**params)  # validated: ParameterError names the key
        n = len(images)
        shape = tuple(images.images.shape[-2:])
        mask_np, masks_text = batch_masks({i: state.mask(i) for i in range(n)}, state.current_index, n, shape)
        target = state.target_class if state.targeted else None
        black_box = attack_class.access != "white-box"
        oracle = None
        if black_box:
            from workbench.core.oracle import Oracle, OracleParams
            from workbench.core.params import build

            oracle = Oracle(model, build(OracleParams, state.oracle_params))
        clean = state.predictions
        if clean is None or len(clean) != n:
            raise WorkbenchError("The clean predictions are not ready yet: reopen the images.")
        live = _Batch(
            attack_title=attack_class.title, labels=list(model.labels), names=[str(name) for name in images.names],
            x=images.images.numpy().astype(np.float32), true=images.labels.numpy().astype(int),
            clean_probs=np.asarray(clean, np.float32), target=target, black_box=black_box,
            budget=oracle.budget if oracle is not None else 0, device=lab.device_text(),
            oracle=state.oracle_params, model=model,
        )
        x, labels = images.images, images.labels
        mask = None if mask_np is None else torch.from_numpy(mask_np)
        target_t = None if target is None else torch.tensor([target])
        seed = state.seed

        def events():  # called in the worker thread
            return evaluate_attack(attack, model, x, labels, mask=mask, target=target_t, seed=seed,
                                   batch_size=BATCH_SIZE, oracle=oracle)

        return live, events, masks_text

    def set_paused(self, paused: bool) -> None:
        self.control.set_paused(paused)

    def stop(self) -> None:
        self.control.stop()

    # -- the run's events ----------------------------------------------------------------------------
    def _on_progress(self, event: BatchStep) -> None:
        live = self._live
        live.batch, live.batches = int(event.batch), int(event.batches)
        inner = event.event
        if isinstance(inner, AttackResult):
            self._add_results(event.start, inner)
        elif isinstance(inner, AttackStep):
            live.iteration, live.total = int(inner.iteration), int(inner.total)
            spent = inner.queries_per_image
            live.queries = live.queries_done + int(np.sum(spent) if spent is not None else inner.queries)
            if time.monotonic() - self._shown_at >= 0.1:  # the views at most 10 times a second
                self._show_step(event.start, inner)

    def _show_step(self, start: int, step: AttackStep) -> None:
        live = self._live
        lab = self.lab
        index = start
        probs = np.asarray(step.probs[0], np.float32)
        success = bool(np.asarray(step.success).reshape(-1)[0])
        lab.show_images(live.x[index], np.asarray(step.x_adv[0], np.float32), live.clean_probs[index], probs,
                        live.labels, self._true(index), live.target, success,
                        suffix=f" — image {index + 1} of {len(live.x)}")
        seen = step.seen
        if live.black_box and seen is not None:
            spent = step.queries_per_image
            lab.oracle_view.set_answer(
                seen.labels[0], None if seen.scores is None else seen.scores[0],
                int(spent[0]) if spent is not None else int(step.queries), int(step.budget), image=live.names[index],
            )
        self._emit_status()
        self._shown_at = time.monotonic()

    def _true(self, index: int) -> int:
        live = self._live or self._last
        return goal_labels(int(live.true[index]), live.clean_probs[index])

    def _add_results(self, start: int, result: AttackResult) -> None:
        live = self._live
        n = len(result.x_adv)
        stop = start + n
        live.x_adv[start:stop] = result.x_adv
        live.adv_probs[start:stop] = result.probs
        live.finished[start:stop] = True
        live.success[start:stop] = result.success
        metrics = result.metrics
        spent = metrics.get("queries")
        to_success = metrics.get("queries_to_success")
        rows = []
        for j in range(n):
            i = start + j
            probs = np.asarray(result.probs[j])
            adv = int(np.argmax(probs))
            rows.append(ResultRow(
                index=i, name=live.names[i], true_class=int(live.true[i]),
                clean_class=int(np.argmax(live.clean_probs[i])), adv_class=adv, adv_confidence=float(probs[adv]),
                success=bool(result.success[j]), linf=float(metrics["linf"][j]), l2=float(metrics["l2"][j]),
                l0=float(metrics["l0"][j]),
                queries=None if spent is None else int(spent[j]),
                queries_to_success=None if to_success is None else int(to_success[j]),
            ))
        self.lab.results.add_rows(rows)
        if spent is not None:
            live.queries_done += int(np.sum(spent))
            live.queries = live.queries_done
        if live.black_box and to_success is not None:
            live.queries_to_success.extend(int(v) for v in to_success)
            self.lab.query_histogram.set_queries(np.array(live.queries_to_success), live.budget)

    def _on_finished(self, result: Any) -> None:
        live = self._live
        if live is None:
            return
        self._end()
        if not isinstance(result, Evaluation):
            self.lab.message.emit("The batch run ended without a result.", "error")
            return
        live.evaluation = result
        if live.black_box and result.queries_to_success is not None:
            self.lab.query_histogram.set_queries(np.asarray(result.queries_to_success), live.budget)
        summary = result.summary
        robust = summary.get("adversarial_accuracy")
        robust_text = f", robust accuracy {100 * robust:.1f} %" if robust is not None else ""
        self.lab.message.emit(
            f"{live.attack_title} fooled the model on {int(np.sum(result.success))} of {len(live.x)} images"
            f"{robust_text} ({self.control.elapsed():.1f} s). Select a row to see its adversarial image.",
            "info",
        )
        self._emit_status(live)
        self.lab.results.select_image(self.state.current_index)

    def _on_cancelled(self) -> None:
        live = self._live
        if live is None:
            return
        self._end()
        done = int(live.finished.sum())
        self.lab.message.emit(
            f"Stopped {live.attack_title} after {done} of {len(live.x)} images; the table keeps their results.", "info"
        )
        self.lab.results.select_image(self.state.current_index)

    def _on_failed(self, text: str) -> None:
        if self._live is None:
            return
        self._end()
        self.lab.message.emit(f"The batch run failed: {text}", "error")

    def _end(self) -> None:
        self._last, self._live = self._live, None
        self.state.set_busy(False)

    # -- showing -----------------------------------------------------------------------------------
    def show_image(self, index: int) -> None:
        """Show image ``index``'s adversarial from the batch (the row the user selected)."""
        batch = self._live or self._last
        if batch is None or not (0 <= index < len(batch.x)) or not batch.finished[index]:
            return
        self.state.set_selected_run(-1)
        self.state.set_current_index(index)
        self.lab.show_images(batch.x[index], batch.x_adv[index], batch.clean_probs[index], batch.adv_probs[index],
                             batch.labels, self._true(index), batch.target, bool(batch.success[index]))
        if batch.black_box and batch.model is self.state.model:
            self._show_api_answer(batch, index)

    def _show_api_answer(self, batch: _Batch, index: int) -> None:
        """What the API answers on the image's final adversarial (one query to a fresh oracle
        with the run's settings: a single prediction), and the queries the attack spent on it."""
        import torch

        from workbench.core.oracle import Oracle, OracleParams
        from workbench.core.params import build

        oracle = Oracle(batch.model, build(OracleParams, batch.oracle))
        oracle.begin(1)
        answer = oracle.query(torch.from_numpy(np.ascontiguousarray(batch.x_adv[index]))[None])
        row = next(r for r in self.lab.results.rows() if r.index == index)
        self.lab.oracle_view.set_oracle(batch.oracle, batch.labels)
        self.lab.oracle_view.set_answer(
            answer.labels[0].numpy(), None if answer.scores is None else answer.scores[0].numpy(),
            row.queries or 0, batch.budget, image=f"{batch.names[index]} (final)",
        )

    def clear(self) -> None:
        """Forget the last batch run (another model) and empty its table and histogram; the
        curves and the decision boundary come back in their place."""
        if self._last is None:  # no batch ran: the panels stay as the user left them
            return
        self._last = None
        self.lab.results.clear()
        self.lab.query_histogram.clear()
        self.lab.show_batch_views(False)

    def last(self) -> _Batch | None:
        """The batch run in progress, else the last one."""
        return self._live or self._last

    def _emit_status(self, live: _Batch | None = None) -> None:
        """The batch counters for the run status: batch, images done, the attack's iteration,
        the queries; the rate counts images."""
        live = live or self._live
        if live is None or not self.control.is_running():
            return
        done = int(live.finished.sum())
        self.control.refine(batch=(live.batch, live.batches), images=(done, len(live.x)), counter="Iteration",
                            done=live.iteration, total=live.total, rated=done, rate_unit="images",
                            queries=live.queries)
