"""The Defenses lab: switch a defense on, watch the naive attack fail, the adaptive attack and
a black-box attack break it; certify with randomized smoothing; read the accuracy/robustness
trade-off off one plot; watch a stateful monitor catch a black-box attack (and miss a Sybil
one).

Four pages, one widget each, on the gallery's images and the current model:

- **Naive vs adaptive** (:mod:`~workbench.gui.widgets.defense_compare`): the same attack on the
  undefended model, on the defense stack with plain gradients and with BPDA/EOT (Athalye et al.
  2018), then optionally Square by queries alone (Andriushchenko et al. 2020) —
  :func:`~workbench.defenses.evaluation.compare_defense` in one worker task, each card with the
  warnings of Carlini et al. (2019), :func:`~workbench.defenses.evaluation_warnings.comparison_warnings`.
- **Certification** (:mod:`~workbench.gui.widgets.certify_view`):
  :meth:`~workbench.defenses.smoothing.Smoothing.certify`, live.
- **Trade-off** (:mod:`~workbench.gui.widgets.tradeoff_plot`):
  :func:`~workbench.defenses.evaluation.sweep_tradeoff`, point by point.
- **Monitoring** (:mod:`~workbench.gui.widgets.monitor_view`): a
  :class:`~workbench.defenses.monitor.StatefulDetector`, calibrated on benign images, as the
  log of the oracle that a black-box attack (or a benign stream) queries (the worker sources
  are in :mod:`~workbench.defenses.monitoring`, shared with ``workbench monitor``).

The lab contains no algorithm: it builds the engine's generators, hands them to the window's
shared :class:`~workbench.gui.worker.TaskWorker` and routes the events to the page that asked.
What is set on the pages is kept in QSettings (group ``defenses``, a JSON object per page)
when the lab is hidden — on switching labs or closing the window — and restored when it opens;
stored values that no longer fit are ignored.

Run alone for development: ``python -m workbench.gui.labs.defenses``.
"""
from __future__ import annotations

import json
import logging
import sys
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.goals import goal_labels
from workbench.defenses.base import Adaptive, DefendedModel
from workbench.defenses.evaluation import (
    DefenseEvaluation,
    StageEvent,
    Tradeoff,
    TradeoffPoint,
    TradeoffStage,
)
from workbench.defenses.evaluation_warnings import large_eps
from workbench.defenses.monitoring import (
    MonitorSnapshot,
    benign_stream,
    calibrated_detector,
    monitored_attack,
    verdict,
)
from workbench.gui import theme
from workbench.gui.labs.base import Lab, register_lab
from workbench.gui.state import AppState
from workbench.gui.widgets.certify_view import CertifyView
from workbench.gui.widgets.defense_compare import DefenseComparison
from workbench.gui.widgets.monitor_view import MonitorView
from workbench.gui.widgets.page_parts import scrollable
from workbench.gui.widgets.tradeoff_plot import TradeoffPlot
from workbench.gui.worker import TaskWorker

log = logging.getLogger(__name__)

SETTINGS_GROUP = "defenses"  # QSettings keys: defenses/<page> (JSON) and defenses/page (shown)


# -- the lab ----------------------------------------------------------------------------------------


@register_lab
class DefensesLab(Lab):
    """The Defenses lab page (see the module docstring).

    Signals: ``message(str, str)`` — text and kind for the window's message bar;
    ``taskFinished(str)`` — a
    page's run ended ("finished", "cancelled" or "failed"); ``dockWanted(str, bool)`` — a
    window panel that applies or no longer does: the list of evasion runs gives its room to
    the lab while the lab is shown.
    """

    title = "Defenses"
    taskFinished = Signal(str)
    hides_shell_docks = ("runsDock",)  # the window's run list: evasion runs only

    def __init__(self, state: AppState, worker: TaskWorker, parent: QWidget | None = None, *,
                 settings: QSettings | None = None) -> None:
        super().__init__(state, worker, parent, settings=settings)
        self._task = None  # the run's TaskHandle
        self._task_page: QWidget | None = None  # the page that started it
        self._thresholds: dict[tuple, float] = {}
        self.compare = DefenseComparison()
        self.compare.setObjectName("defenseComparison")
        self.certify = CertifyView()
        self.certify.setObjectName("certifyView")
        self.tradeoff = TradeoffPlot()
        self.tradeoff.setObjectName("tradeoffPlot")
        self.monitor = MonitorView()
        self.monitor.setObjectName("monitorView")
        self.pages = QTabWidget()
        self.pages.setObjectName("defensePages")
        self._pages = (self.compare, self.certify, self.tradeoff, self.monitor)
        self._page_keys = ("compare", "certify", "tradeoff", "monitor")  # their settings keys
        for page, name in zip(self._pages, ("Naive vs adaptive", "Certification", "Trade-off", "Monitoring")):
            self.pages.addTab(scrollable(page), name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.compare.stack.add("bit-depth")
        self.compare.runRequested.connect(self.run_comparison)
        self.compare.stack.stackChanged.connect(self._recommend_adaptive)
        self.certify.runRequested.connect(self.run_certification)
        self.tradeoff.runRequested.connect(self.run_tradeoff)
        self.monitor.attackRequested.connect(self.run_monitored_attack)
        self.monitor.benignRequested.connect(self.run_benign_stream)
        for page in (self.compare, self.certify, self.tradeoff, self.monitor):
            page.stopRequested.connect(self.stop)
        state.modelChanged.connect(lambda _model: self._model_changed())
        state.showAdvancedChanged.connect(lambda _show: self._apply_advanced())
        state.presentationChanged.connect(lambda _on: self._apply_advanced())
        theme.theme_signals().changed.connect(self._restyle)
        self._recommend_adaptive()
        self.restore_settings()
        self._model_changed()
        self._apply_advanced()
        self._restyle()

    # -- the window's interface ---------------------------------------------------------------------
    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        self.save_settings()  # the user leaves the lab, or closes the window

    def is_running(self) -> bool:
        return self._task is not None

    def run(self) -> bool:
        """The current page's main action (the window's Run)."""
        actions = (self.run_comparison, self.run_certification, self.run_tradeoff, self.run_monitored_attack)
        return actions[self.pages.currentIndex()]()

    def show_page(self, page: QWidget) -> None:
        """Make ``page`` (one of the lab's four) the visible one."""
        self.pages.setCurrentIndex(self._pages.index(page))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def set_paused(self, paused: bool) -> None:
        if self._task is not None:
            self._task.set_paused(paused)

    # -- settings -----------------------------------------------------------------------------------
    def save_settings(self) -> None:
        """What is set on every page, and the page shown, into the settings."""
        settings = self.settings
        for key, page in zip(self._page_keys, self._pages):
            settings.setValue(f"{SETTINGS_GROUP}/{key}", json.dumps(page.save_state()))
        settings.setValue(f"{SETTINGS_GROUP}/page", self.pages.currentIndex())

    def restore_settings(self) -> None:
        """Back to the stored settings. A page's stored value that is not JSON, or that names
        what no longer exists, is ignored (the page keeps its defaults); it never stops the lab
        from opening."""
        settings = self.settings
        for key, page in zip(self._page_keys, self._pages):
            stored = settings.value(f"{SETTINGS_GROUP}/{key}")
            try:
                page.restore_state(json.loads(stored) if isinstance(stored, str) else None)
            except Exception:  # stored settings must never stop the lab from opening
                log.warning("ignored the stored settings of the Defenses lab's %s page", key, exc_info=True)
        shown = settings.value(f"{SETTINGS_GROUP}/page")
        if isinstance(shown, (int, str)) and str(shown).isdigit() and int(shown) < self.pages.count():
            self.pages.setCurrentIndex(int(shown))

    # -- naive vs adaptive ------------------------------------------------------------------------------
    def run_comparison(self) -> bool:
        from workbench.defenses.evaluation import black_box_counterpart, compare_defense
        from workbench.defenses.evaluation_warnings import comparison_warnings

        view = self.compare
        try:
            settings = view.settings()
            model, images, labels = self._batch(settings.images)
            attack = view.attack.attack()
            defenses = view.stack.defenses()
            if not defenses:
                raise WorkbenchError("Add a defense to the stack first: there is nothing to compare.")
            queries = settings.black_box_queries
            black_box = None if queries is None else black_box_counterpart(attack, queries)
        except WorkbenchError as error:
            return self._refuse(error)
        defended = DefendedModel(model, defenses)
        adaptive = settings.adaptive
        subtitle = self._attack_text(view.attack)
        subtitles = {"reference": f"{subtitle} · the model alone",
                     "naive": f"{subtitle} · gradients through the defense as it is",
                     "adaptive": f"{subtitle} · {adaptive.describe()}"}
        if black_box is not None:
            subtitles["black-box"] = f"{black_box.title} ε = {black_box.params.eps:g} · {queries:,} queries per image, no gradients"
        for stage, text in subtitles.items():
            view.cards[stage].clear(text)
            view.cards[stage].set_waiting()
        view.verdict.setText(f"Attacking {len(images)} images: no defense, the defense naive, the defense adaptive "
                             f"({adaptive.describe()})" + (", then by queries alone." if black_box is not None else "."))
        large = self._large_budget(view.attack)
        labelled = int((labels >= 0).sum())
        results: dict[str, tuple[float | None, float | None]] = {}
        references = {"naive": ("reference", "undefended model"), "adaptive": ("reference", "undefended model"),
                      "black-box": ("naive", "naive white-box attack")}
        seed = self.state.seed
        totals: dict[str, int] = {}  # stage → its attack's iterations

        def progress(event: StageEvent) -> None:
            inner = event.event
            step = getattr(inner, "event", None)
            # A batch's result stands for its last step, which the worker may have dropped.
            done = getattr(step, "iteration", getattr(step, "iterations", None))
            total = totals[event.stage] = getattr(step, "total", totals.get(event.stage, 0))
            if done is not None and total:
                unit = "query" if event.stage == "black-box" else "iteration"
                view.cards[event.stage].set_progress(done, total, f"{unit} {done} of {total}")
                self._emit_status(done, total, counter=unit.capitalize())
            elif isinstance(inner, DefenseEvaluation):
                results[event.stage] = (inner.clean_accuracy, inner.robust_accuracy)
                reference, name = references.get(event.stage, (None, ""))
                card = view.cards[event.stage]
                card.set_result(inner.clean_accuracy, inner.robust_accuracy, results.get(reference, (None, None))[1],
                                reference_name=name)
                card.set_examples(inner.evaluation.x_adv, inner.judged_pred, inner.evaluation.labels, model.labels)
                robust = {stage: accuracies[1] for stage, accuracies in results.items()}
                for stage, found in comparison_warnings(defended, adaptive, robust, large_eps=large, images=labelled).items():
                    view.cards[stage].set_warnings(found)  # a later stage can qualify an earlier one
                view.show_verdict(results, adaptive.describe())

        def finished(final: Any) -> None:
            if isinstance(final, StageEvent):
                progress(final)
            self.message.emit("Naive, adaptive" + (" and black-box" if black_box is not None else "") + " attacks done.", "info")

        def source():
            return compare_defense(attack, model, defenses, adaptive, images, labels, black_box=black_box, seed=seed)

        return self._start(view, source, progress, finished)

    def _recommend_adaptive(self) -> None:
        """Set the adaptive switches to what the stack needs (BPDA for gradient-less steps, EOT
        for random ones)."""
        from workbench.defenses.evaluation import adaptive_for

        try:
            defenses = self.compare.stack.defenses()
        except WorkbenchError:
            return
        self.compare.set_adaptive(adaptive_for(defenses, eot=self.compare.eot_draws_value()))

    # -- certification ------------------------------------------------------------------------------------
    def run_certification(self) -> bool:
        from workbench.core.params import build
        from workbench.defenses.smoothing import Smoothing, SmoothingParams

        view = self.certify
        try:
            model, images, labels = self._batch(view.image_count())
            params = build(SmoothingParams, view.params())
        except WorkbenchError as error:
            return self._refuse(error)
        model_id = view.model_id()
        names = self._names(view.image_count())
        seed = self.state.seed
        view.start(len(images), model.labels)

        def source():  # in the worker: loading a noise-trained model takes a moment
            base = model if model_id in ("", model.model_id) else self._load(model_id, model)
            return Smoothing(base, params, seed=seed).certify(images, labels)

        def progress(event: Any) -> None:
            if hasattr(event, "counts"):
                view.show_progress(event)
                self._emit_status(int(event.image), int(event.images), unit="images", counter="Image")

        def finished(final: Any) -> None:
            if hasattr(final, "radii"):
                self._emit_status(len(images), len(images), unit="images", counter="Image")
                view.show_result(final, names)
                self.message.emit(f"Certified {len(images)} images.", "info")

        return self._start(view, source, progress, finished)

    # -- trade-off ----------------------------------------------------------------------------------------
    def run_tradeoff(self) -> bool:
        from workbench.core.params import build
        from workbench.defenses import DEFENSES
        from workbench.defenses.evaluation import sweep_tradeoff
        from workbench.defenses.evaluation_warnings import attack_warnings
        from workbench.defenses.smoothing import SmoothingParams

        view = self.tradeoff
        try:
            model, images, labels = self._batch(view.images.value())
            strengths = view.strength_values()
            attack = view.attack.attack()
            defense_id = view.defense_id()
            defense_params = view.defense_params()
            smoothing = build(SmoothingParams, view.smoothing_params())
            defense_class = DEFENSES.get(defense_id)
            sample = defense_class(**{**defense_params, defense_class.strength: strengths[-1]})
        except WorkbenchError as error:
            return self._refuse(error)
        eot, radius, seed = view.eot.value(), view.radius_value(), self.state.seed
        noise_ids = self._noise_models(model) if view.noise_models.isChecked() and defense_id == "gaussian-noise" else {}
        naive = attack_warnings(DefendedModel(model, [sample]), Adaptive())
        view.start(strengths, radius, [f"Naive curve: {w}" for w in naive])

        def source():
            base_models = {s: self._load(noise_ids[s], model) for s in strengths if s in noise_ids}
            return sweep_tradeoff(model, defense_id, strengths, attack, images, labels, defense_params=defense_params,
                                  eot=eot, radius=radius, smoothing=smoothing, base_models=base_models, seed=seed)

        def progress(event: Any) -> None:
            if isinstance(event, TradeoffStage):
                view.show_stage(event)
                self._emit_status(event.index, event.count, unit="strengths", counter="Strength")  # done so far
            elif isinstance(event, TradeoffPoint):
                view.add_point(event)

        def finished(final: Any) -> None:
            if isinstance(final, Tradeoff):
                self._emit_status(len(final.points), len(final.points), unit="strengths", counter="Strength")
                view.show_result(final)
                self.message.emit(f"Trade-off of {len(final.points)} strengths done.", "info")

        return self._start(view, source, progress, finished)

    # -- monitoring ---------------------------------------------------------------------------------------
    def run_monitored_attack(self) -> bool:
        import torch

        from workbench.core.oracle import OracleParams
        from workbench.core.params import build

        view = self.monitor
        state = self.state
        try:
            model = self._model()
            if state.current_index < 0:
                raise WorkbenchError("Open some images first: the attack runs on the current image.")
            attack = view.attack.attack()
            oracle_params = build(OracleParams, view.oracle_params())
            calibrate = self._calibration(model)
        except WorkbenchError as error:
            return self._refuse(error)
        x = torch.from_numpy(np.ascontiguousarray(state.current_image(), dtype=np.float32))[None]
        label = goal_labels(state.current_label(), lambda: model.predict(x)[0])
        y = torch.tensor([label])
        seed = state.seed
        view.start("attack")

        def source():
            return monitored_attack(calibrate(), model, attack, x, y, oracle_params, seed=seed)

        return self._start_monitor(view, source, "attack")

    def run_benign_stream(self) -> bool:
        view = self.monitor
        try:
            model = self._model()
            calibrate = self._calibration(model)
        except WorkbenchError as error:
            return self._refuse(error)
        count = view.benign.value()
        view.start("benign")

        def source():
            return benign_stream(calibrate(), model, count)

        return self._start_monitor(view, source, "benign")

    def _start_monitor(self, view: MonitorView, source, kind: str) -> bool:
        params = view.monitor_params()
        key = self._calibration_key(params)

        def progress(snapshot: Any) -> None:
            if isinstance(snapshot, MonitorSnapshot):
                self._thresholds[key] = snapshot.threshold
                view.show_snapshot(snapshot)
                self._emit_status(snapshot.queries, 0, unit="queries", counter="Query")

        def finished(final: Any) -> None:
            if not isinstance(final, MonitorSnapshot):
                return
            self._emit_status(final.queries, 0, unit="queries", counter="Query")
            self._thresholds[key] = final.threshold
            text = verdict(final, kind)
            view.finish(final, text)
            self.message.emit(text.replace("<b>", "").replace("</b>", ""), "info")

        return self._start(view, source, progress, finished)

    def _calibration_key(self, params: dict[str, Any]) -> tuple:
        model = self.state.model
        return (getattr(model, "model_id", ""), params.get("k"), params.get("false_positive_rate"),
                self.monitor.calibration.value())

    def _calibration(self, model) -> Callable[[], Any]:
        """A function (run in the worker) that returns a detector with its threshold: the one
        calibrated earlier with the same settings, else calibrated now on benign images."""
        from workbench.core.params import build
        from workbench.defenses.monitor import MonitorParams

        params = build(MonitorParams, self.monitor.monitor_params())
        count = self.monitor.calibration.value()
        if count <= params.k:
            raise WorkbenchError(f"Calibration needs more than k = {params.k} images.")
        threshold = self._thresholds.get(self._calibration_key(self.monitor.monitor_params()))
        return lambda: calibrated_detector(model, params, count, threshold)

    # -- shared ---------------------------------------------------------------------------------------
    def _start(self, page, source, progress, finished) -> bool:
        self._task_page = page
        page.set_running(True)
        self.state.set_busy(True)
        self._task = self.worker.start(source, on={object: progress}, on_result=finished, on_end=self._on_end,
                                       owner=self, device=str(self.state.model.device))
        return True

    def _refuse(self, error: Exception) -> bool:
        self.message.emit(str(error), "error")
        return False

    def _model(self):
        if self.worker.is_running():
            raise WorkbenchError("Another run is in progress: stop it or wait for it to end.")
        model = self.state.model
        if model is None:
            raise WorkbenchError("Open a model first.")
        return model

    def _batch(self, count: int):
        """The model and ``count`` of the gallery's images, spread evenly over it (galleries
        are often sorted by class), with their labels (tensors)."""
        model = self._model()
        images = self.state.images
        if images is None or len(images) == 0:
            raise WorkbenchError("Open some images first: the runs use the gallery's images.")
        chosen = self._spread(count)
        return model, images.images[chosen].clone(), images.labels[chosen].clone()

    def _spread(self, count: int) -> list[int]:
        """Indices of ``count`` images spread evenly over the gallery."""
        total = self.state.image_count()
        count = min(max(int(count), 1), total)
        return sorted({int(round(i)) for i in np.linspace(0, total - 1, count)})

    def _names(self, count: int) -> list[str]:
        names = getattr(self.state.images, "names", None) or []
        return [str(names[i]) if i < len(names) else f"#{i}" for i in self._spread(count)]

    @staticmethod
    def _load(model_id: str, like):
        from workbench.core.loaders import load_model

        return load_model(model_id, device=like.device)

    def _noise_models(self, model) -> dict[float, str]:
        """Built-in models trained under noise for ``model``, by σ (from the model cards)."""
        from workbench.defenses.smoothing import noise_trained_variants

        return noise_trained_variants(model.model_id)

    def _model_changed(self) -> None:
        model = self.state.model
        if model is None:
            return
        noise = self._noise_models(model)
        models = [(model.model_id, f"{model.model_id} (current model)", None)]
        models += [(model_id, f"{model_id} (trained with noise σ = {sigma:g})", sigma) for sigma, model_id in sorted(noise.items())]
        if noise:
            hint = ("A smoothed classifier is only as good as its base model under noise: pick the "
                    "noise-trained model whose σ matches (σ is set to it).")
        else:
            hint = (f"No noise-trained version of {model.model_id} is installed ({model.model_id}-noise-σ): "
                    "smoothed, a model trained on clean images abstains often; keep σ small.")
        self.certify.set_models(models, hint)
        self.tradeoff.set_noise_models_available(bool(noise), hint if not noise else
                                                 "Smooth each σ with the built-in model trained under that noise where one exists")

    def _large_budget(self, chooser) -> float | None:
        """The attack's ε if it is "very large" (see :func:`~workbench.defenses.evaluation_warnings.large_eps`)."""
        model = self.state.model
        return None if model is None else large_eps(chooser.attack(), model.input_shape)

    @staticmethod
    def _attack_text(chooser) -> str:
        eps = chooser.values().get("eps")
        return chooser.attack_class().title + (f" ε = {eps:g}" if isinstance(eps, (int, float)) else "")

    def _apply_advanced(self) -> None:
        show = self.state.show_advanced
        for form in (self.compare.attack.form, self.compare.stack.form, self.certify.form, self.tradeoff.attack.form,
                     self.tradeoff.defense_form, self.tradeoff.smoothing, self.monitor.form, self.monitor.attack.form):
            form.set_show_advanced(show)

    def _restyle(self) -> None:
        # The body font for the pages (the lab switcher's bold title font would reach them
        # otherwise), and a title font for their tabs.
        self.setFont(theme.font())
        self.pages.tabBar().setFont(theme.font(theme.style().title_pt))

    def _emit_status(self, done: int, total: int, unit: str = "it", counter: str = "Iteration") -> None:
        """The window's status: ``counter`` ``done``/``total`` (0: open-ended), at ``unit``/s."""
        if self._task is not None:
            self._task.refine(done=int(done), total=int(total), counter=counter, rate_unit=unit)

    # -- the run's end ----------------------------------------------------------------------------------
    def _on_end(self, status: str, message: str) -> None:
        page, self._task, self._task_page = self._task_page, None, None
        if status == "failed":
            self.message.emit(f"The run failed: {message}", "error")
        page.set_running(False)
        self.state.set_busy(False)
        if status != "finished":  # the page says where it ended (a failure's message is out already)
            text = "Stopped." if status == "cancelled" else "The run failed."
            if page is self.monitor:
                self.monitor.finish(None, text)
            else:
                page.stopped(text)
            if status == "cancelled":
                self.message.emit(text, "info")
        self.taskFinished.emit(status)


def main() -> int:  # pragma: no cover - manual development aid
    """The lab alone, on the built-in model and its samples."""
    from workbench.gui.labs.standalone import run_lab_alone

    return run_lab_alone(DefensesLab, "Defenses lab")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

