"""``AppState``: the one place where the window's state lives (ARCHITECTURE.md, "The GUI").

It holds the current model, the images, their clean predictions, the current image, one mask
per image, the attack settings, the finished runs and the preferences, with a signal per field.
Widgets bind to it both ways: they write what the user changed through a setter and redraw from
the signal; a setter that receives the value already held emits nothing, so bindings never loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from workbench.core.source import ModelSource  # noqa: F401 - how the model was loaded (re-exported)


@dataclass
class RunView:
    """A finished run as the window shows it: the final views and what repeats it.

    Arrays are NumPy: ``x`` and ``x_adv`` C×H×W in [0, 1], ``mask`` H×W (None: everywhere),
    ``probs_clean`` and ``probs_adv`` K, ``history`` the per-iteration series of
    :mod:`workbench.core.tracking`.
    """

    run_id: int
    title: str
    attack_id: str
    attack_title: str
    params: dict[str, Any]
    seed: int
    labels: list[str]
    model_id: str
    image_index: int
    image_name: str
    true_class: int
    target_class: int | None
    x: np.ndarray
    x_adv: np.ndarray
    mask: np.ndarray | None
    probs_clean: np.ndarray
    probs_adv: np.ndarray
    history: dict[str, np.ndarray] = field(default_factory=dict)
    boundary: Any = None  # the last BoundarySlice, if any
    success: bool = False
    iterations: int = 0
    seconds: float = 0.0
    device: str = ""
    command: str = ""
    queries: int = 0  # black-box attacks: queries spent
    oracle: dict[str, Any] = field(default_factory=dict)  # black-box attacks: the oracle settings

    @property
    def perturbation(self) -> np.ndarray:
        return self.x_adv.astype(np.float32) - self.x.astype(np.float32)

    @property
    def predicted_clean(self) -> int:
        return int(np.argmax(self.probs_clean))

    @property
    def predicted_adv(self) -> int:
        return int(np.argmax(self.probs_adv))


class AppState(QObject):
    """The application state with a signal per field (see the module docstring)."""

    modelChanged = Signal(object)  # ModelHandle | None
    imagesChanged = Signal(object)  # ImageSet | None
    predictionsChanged = Signal(object)  # N×K float32 NumPy | None
    currentIndexChanged = Signal(int)
    maskChanged = Signal(int)  # the image whose mask changed
    attackChanged = Signal(str)
    attackParamsChanged = Signal(dict)
    targetedChanged = Signal(bool)
    targetClassChanged = Signal(int)
    seedChanged = Signal(int)
    oracleParamsChanged = Signal(dict)  # black-box access settings (OracleParams values)
    runAdded = Signal(int)
    runsCleared = Signal()
    selectedRunChanged = Signal(int)  # a run id, or -1 for none
    presentationChanged = Signal(bool)
    showAdvancedChanged = Signal(bool)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = None
        self._model_source: ModelSource | None = None
        self._images = None
        self._predictions: np.ndarray | None = None
        self._current = -1
        self._masks: dict[int, np.ndarray] = {}
        self._attack = ""
        self._params: dict[str, dict[str, Any]] = {}
        self._targeted = False
        self._target_class = 0
        self._seed = 0
        self._oracle: dict[str, Any] = {}
        self._runs: dict[int, RunView] = {}
        self._next_run = 1
        self._selected_run = -1
        self._presentation = False
        self._show_advanced = True
        self._busy = False

    # -- model ----------------------------------------------------------------------------------
    @property
    def model(self):
        return self._model

    @property
    def model_source(self) -> ModelSource | None:
        return self._model_source

    def set_model(self, model, source: ModelSource | None = None) -> None:
        """A new model. The previous model's runs are forgotten: their views, adversarial
        images and commands belong to that model, not to the one now shown."""
        changed = model is not self._model
        self._model = model
        self._model_source = source
        if model is not None and self._target_class >= model.num_classes:
            self._target_class = 0
        if changed and (self._runs or self._selected_run != -1):
            self.clear_runs()
        self.modelChanged.emit(model)

    # -- images ---------------------------------------------------------------------------------
    @property
    def images(self):
        return self._images

    def set_images(self, images, predictions: np.ndarray | None = None, current: int = 0) -> None:
        """New images: masks are forgotten and image ``current`` becomes current."""
        self._images = images
        self._masks.clear()
        self._predictions = None if predictions is None else np.asarray(predictions, dtype=np.float32)
        count = self.image_count()
        self._current = min(max(current, 0), count - 1) if count else -1
        self.imagesChanged.emit(images)
        self.predictionsChanged.emit(self._predictions)
        self.currentIndexChanged.emit(self._current)

    def image_count(self) -> int:
        images = self._images
        return 0 if images is None else int(len(images.images))

    @property
    def predictions(self) -> np.ndarray | None:
        return self._predictions

    def set_predictions(self, predictions: np.ndarray | None) -> None:
        self._predictions = None if predictions is None else np.asarray(predictions, dtype=np.float32)
        self.predictionsChanged.emit(self._predictions)

    @property
    def current_index(self) -> int:
        return self._current

    def set_current_index(self, index: int) -> None:
        index = int(index)
        if not (0 <= index < self.image_count()) or index == self._current:
            return
        self._current = index
        self.currentIndexChanged.emit(index)

    def current_image(self) -> np.ndarray | None:
        """The current image C×H×W float32 in [0, 1] (model input spec), or None."""
        if self._current < 0 or self._images is None:
            return None
        return _numpy(self._images.images[self._current])

    def current_label(self) -> int:
        """The current image's true class, or -1 when it is unknown."""
        if self._current < 0 or self._images is None:
            return -1
        return int(_numpy(self._images.labels[self._current]))

    def current_name(self) -> str:
        if self._current < 0 or self._images is None:
            return ""
        names = getattr(self._images, "names", None)
        return str(names[self._current]) if names is not None and len(names) > self._current else f"#{self._current}"

    # -- masks ----------------------------------------------------------------------------------
    def mask(self, index: int | None = None) -> np.ndarray | None:
        """The mask of an image (H×W float32 at model resolution, 1 = may change), or None when
        none was drawn."""
        index = self._current if index is None else index
        return self._masks.get(int(index))

    def set_mask(self, index: int, mask: np.ndarray | None) -> None:
        index = int(index)
        old = self._masks.get(index)
        if mask is None:
            if old is None:
                return
            del self._masks[index]
        else:
            mask = np.ascontiguousarray(mask, dtype=np.float32)
            if old is not None and old.shape == mask.shape and np.array_equal(old, mask):
                return
            self._masks[index] = mask
        self.maskChanged.emit(index)

    # -- attack settings --------------------------------------------------------------------------
    @property
    def attack_id(self) -> str:
        return self._attack

    def set_attack(self, attack_id: str) -> None:
        if attack_id != self._attack:
            self._attack = attack_id
            self.attackChanged.emit(attack_id)

    def attack_params(self, attack_id: str | None = None) -> dict[str, Any]:
        """The values the user set for an attack (defaults are not stored)."""
        return dict(self._params.get(attack_id or self._attack, {}))

    def set_attack_params(self, values: dict[str, Any], attack_id: str | None = None) -> None:
        key = attack_id or self._attack
        if self._params.get(key) != values:
            self._params[key] = dict(values)
            if key == self._attack:
                self.attackParamsChanged.emit(dict(values))

    @property
    def targeted(self) -> bool:
        return self._targeted

    def set_targeted(self, targeted: bool) -> None:
        if bool(targeted) != self._targeted:
            self._targeted = bool(targeted)
            self.targetedChanged.emit(self._targeted)

    @property
    def target_class(self) -> int:
        return self._target_class

    def set_target_class(self, index: int) -> None:
        if int(index) != self._target_class and int(index) >= 0:
            self._target_class = int(index)
            self.targetClassChanged.emit(self._target_class)

    @property
    def seed(self) -> int:
        return self._seed

    def set_seed(self, seed: int) -> None:
        if int(seed) != self._seed:
            self._seed = int(seed)
            self.seedChanged.emit(self._seed)

    @property
    def oracle_params(self) -> dict[str, Any]:
        """What a black-box attack's oracle reveals and allows (values of ``OracleParams``
        that differ from their defaults)."""
        return dict(self._oracle)

    def set_oracle_params(self, values: dict[str, Any]) -> None:
        if dict(values) != self._oracle:
            self._oracle = dict(values)
            self.oracleParamsChanged.emit(dict(values))

    # -- runs -------------------------------------------------------------------------------------
    def new_run_id(self) -> int:
        run_id = self._next_run
        self._next_run += 1
        return run_id

    def add_run(self, run: RunView) -> int:
        self._runs[run.run_id] = run
        self._next_run = max(self._next_run, run.run_id + 1)
        self.runAdded.emit(run.run_id)
        return run.run_id

    def run(self, run_id: int) -> RunView | None:
        return self._runs.get(int(run_id))

    def runs(self) -> list[RunView]:
        return list(self._runs.values())

    def clear_runs(self) -> None:
        self._runs.clear()
        self._selected_run = -1
        self.runsCleared.emit()
        self.selectedRunChanged.emit(-1)

    @property
    def selected_run(self) -> int:
        return self._selected_run

    def set_selected_run(self, run_id: int) -> None:
        run_id = int(run_id)
        if run_id != self._selected_run and (run_id == -1 or run_id in self._runs):
            self._selected_run = run_id
            self.selectedRunChanged.emit(run_id)

    # -- preferences and activity -----------------------------------------------------------------
    @property
    def presentation(self) -> bool:
        return self._presentation

    def set_presentation(self, enabled: bool) -> None:
        if bool(enabled) != self._presentation:
            self._presentation = bool(enabled)
            self.presentationChanged.emit(self._presentation)

    @property
    def show_advanced(self) -> bool:
        """Whether advanced controls are shown (never in presentation mode)."""
        return self._show_advanced and not self._presentation

    def set_show_advanced(self, show: bool) -> None:
        if bool(show) != self._show_advanced:
            self._show_advanced = bool(show)
            self.showAdvancedChanged.emit(self._show_advanced)

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        if bool(busy) != self._busy:
            self._busy = bool(busy)
            self.busyChanged.emit(self._busy)


def _numpy(value) -> np.ndarray:
    """A tensor or array as a NumPy array (CPU)."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)
