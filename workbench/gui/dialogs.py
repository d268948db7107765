"""Dialogs and the message bar of the window.

- :class:`OpenModelDialog` asks what a model file needs to be loaded: its architecture (for
  weights-only files), input size, channels, mean/std and a labels file; a torch.export
  archive's input size and channels come from the file (which records them) and are locked.
- :class:`PrintableDialog` asks the physical size of a printed eyeglass frame or sticker.
- :class:`MessageBar` shows errors and notices inside the window, without blocking it and
  without a traceback.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.spec import InputSpec
from workbench.core.source import ModelSource, recorded_input_shape

MODEL_FILE_FILTER = (
    "Model files (*.pt2 *.pt *.pth *.ts *.jit *.safetensors *.bin *.ckpt);;All files (*)"
)
IMAGE_FILE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"

# name → (height, width, channels, mean, std)
PRESETS: dict[str, tuple[int, int, int, str, str]] = {
    "ImageNet (224×224 RGB)": (224, 224, 3, "0.485, 0.456, 0.406", "0.229, 0.224, 0.225"),
    "CIFAR-10 (32×32 RGB)": (32, 32, 3, "0.4914, 0.4822, 0.4465", "0.2470, 0.2435, 0.2616"),
    "MNIST / Fashion-MNIST (28×28 grey)": (28, 28, 1, "0", "1"),
    "Pixels in [0, 1] (no normalization)": (0, 0, 0, "0", "1"),
}

AUTO_ARCH = "(from the file: TorchScript, torch.export or a pickled model)"


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())


class OpenModelDialog(QDialog):
    """What is needed to load a model file. :meth:`model_source` and :meth:`input_spec` give
    the answers once accepted."""

    def __init__(self, path: str = "", parent: QWidget | None = None, *, architectures: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open model")
        self.setModal(True)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "TorchScript and torch.export files carry their architecture; weights files "
            "(.safetensors, state_dict .pt/.pth) need it named. Say the input the model expects; "
            "normalization with mean/std happens inside the workbench, attacks see pixels in [0, 1]."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)

        self.path_edit = QLineEdit(path)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Model file:", row)

        self.arch_combo = QComboBox()
        self.arch_combo.setEditable(True)
        self.arch_combo.addItem(AUTO_ARCH)
        for name in architectures if architectures is not None else _architectures():
            self.arch_combo.addItem(name)
        self.arch_combo.setToolTip(
            "For weights-only files: a built-in architecture or any torchvision classification "
            "model (e.g. resnet18). The class count comes from the weights."
        )
        form.addRow("Architecture:", self.arch_combo)

        self.preset_combo = QComboBox()
        self.preset_combo.addItem("(choose a preset)")
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.currentTextChanged.connect(self._apply_preset)
        form.addRow("Preset:", self.preset_combo)

        self.height_spin = QSpinBox()
        self.width_spin = QSpinBox()
        for spin in (self.height_spin, self.width_spin):
            spin.setRange(1, 4096)
            spin.setValue(224)
        size_row = QHBoxLayout()
        size_row.addWidget(self.height_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.width_spin)
        size_row.addStretch(1)
        form.addRow("Input size (H × W):", size_row)

        self.channels_combo = QComboBox()
        self.channels_combo.addItems(["3 (RGB)", "1 (grey)"])
        form.addRow("Channels:", self.channels_combo)
        self.recorded_label = QLabel()  # the input a torch.export archive records, when it does
        self.recorded_label.setWordWrap(True)
        form.addRow("", self.recorded_label)
        self._recorded: tuple[str, bool] | None = None  # (path, trusted) last read

        self.mean_edit = QLineEdit("0.485, 0.456, 0.406")
        self.std_edit = QLineEdit("0.229, 0.224, 0.225")
        self.mean_edit.setToolTip("One value, or one per channel, separated by commas")
        self.std_edit.setToolTip("One value, or one per channel, separated by commas")
        form.addRow("Mean:", self.mean_edit)
        form.addRow("Std:", self.std_edit)

        self.labels_edit = QLineEdit()
        self.labels_edit.setPlaceholderText("optional: one class name per line, or a JSON list")
        labels_browse = QPushButton("Browse…")
        labels_browse.clicked.connect(self._browse_labels)
        labels_row = QHBoxLayout()
        labels_row.addWidget(self.labels_edit, 1)
        labels_row.addWidget(labels_browse)
        form.addRow("Labels file:", labels_row)

        self.trust_check = QCheckBox("I trust this file: allow unpickling Python objects")
        self.trust_check.setToolTip(
            "A pickled model can run any code when it is loaded. Only tick this for files you "
            "made yourself or got from someone you trust."
        )
        form.addRow("", self.trust_check)

        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for edit in (self.path_edit, self.mean_edit, self.std_edit, self.labels_edit):
            edit.textChanged.connect(self._validate)
        self.channels_combo.currentIndexChanged.connect(self._validate)
        self.path_edit.textChanged.connect(self._read_recorded_input)
        self.trust_check.toggled.connect(self._read_recorded_input)
        self._read_recorded_input()
        self.resize(560, self.sizeHint().height())

    # -- answers ---------------------------------------------------------------------------------
    def channels(self) -> int:
        return 1 if self.channels_combo.currentIndex() == 1 else 3

    def architecture(self) -> str | None:
        text = self.arch_combo.currentText().strip()
        return None if not text or text == AUTO_ARCH else text

    def input_spec(self) -> InputSpec:
        """The input spec; raises ValueError with a readable message."""
        try:
            mean, std = _floats(self.mean_edit.text()), _floats(self.std_edit.text())
        except ValueError:
            raise ValueError("mean and std must be numbers separated by commas") from None
        return InputSpec(
            channels=self.channels(), height=self.height_spin.value(), width=self.width_spin.value(),
            mean=mean or (0.0,), std=std or (1.0,),
        )

    def model_source(self) -> ModelSource:
        spec = self.input_spec()
        labels = self.labels_edit.text().strip() or None
        return ModelSource(
            source=self.path_edit.text().strip(), arch=self.architecture(),
            input_size=(spec.height, spec.width), channels=spec.channels,
            mean=spec.mean, std=spec.std, labels_file=labels,
            trust_pickle=self.trust_check.isChecked(),
        )

    def problem(self) -> str:
        """What is wrong with the answers ('' when nothing)."""
        path = self.path_edit.text().strip()
        if not path:
            return "Choose a model file."
        if not Path(path).is_file():
            return f"There is no file {path}."
        labels = self.labels_edit.text().strip()
        if labels and not Path(labels).is_file():
            return f"There is no labels file {labels}."
        try:
            self.input_spec()
        except ValueError as error:
            return str(error)[:1].upper() + str(error)[1:] + "."
        return ""

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self._show(problem)
            return
        super().accept()

    # -- internals -------------------------------------------------------------------------------
    def _validate(self) -> None:
        if self.error_label.isVisible():
            self._show(self.problem())

    def _show(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _apply_preset(self, name: str) -> None:
        preset = PRESETS.get(name)
        if preset is None:
            return
        height, width, channels, mean, std = preset
        if height and self.height_spin.isEnabled():  # not over the input a model file records
            self.height_spin.setValue(height)
            self.width_spin.setValue(width)
            self.channels_combo.setCurrentIndex(1 if channels == 1 else 0)
        self.mean_edit.setText(mean)
        self.std_edit.setText(std)

    def _read_recorded_input(self) -> None:
        """Fill in and lock the input size and channels that a torch.export archive records
        (its program only runs on that shape), unlock them for other files."""
        key = (self.path_edit.text().strip(), self.trust_check.isChecked())
        if key == self._recorded:
            return
        self._recorded = key
        shape = recorded_input_shape(key[0], key[1]) if key[0] else None
        locked = shape is not None and shape[0] in (1, 3)
        if locked:
            self.height_spin.setValue(shape[1])
            self.width_spin.setValue(shape[2])
            self.channels_combo.setCurrentIndex(1 if shape[0] == 1 else 0)
            self.preset_combo.setCurrentText("Pixels in [0, 1] (no normalization)")  # as exported, as a rule
            self.recorded_label.setText(f"Input {'×'.join(map(str, shape))} (channels × height × width), "
                                        "as recorded in the torch.export archive.")
        for field in (self.height_spin, self.width_spin, self.channels_combo):
            field.setEnabled(not locked)
        self.recorded_label.setVisible(locked)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", self.path_edit.text(), MODEL_FILE_FILTER)
        if path:
            self.path_edit.setText(path)

    def _browse_labels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Labels file", self.labels_edit.text(), "Labels (*.txt *.json);;All files (*)")
        if path:
            self.labels_edit.setText(path)


def _architectures() -> list[str]:
    from workbench.core.architectures import builtin_architectures

    names = list(builtin_architectures())
    try:
        from workbench.core.architectures import torchvision_architectures

        names += torchvision_architectures()
    except Exception:  # torchvision missing or broken: built-in ones only
        pass
    return names


class PrintableDialog(QDialog):
    """Width in millimetres and resolution in dots per inch of a printed perturbation whose
    mask's bounding box is ``box`` = (width, height) image pixels; shows the pixel size it gives."""

    def __init__(self, box: tuple[int, int], parent: QWidget | None = None, *, width_mm: float = 140.0, dpi: int = 300) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export printable")
        self._box = (max(1, int(box[0])), max(1, int(box[1])))
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setObjectName("printWidth")
        self.width_spin.setRange(1.0, 2000.0)
        self.width_spin.setDecimals(1)
        self.width_spin.setSuffix(" mm")
        self.width_spin.setValue(width_mm)
        self.width_spin.setToolTip("The printed width of the frame or sticker (an eyeglass frame is about 140 mm wide)")
        self.dpi_spin = QSpinBox()
        self.dpi_spin.setObjectName("printDpi")
        self.dpi_spin.setRange(50, 4800)
        self.dpi_spin.setSuffix(" dpi")
        self.dpi_spin.setValue(dpi)
        self.dpi_spin.setToolTip("The printer's resolution; the PNG records it, so that it prints at this size at 100 %")
        self.result = QLabel()
        self.result.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Printed width:", self.width_spin)
        form.addRow("Resolution:", self.dpi_spin)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("The masked region (transparent elsewhere) is enlarged to this size, every image pixel a sharp square.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)
        self.width_spin.valueChanged.connect(self._update)
        self.dpi_spin.valueChanged.connect(self._update)
        self._update()

    def width_mm(self) -> float:
        return float(self.width_spin.value())

    def dpi(self) -> int:
        return int(self.dpi_spin.value())

    def _update(self) -> None:
        from workbench.core.printable import print_size_pixels

        width, height = self._box
        try:
            w, h = print_size_pixels(self.width_mm(), self.dpi(), height / width)
        except ValueError as error:
            self.result.setText(str(error))
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return
        self.result.setText(
            f"{width}×{height} image pixels → {w}×{h} pixels, {self.width_mm():g} × {self.width_mm() * height / width:.0f} mm."
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)


class MessageBar(QFrame):
    """A non-modal message strip: an error (red) or a notice (blue), with a close button.
    Notices hide themselves after a while; errors stay until closed or replaced."""

    closed = Signal()

    STYLES = {
        "error": ("#fdecea", "#b71c1c", "#e57373"),
        "warning": ("#fff8e1", "#6d4c00", "#ffca28"),
        "info": ("#e8f0fe", "#0d47a1", "#90caf9"),
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close this message")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.kind = ""
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "error", timeout_ms: int | None = None) -> None:
        background, foreground, border = self.STYLES.get(kind, self.STYLES["info"])
        self.kind = kind
        self.icon.setText({"error": "⛔", "warning": "⚠", "info": "ℹ"}.get(kind, ""))
        self.setStyleSheet(
            f"QFrame#messageBar {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f" QLabel {{ color: {foreground}; }}"
        )
        self.label.setText(text)
        self.setVisible(True)
        if timeout_ms is None:
            timeout_ms = 0 if kind == "error" else 8000
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def dismiss(self) -> None:
        self._timer.stop()
        self.setVisible(False)
        self.closed.emit()
