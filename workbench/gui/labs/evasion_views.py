"""What the Evasion lab shows between runs: the current image (or the selected run's
images, curves and boundary), the access views (top classes, or the attacker's view for
black-box attacks) and the mask, following ``AppState``. A mixin of
:class:`~workbench.gui.labs.evasion.EvasionLab`."""
from __future__ import annotations

import numpy as np

from workbench.gui.labs.evasion_live import prediction_title


class EvasionViews:
    """The lab's views following the state (mixed into the Evasion lab)."""

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
