"""The Defenses lab's Naive-vs-adaptive, Certification and Trade-off pages: each a
:class:`~workbench.gui.labs.run_page.RunPage` around its view, supplying the engine generator,
the routing of its events and what to do with the result (the base starts, stops, persists)."""
from __future__ import annotations

from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.defenses.base import Adaptive, DefendedModel
from workbench.defenses.evaluation import DefenseEvaluation, StageEvent, Tradeoff, TradeoffPoint, TradeoffStage
from workbench.gui.labs.run_page import RunPage
from workbench.gui.widgets.certify_view import CertifyView
from workbench.gui.widgets.defense_compare import DefenseComparison
from workbench.gui.widgets.tradeoff_plot import TradeoffPlot


class _ViewPage(RunPage):
    """A page whose view has its own Run and Stop buttons; ``source`` sets the run's slots."""

    view_class: type = DefenseComparison
    view_name = ""

    def __init__(self, lab) -> None:
        view = self.view_class()
        view.setObjectName(self.view_name)
        super().__init__(lab, view)
        self._on: dict[type, Any] = {}
        self._finish = lambda final: None
        view.runRequested.connect(self.run)
        view.stopRequested.connect(self.stop)

    def routes(self):
        return self._on

    def show_result(self, result: Any) -> None:
        self._finish(result)


class ComparePage(_ViewPage):
    """Naive vs adaptive: :func:`~workbench.defenses.evaluation.compare_defense`, each stage on
    its card, with the warnings of Carlini et al. (2019)."""

    key, title, view_class, view_name = "compare", "Naive vs adaptive", DefenseComparison, "defenseComparison"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.view.stack.add("bit-depth")
        self.view.stack.stackChanged.connect(self.recommend_adaptive)
        self.recommend_adaptive()

    def forms(self):
        return [self.view.attack.form, self.view.stack.form]

    def recommend_adaptive(self) -> None:
        """Set the adaptive switches to what the stack needs (BPDA for gradient-less steps, EOT
        for random ones)."""
        from workbench.defenses.evaluation import adaptive_for

        try:
            defenses = self.view.stack.defenses()
        except WorkbenchError:
            return
        self.view.set_adaptive(adaptive_for(defenses, eot=self.view.eot_draws_value()))

    def source(self):
        from workbench.defenses.evaluation import black_box_counterpart, compare_defense
        from workbench.defenses.evaluation_warnings import comparison_warnings

        view, lab = self.view, self.lab
        settings = view.settings()
        model, images, labels = lab.batch(settings.images)
        attack = view.attack.attack()
        defenses = view.stack.defenses()
        if not defenses:
            raise WorkbenchError("Add a defense to the stack first: there is nothing to compare.")
        queries = settings.black_box_queries
        black_box = None if queries is None else black_box_counterpart(attack, queries)
        defended = DefendedModel(model, defenses)
        adaptive = settings.adaptive
        subtitle = lab.attack_text(view.attack)
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
        large = lab.large_budget(view.attack)
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
                self.refine(done, total, counter=unit.capitalize())
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
            lab.message.emit("Naive, adaptive" + (" and black-box" if black_box is not None else "") + " attacks done.", "info")

        self._on, self._finish = {object: progress}, finished
        return lambda: compare_defense(attack, model, defenses, adaptive, images, labels, black_box=black_box, seed=seed)


class CertifyPage(_ViewPage):
    """Certification: :meth:`~workbench.defenses.smoothing.Smoothing.certify`, live."""

    key, title, view_class, view_name = "certify", "Certification", CertifyView, "certifyView"

    def forms(self):
        return [self.view.form]

    def source(self):
        from workbench.core.params import build
        from workbench.defenses.smoothing import Smoothing, SmoothingParams

        view, lab = self.view, self.lab
        model, images, labels = lab.batch(view.image_count())
        params = build(SmoothingParams, view.params())
        model_id = view.model_id()
        names = lab.names(view.image_count())
        seed = self.state.seed
        view.start(len(images), model.labels)

        def progress(event: Any) -> None:
            if hasattr(event, "counts"):
                view.show_progress(event)
                self.refine(int(event.image), int(event.images), unit="images", counter="Image")

        def finished(final: Any) -> None:
            if hasattr(final, "radii"):
                self.refine(len(images), len(images), unit="images", counter="Image")
                view.show_result(final, names)
                lab.message.emit(f"Certified {len(images)} images.", "info")

        def source():  # in the worker: loading a noise-trained model takes a moment
            base = model if model_id in ("", model.model_id) else lab.load_like(model_id, model)
            return Smoothing(base, params, seed=seed).certify(images, labels)

        self._on, self._finish = {object: progress}, finished
        return source


class TradeoffPage(_ViewPage):
    """Trade-off: :func:`~workbench.defenses.evaluation.sweep_tradeoff`, point by point."""

    key, title, view_class, view_name = "tradeoff", "Trade-off", TradeoffPlot, "tradeoffPlot"

    def forms(self):
        view = self.view
        return [view.attack.form, view.defense_form, view.smoothing]

    def source(self):
        from workbench.core.params import build
        from workbench.defenses import DEFENSES
        from workbench.defenses.evaluation import sweep_tradeoff
        from workbench.defenses.evaluation_warnings import attack_warnings
        from workbench.defenses.smoothing import SmoothingParams

        view, lab = self.view, self.lab
        model, images, labels = lab.batch(view.images.value())
        strengths = view.strength_values()
        attack = view.attack.attack()
        defense_id = view.defense_id()
        defense_params = view.defense_params()
        smoothing = build(SmoothingParams, view.smoothing_params())
        defense_class = DEFENSES.get(defense_id)
        sample = defense_class(**{**defense_params, defense_class.strength: strengths[-1]})
        eot, radius, seed = view.eot.value(), view.radius_value(), self.state.seed
        noise_ids = lab.noise_models(model) if view.noise_models.isChecked() and defense_id == "gaussian-noise" else {}
        naive = attack_warnings(DefendedModel(model, [sample]), Adaptive())
        view.start(strengths, radius, [f"Naive curve: {w}" for w in naive])

        def progress(event: Any) -> None:
            if isinstance(event, TradeoffStage):
                view.show_stage(event)
                self.refine(event.index, event.count, unit="strengths", counter="Strength")  # done so far
            elif isinstance(event, TradeoffPoint):
                view.add_point(event)

        def finished(final: Any) -> None:
            if isinstance(final, Tradeoff):
                self.refine(len(final.points), len(final.points), unit="strengths", counter="Strength")
                view.show_result(final)
                lab.message.emit(f"Trade-off of {len(final.points)} strengths done.", "info")

        def source():
            base_models = {s: lab.load_like(noise_ids[s], model) for s in strengths if s in noise_ids}
            return sweep_tradeoff(model, defense_id, strengths, attack, images, labels, defense_params=defense_params,
                                  eot=eot, radius=radius, smoothing=smoothing, base_models=base_models, seed=seed)

        self._on, self._finish = {object: progress}, finished
        return source
