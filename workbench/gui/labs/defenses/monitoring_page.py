"""The Defenses lab's Monitoring page: a :class:`~workbench.defenses.monitor.StatefulDetector`,
calibrated on benign images, as the log of the oracle that a black-box attack (or a benign
stream) queries; the worker sources are in :mod:`workbench.defenses.monitoring`, shared with
``workbench monitor``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.goals import goal_labels
from workbench.defenses.monitoring import MonitorSnapshot, benign_stream, calibrated_detector, monitored_attack, verdict
from workbench.gui.labs.run_page import RunPage
from workbench.gui.widgets.monitor_view import MonitorView


class MonitorPage(RunPage):
    """Two runs: the attack on the current image (the window's Run) and a benign stream."""

    key, title = "monitor", "Monitoring"

    def __init__(self, lab) -> None:
        view = MonitorView()
        view.setObjectName("monitorView")
        super().__init__(lab, view)
        self._kind = "attack"
        self._key: tuple = ()
        self._thresholds: dict[tuple, float] = {}  # calibrations already made, by their settings
        view.attackRequested.connect(lambda: self.run_kind("attack"))
        view.benignRequested.connect(lambda: self.run_kind("benign"))
        view.stopRequested.connect(self.stop)

    def forms(self):
        return [self.view.form, self.view.attack.form]

    def run(self) -> bool:
        return self.run_kind("attack")

    def run_kind(self, kind: str) -> bool:
        self._kind = kind
        return super().run()

    def source(self):
        import torch

        from workbench.core.oracle import OracleParams
        from workbench.core.params import build

        view, state = self.view, self.state
        model = self.require_model()
        self._key = self._calibration_key(view.monitor_params())
        if self._kind == "benign":
            calibrate = self._calibration(model)
            count = view.benign.value()
            view.start("benign")
            return lambda: benign_stream(calibrate(), model, count)
        if state.current_index < 0:
            raise WorkbenchError("Open some images first: the attack runs on the current image.")
        attack = view.attack.attack()
        oracle_params = build(OracleParams, view.oracle_params())
        calibrate = self._calibration(model)
        x = torch.from_numpy(np.ascontiguousarray(state.current_image(), dtype=np.float32))[None]
        label = goal_labels(state.current_label(), lambda: model.predict(x)[0])
        y = torch.tensor([label])
        seed = state.seed
        view.start("attack")
        return lambda: monitored_attack(calibrate(), model, attack, x, y, oracle_params, seed=seed)

    def routes(self):
        return {MonitorSnapshot: self._snapshot}

    def _snapshot(self, snapshot: MonitorSnapshot) -> None:
        self._thresholds[self._key] = snapshot.threshold
        self.view.show_snapshot(snapshot)
        self.refine(snapshot.queries, 0, unit="queries", counter="Query")

    def show_result(self, final: Any) -> None:
        if not isinstance(final, MonitorSnapshot):
            return
        self.refine(final.queries, 0, unit="queries", counter="Query")
        self._thresholds[self._key] = final.threshold
        text = verdict(final, self._kind)
        self.view.finish(final, text)
        self.lab.message.emit(text.replace("<b>", "").replace("</b>", ""), "info")

    def ended(self, status: str) -> None:
        self.view.finish(None, "Stopped." if status == "cancelled" else "The run failed.")

    def _calibration_key(self, params: dict[str, Any]) -> tuple:
        model = self.state.model
        return (getattr(model, "model_id", ""), params.get("k"), params.get("false_positive_rate"),
                self.view.calibration.value())

    def _calibration(self, model) -> Callable[[], Any]:
        """A function (run in the worker) that returns a detector with its threshold: the one
        calibrated earlier with the same settings, else calibrated now on benign images."""
        from workbench.core.params import build
        from workbench.defenses.monitor import MonitorParams

        params = build(MonitorParams, self.view.monitor_params())
        count = self.view.calibration.value()
        if count <= params.k:
            raise WorkbenchError(f"Calibration needs more than k = {params.k} images.")
        threshold = self._thresholds.get(self._calibration_key(self.view.monitor_params()))
        return lambda: calibrated_detector(model, params, count, threshold)
