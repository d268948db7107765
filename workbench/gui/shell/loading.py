"""Loading models and images into the window's ``AppState``, and the file dialogs that ask for
them. On failure the user is told why and what was loaded before stays loaded; the images
shown follow a model switch as :mod:`workbench.gui.shell.model_switch` decides.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from workbench.gui.dialogs import IMAGE_FILE_FILTER, MODEL_FILE_FILTER, OpenModelDialog
from workbench.gui.shell.model_switch import default_data_for, images_after_switch, input_mismatch
from workbench.gui.state import AppState, ModelSource
from workbench.gui.worker import describe_error

DEFAULT_MODEL = "fashion-cnn"
IMAGE_LIMIT = 500  # images opened at once (the gallery and clean predictions stay quick)
MODEL_SUFFIXES = {".pt", ".pt2", ".pth", ".ts", ".jit", ".safetensors", ".bin", ".ckpt"}


class Loader:
    """Opens models and images for ``state``. ``parent`` hosts the dialogs; ``show_message(text,
    kind)`` and ``show_error(text, error)`` tell the user; ``remember(kind, path, source)``
    records a recent file; ``model_shown()`` puts the model picker back after a refusal."""

    def __init__(self, state: AppState, parent: QWidget, settings: QSettings, *, device: str | None,
                 show_message: Callable[..., Any], show_error: Callable[..., Any],
                 remember: Callable[..., Any], model_shown: Callable[[], Any], notice: Callable[[str], Any]) -> None:
        self.state, self.parent, self.settings, self.device = state, parent, settings, device
        self.show_message, self.show_error, self.remember = show_message, show_error, remember
        self.model_shown, self.notice = model_shown, notice

    # -- start-up -------------------------------------------------------------------------------
    def load_initial(self, model: str | None, data: str | None) -> None:
        source = model or DEFAULT_MODEL
        builtin = not Path(source).is_file()
        if self.load_model(ModelSource(source, builtin=builtin), data=data or None, remember=False):
            if data is None and self.state.images is None:
                self.open_data(self.default_data(), remember=False)
        elif model is not None and model != DEFAULT_MODEL:
            self.load_model(ModelSource(DEFAULT_MODEL, builtin=True), remember=False)

    def default_data(self) -> str:
        """The sample set that goes with the current model (its card's data set)."""
        return default_data_for(self.state.model) or "samples:fashion-mnist"

    # -- models -----------------------------------------------------------------------------------
    def load_model(self, source: ModelSource, *, data: str | None = None, remember: bool = True) -> bool:
        """Load a model; on failure show why and keep the previous model and images. The images
        shown are kept, converted to the new model's input, unless they were the previous model's
        own samples and the new model has its own (:mod:`workbench.gui.shell.model_switch`)."""
        if self.state.busy:
            self.show_error("Stop the running attack before opening another model.")
            self.model_shown()
            return False
        previous_model, previous_images = self.state.model, self.state.images
        try:
            with busy_cursor():
                model = source.load(device=self.device)
        except Exception as error:  # noqa: BLE001 - shown to the user, never raised
            shape = (source.channels or 3, *source.input_size) if source.input_size and not source.builtin else None
            why = (shape and input_mismatch(source.source, shape, source.trust_pickle)) or describe_error(error)
            self.show_error(f"Could not open the model: {why}", error)
            self.model_shown()  # the picker goes back
            return False
        if data is None:  # the images shown, converted, unless the new model has its own samples
            data = images_after_switch(previous_model, previous_images, model)
        images = None
        if data is not None:
            try:
                images = self._open_image_set(data, model)
            except Exception as error:  # noqa: BLE001
                if previous_images is not None and data != previous_images.source:
                    data = previous_images.source
                    try:
                        images = self._open_image_set(data, model)
                    except Exception:  # noqa: BLE001
                        images = None
                if images is None:
                    self.show_error(f"Opened the model, but not its images: {describe_error(error)}", error)
        self.state.set_model(model, source)
        if images is not None:
            self._set_images(images, model)
        elif previous_images is not None:
            self.state.set_images(None)
            if data is None:  # nothing to convert (an error says so otherwise)
                self.show_message(f"Open images for {model.model_id}: File ▸ Open images… or Open folder…, or "
                                  "drop them on the Images panel.", "info")
        if remember and not source.builtin:
            self.remember("model", source.source, source)
        self.notice(f"Model {model.model_id} on {model.device}")
        return True

    # -- images -----------------------------------------------------------------------------------
    def _refused(self) -> bool:
        if self.state.model is None:
            self.show_error("Load a model before opening images.")
            return True
        if self.state.busy:
            self.show_error("Stop the running attack before opening other images.")
            return True
        return False

    def open_data(self, source: str, *, remember: bool = True) -> bool:
        """Open images (``samples:<set>``, a folder, an image or IDX file) for the current model;
        on failure show why and keep the previous images."""
        if self._refused():
            return False
        model = self.state.model
        try:
            images = self._open_image_set(source, model)
        except Exception as error:  # noqa: BLE001
            self.show_error(f"Could not open the images: {describe_error(error)}", error)
            return False
        self._set_images(images, model)
        if remember and not source.startswith("samples:"):
            self.remember("folder" if Path(source).is_dir() else "images", source)
        return True

    def open_image_files(self, paths: Sequence[str]) -> bool:
        """Open several image files as one set (corrupt ones are skipped and listed)."""
        from workbench.core.datasets import ImageSet

        if self._refused():
            return False
        model = self.state.model
        paths = [str(p) for p in paths]
        if len(paths) == 1:
            return self.open_data(paths[0])
        sets, skipped = [], []
        with busy_cursor():
            for path in paths:
                try:
                    sets.append(self._open_image_set(path, model))
                except Exception as error:  # noqa: BLE001
                    skipped.append((Path(path).name, describe_error(error)))
        if not sets:
            reasons = "; ".join(f"{name}: {why}" for name, why in skipped[:3])
            self.show_error(f"Could not open the images: none could be read ({reasons}).")
            return False
        import torch

        parent = str(Path(paths[0]).parent)
        combined = ImageSet(
            images=torch.cat([s.images for s in sets]), labels=torch.cat([s.labels for s in sets]),
            names=[Path(s.source).name for s in sets], class_names=list(model.labels), source=parent,
            skipped=skipped + [item for s in sets for item in s.skipped],
        )
        self._set_images(combined, model)
        for path in paths:
            self.remember("images", path)
        return True

    def _open_image_set(self, source: str, model):
        from workbench.core.datasets import open_data

        with busy_cursor():
            return open_data(source, model.spec, model.labels, limit=IMAGE_LIMIT)

    def _set_images(self, images, model) -> None:
        with busy_cursor():
            predictions = model.predict(images.images).numpy()
        self.state.set_images(images, predictions, current=first_correct(images, predictions))
        if images.skipped:
            names = ", ".join(f"{name} ({why})" for name, why in images.skipped[:3])
            more = f" and {len(images.skipped) - 3} more" if len(images.skipped) > 3 else ""
            self.show_message(f"Skipped {len(images.skipped)} file(s) that could not be read: {names}{more}.", "warning")

    def open_paths(self, paths: Sequence[str]) -> None:
        """Open dropped files or folders: a model file opens the model dialog, a folder opens
        as images, image files open together."""
        paths = [str(p) for p in paths if p]
        if not paths:
            return
        models = [p for p in paths if Path(p).suffix.lower() in MODEL_SUFFIXES]
        if models:
            self.open_model_dialog(models[0])
            return
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:
            self.open_data(folders[0])
            return
        self.open_image_files(paths)

    # -- file dialogs ------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        return str(self.settings.value("paths/last", str(Path.home())))

    def _note_dir(self, path: str) -> None:
        self.settings.setValue("paths/last", str(Path(path).parent if Path(path).is_file() else path))

    def open_model_dialog(self, path: str | None = None) -> bool:
        if path is None or isinstance(path, bool):
            path, _ = QFileDialog.getOpenFileName(self.parent, "Open model", self._start_dir(), MODEL_FILE_FILTER)
            if not path:
                return False
        self._note_dir(path)
        dialog = OpenModelDialog(path, self.parent)
        if dialog.exec() != OpenModelDialog.DialogCode.Accepted:
            return False
        return self.load_model(dialog.model_source())

    def open_images_dialog(self) -> bool:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, "Open images", self._start_dir(), IMAGE_FILE_FILTER)
        if not paths:
            return False
        self._note_dir(paths[0])
        return self.open_image_files(paths)

    def open_folder_dialog(self) -> bool:
        folder = QFileDialog.getExistingDirectory(self.parent, "Open folder of images", self._start_dir())
        if not folder:
            return False
        self._note_dir(folder)
        return self.open_data(folder)


def first_correct(images, predictions: np.ndarray | None) -> int:
    """The first image the model classifies correctly (a good one to attack), else 0."""
    if predictions is None or len(predictions) == 0:
        return 0
    labels = images.labels.numpy()
    correct = np.flatnonzero((labels >= 0) & (predictions.argmax(axis=1) == labels))
    return int(correct[0]) if correct.size else 0


class busy_cursor:  # noqa: N801 - used as a context manager
    """Shows the wait cursor while loading (a few hundred milliseconds at most)."""

    def __enter__(self):
        if QApplication.instance() is not None:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        return self

    def __exit__(self, *exc) -> None:
        if QApplication.instance() is not None:
            QApplication.restoreOverrideCursor()
