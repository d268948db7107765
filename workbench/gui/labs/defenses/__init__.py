"""The Defenses lab: switch a defense on, watch the naive attack fail, the adaptive attack and
a black-box attack break it; certify with randomized smoothing; read the accuracy/robustness
trade-off off one plot; watch a stateful monitor catch a black-box attack (and miss a Sybil
one).

Four :class:`~workbench.gui.labs.run_page.RunPage` pages, one view each, on the gallery's
images and the current model (:mod:`.pages`: Naive vs adaptive, Certification, Trade-off;
:mod:`.monitoring_page`: Monitoring). The lab contains no algorithm and no run plumbing: each
page builds its engine generator and the base runs it on the window's shared worker. What is
set on the pages is kept in QSettings (group ``defenses``, a JSON object per page) when the
lab is hidden — on switching labs or closing the window — and restored when it opens; stored
values that no longer fit are ignored.

Run alone for development: ``python -m workbench.gui.labs.defenses``.
"""
from __future__ import annotations


import numpy as np
from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QWidget

from workbench.core.errors import WorkbenchError
from workbench.defenses.evaluation_warnings import large_eps
from workbench.gui import theme
from workbench.gui.labs.base import Lab, register_lab
from workbench.gui.labs.defenses.monitoring_page import MonitorPage
from workbench.gui.labs.defenses.pages import CertifyPage, ComparePage, TradeoffPage
from workbench.gui.state import AppState
from workbench.gui.worker import TaskWorker


@register_lab
class DefensesLab(Lab):
    """The Defenses lab (see the module docstring). ``taskFinished(str)``: a page's run ended
    ("finished", "cancelled" or "failed"). The window's list of evasion runs gives its room to
    the lab while the lab is shown."""

    title = "Defenses"
    settings_group = "defenses"  # QSettings keys: defenses/<page> (JSON) and defenses/page (shown)
    taskFinished = Signal(str)
    hides_shell_docks = ("runsDock",)  # the window's run list: evasion runs only

    def __init__(self, state: AppState, worker: TaskWorker, parent: QWidget | None = None, *,
                 settings: QSettings | None = None) -> None:
        super().__init__(state, worker, parent, settings=settings)
        self.use_pages([ComparePage(self), CertifyPage(self), TradeoffPage(self), MonitorPage(self)])
        self.compare, self.certify, self.tradeoff, self.monitor = (page.view for page in self.run_pages)
        self.pages.setObjectName("defensePages")
        for page in self.run_pages:
            page.runEnded.connect(self.taskFinished)
        state.modelChanged.connect(lambda _model: self._model_changed())
        theme.theme_signals().changed.connect(self._restyle)
        self._model_changed()
        self._restyle()

    def show_page(self, view: QWidget) -> None:
        """Make the page of ``view`` (one of the lab's four) the visible one."""
        self.pages.setCurrentIndex([page.view for page in self.run_pages].index(view))

    # -- what the pages share -------------------------------------------------------------------------
    def batch(self, count: int):
        """The model and ``count`` of the gallery's images, spread evenly over it (galleries
        are often sorted by class), with their labels (tensors)."""
        if self.state.model is None:
            raise WorkbenchError("Open a model first.")
        images = self.state.images
        if images is None or len(images) == 0:
            raise WorkbenchError("Open some images first: the runs use the gallery's images.")
        chosen = self.spread(count)
        return self.state.model, images.images[chosen].clone(), images.labels[chosen].clone()

    def spread(self, count: int) -> list[int]:
        """Indices of ``count`` images spread evenly over the gallery."""
        total = self.state.image_count()
        count = min(max(int(count), 1), total)
        return sorted({int(round(i)) for i in np.linspace(0, total - 1, count)})

    def names(self, count: int) -> list[str]:
        names = getattr(self.state.images, "names", None) or []
        return [str(names[i]) if i < len(names) else f"#{i}" for i in self.spread(count)]

    @staticmethod
    def load_like(model_id: str, like):
        from workbench.core.loaders import load_model

        return load_model(model_id, device=like.device)

    def noise_models(self, model) -> dict[float, str]:
        """Built-in models trained under noise for ``model``, by σ (from the model cards)."""
        from workbench.defenses.smoothing import noise_trained_variants

        return noise_trained_variants(model.model_id)

    def large_budget(self, chooser) -> float | None:
        """The attack's ε if it is "very large" (see :func:`~workbench.defenses.evaluation_warnings.large_eps`)."""
        model = self.state.model
        return None if model is None else large_eps(chooser.attack(), model.input_shape)

    @staticmethod
    def attack_text(chooser) -> str:
        eps = chooser.values().get("eps")
        return chooser.attack_class().title + (f" ε = {eps:g}" if isinstance(eps, (int, float)) else "")

    def _model_changed(self) -> None:
        model = self.state.model
        if model is None:
            return
        noise = self.noise_models(model)
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

    def _restyle(self) -> None:
        # The body font for the pages (the lab switcher's bold title font would reach them
        # otherwise), and a title font for their tabs.
        self.setFont(theme.font())
        self.pages.tabBar().setFont(theme.font(theme.style().title_pt))
