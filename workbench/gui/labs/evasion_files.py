"""The Evasion lab's file actions (its File and Run menu entries): save and load the current
image's mask, export a run's adversarial image, its perturbation and its printable, the batch
results as CSV, and "Copy as command". Declared by :meth:`EvasionLab.actions`."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from workbench.core.errors import WorkbenchError
from workbench.core.mask_policy import effective_mask, mask_rectangle
from workbench.gui import theme
from workbench.gui.labs.base import LabAction
from workbench.gui.dialogs import PrintableDialog
from workbench.gui.worker import describe_error

log = logging.getLogger(__name__)


class EvasionFiles:
    """The file actions of ``lab`` (an :class:`~workbench.gui.labs.evasion.EvasionLab`)."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.state = lab.state

    def actions(self) -> list[LabAction]:
        """The Evasion lab's menu entries: masks and exports in File, the batch run and the command line
        in Run (:mod:`workbench.gui.labs.evasion_files`)."""
        files, lab = self, self.lab
        return [
            LabAction("&Save mask…", files.save_mask_dialog, "Ctrl+Shift+S", "Save the current image's mask as a PNG",
                      menu="File", role="mask"),
            LabAction("&Load mask…", files.load_mask_dialog, "Ctrl+Shift+L", "Load a mask PNG for the current image",
                      menu="File", role="mask"),
            LabAction("Export &adversarial PNG…", files.export_adversarial_dialog, "Ctrl+E",
                      "Save the adversarial image of the selected run", menu="File", role="export"),
            LabAction("Export &perturbation PNG…", files.export_perturbation_dialog, "Ctrl+Shift+E",
                      "Save the coloured perturbation of the selected run", menu="File", role="export"),
            LabAction("Export p&rintable…", files.export_printable_dialog, None,
                      "Save the selected run's perturbed region (its mask) at a physical size, to print",
                      menu="File", role="export"),
            LabAction("Export batch &results CSV…", files.export_results_dialog, None,
                      "Save the batch results table as a CSV file", menu="File", role="export"),
            LabAction("Run on &all images", lab.run_batch, "Ctrl+Shift+R",
                      "Attack every image of the gallery and list the results", role="batch"),
            LabAction("&Copy as command", files.copy_command, "Ctrl+Shift+C",
                      "Copy the equivalent `workbench attack …` line", role="command", idle_only=False),
        ]

    def _start_dir(self) -> str:
        return str(self.lab.settings.value("paths/last", str(Path.home())))

    def _error(self, text: str, error: BaseException | None = None) -> None:
        if error is not None and not isinstance(error, WorkbenchError):
            log.warning("%s", text, exc_info=error)
        self.lab.message.emit(text, "error")

    def save_mask_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.lab, "Save mask", str(Path(self._start_dir()) / "mask.png"), "PNG (*.png)")
        return bool(path) and self.save_mask(path)

    def save_mask(self, path: str) -> bool:
        try:
            self.lab.canvas.save_mask(path)
        except Exception as error:  # noqa: BLE001
            self._error(f"Could not save the mask: {describe_error(error)}", error)
            return False
        self.lab.notice.emit(f"Saved the mask to {path}")
        return True

    def load_mask_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.lab, "Load mask", self._start_dir(), "PNG (*.png);;All files (*)")
        return bool(path) and self.load_mask(path)

    def load_mask(self, path: str) -> bool:
        try:
            self.lab.canvas.load_mask(path)
        except Exception as error:  # noqa: BLE001
            self._error(f"Could not load the mask: {describe_error(error)}", error)
            return False
        return True

    def _export_run(self):
        run = self.state.run(self.state.selected_run)
        if run is None and self.state.runs():
            run = self.state.runs()[-1]
        if run is None:
            self._error("There is no finished run to export yet: run an attack first.")
        return run

    def export_adversarial_dialog(self) -> bool:
        run = self._export_run()
        if run is None:
            return False
        name = f"run{run.run_id}-{run.attack_id}-adversarial.png"
        path, _ = QFileDialog.getSaveFileName(self.lab, "Export adversarial image", str(Path(self._start_dir()) / name), "PNG (*.png)")
        return bool(path) and self.export_adversarial(path, run.run_id)

    def export_perturbation_dialog(self) -> bool:
        run = self._export_run()
        if run is None:
            return False
        name = f"run{run.run_id}-{run.attack_id}-perturbation.png"
        path, _ = QFileDialog.getSaveFileName(self.lab, "Export perturbation", str(Path(self._start_dir()) / name), "PNG (*.png)")
        return bool(path) and self.export_perturbation(path, run.run_id)

    def export_adversarial(self, path: str, run_id: int | None = None) -> bool:
        """Save a run's adversarial image at the model's resolution (8-bit PNG)."""
        from workbench.core.images import save_png

        run = self.state.run(run_id if run_id is not None else self.state.selected_run)
        if run is None:
            self._error("There is no run to export.")
            return False
        try:
            save_png(path, run.x_adv)
        except Exception as error:  # noqa: BLE001
            self._error(f"Could not export the adversarial image: {describe_error(error)}", error)
            return False
        self.lab.notice.emit(f"Saved the adversarial image to {path}")
        return True

    def export_perturbation(self, path: str, run_id: int | None = None, scale: int = 8) -> bool:
        """Save a run's perturbation in the diverging colours of the view (blue darker, red
        brighter, white unchanged), enlarged ``scale`` times by nearest neighbour."""
        from workbench.gui.widgets.image_triptych import save_png as save_rgb

        run = self.state.run(run_id if run_id is not None else self.state.selected_run)
        if run is None:
            self._error("There is no run to export.")
            return False
        delta = np.transpose(run.perturbation, (1, 2, 0))
        rgb, scale_value = theme.perturbation_rgb(delta)
        try:
            save_rgb(rgb, path, scale)
        except Exception as error:  # noqa: BLE001
            self._error(f"Could not export the perturbation: {describe_error(error)}", error)
            return False
        self.lab.notice.emit(f"Saved the perturbation (colour scale {theme.format_scale(scale_value)}) to {path}")
        return True

    def export_printable_dialog(self, run_id: int | None = None) -> bool:
        """Ask the printed size and a file, then write the run's printable (the selected or last
        run by default)."""
        run = self.state.run(run_id) if isinstance(run_id, int) and not isinstance(run_id, bool) else self._export_run()
        if run is None:
            return False
        rows, cols = np.nonzero(_printable_mask(run) > 0)
        dialog = PrintableDialog((int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)), self.lab)
        if dialog.exec() != PrintableDialog.DialogCode.Accepted:
            return False
        name = f"run{run.run_id}-{run.attack_id}-printable.png"
        path, _ = QFileDialog.getSaveFileName(self.lab, "Export printable", str(Path(self._start_dir()) / name), "PNG (*.png)")
        return bool(path) and self.export_printable(path, run.run_id, dialog.width_mm(), dialog.dpi())

    def export_printable(self, path: str, run_id: int, width_mm: float, dpi: float) -> bool:
        """Write a run's perturbed region (its mask; the whole image without one) as a PNG that
        prints ``width_mm`` wide at ``dpi`` (:func:`workbench.core.printable.write_printable`)."""
        import torch

        from workbench.core.printable import write_printable

        run = self.state.run(run_id)
        if run is None:
            self._error("There is no run to export.")
            return False
        try:
            width, height = write_printable(path, torch.from_numpy(np.ascontiguousarray(run.x_adv)),
                                            torch.from_numpy(_printable_mask(run)), width_mm, dpi)
        except (WorkbenchError, ValueError, OSError) as error:
            self._error(f"Could not export the printable: {describe_error(error)}", error)
            return False
        self.lab.notice.emit(
            f"Saved a {width}×{height} pixel printable to {path}: print it at 100 % for {width_mm:g} mm wide.")
        return True

    def export_results_dialog(self) -> bool:
        table = self.lab.results
        if table.row_count() == 0:
            self._error("There are no batch results to export yet: run on all images first.")
            return False
        path, _ = QFileDialog.getSaveFileName(self.lab, "Export batch results", str(Path(self._start_dir()) / "batch-results.csv"), "CSV (*.csv)")
        if not path:
            return False
        try:
            table.export_csv(path)
        except OSError as error:
            self._error(f"Could not export the results: {describe_error(error)}", error)
            return False
        self.lab.notice.emit(f"Saved {table.row_count()} results to {path}")
        return True

    def copy_command(self) -> str:
        """Put the equivalent command line of the current settings (or the selected run) on the
        clipboard; a mask that is not a rectangle is saved as a PNG the command names."""
        lab = self.lab
        if self.state.model is None:
            return ""
        run = self.state.run(self.state.selected_run)
        mask = run.mask if run is not None else self.state.mask()
        mask_file = None
        mask = effective_mask(mask)
        if mask is not None and mask_rectangle(mask) is None:
            mask_file = self._save_mask_for_command(mask)
        command = lab.command_for(run, mask_file=mask_file)
        QGuiApplication.clipboard().setText(command)
        self.lab.notice.emit("Copied: " + command)
        return command

    def _save_mask_for_command(self, mask: np.ndarray) -> str | None:
        import hashlib

        from workbench.core.masks import save_mask_png

        folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or Path.home()) / "masks"
        digest = hashlib.sha256(np.ascontiguousarray(mask > 0).tobytes()).hexdigest()[:12]
        path = folder / f"mask-{digest}.png"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            save_mask_png(path, (np.asarray(mask) > 0).astype(np.float32))
        except Exception as error:  # noqa: BLE001
            self._error(f"Could not save the mask for the command: {describe_error(error)}", error)
            return None
        return str(path)


def _printable_mask(run) -> np.ndarray:
    """What a run's printable shows: its mask, or the whole image when it had none."""
    mask = run.mask if run.mask is not None else np.ones(run.x.shape[1:], np.float32)
    return np.ascontiguousarray(mask, dtype=np.float32)
