"""``ModelPanel``: the built-in model picker with the model card, and "Open model…".

The panel holds no state: it shows :class:`~workbench.gui.state.AppState`'s model and asks the
window to load another one through its signals (``builtinRequested(id)``,
``openModelRequested()``), so that the File menu and the panel share one code path.

Run alone for development: ``python -m workbench.gui.widgets.model_panel``.
"""
from __future__ import annotations

import html
import sys
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme
from workbench.gui.state import AppState

FILE_ITEM = "__file__"


def _builtin_cards() -> list[dict[str, Any]]:
    try:
        from workbench.core.loaders import builtin_models

        return builtin_models()
    except Exception:  # a broken card must not take the panel down; the window reports loads
        return []


def describe_input(spec) -> str:
    colour = "grey" if spec.channels == 1 else "RGB"
    return f"{spec.height}×{spec.width} {colour}"


def card_html(model, source_text: str = "") -> str:
    """The model card as rich text: title, input, classes, accuracy, size, device."""
    if model is None:
        return "<i>No model loaded.</i>"
    card = dict(model.card or {})
    title = html.escape(str(card.get("title") or model.model_id))
    rows = [("Input", html.escape(describe_input(model.spec)))]
    labels = model.labels
    shown = ", ".join(labels[:10]) + (f", … ({len(labels) - 10} more)" if len(labels) > 10 else "")
    rows.append(("Classes", f"{len(labels)}: {html.escape(shown)}"))
    metrics = card.get("metrics") or {}
    accuracy = metrics.get("test_accuracy")
    if accuracy is not None:
        images = metrics.get("test_images")
        on = f" on {images:,} test images" if images else ""
        rows.append(("Accuracy", f"<b>{100 * float(accuracy):.1f} %</b>{on}"))
    if card.get("parameters"):
        rows.append(("Parameters", f"{int(card['parameters']):,}"))
    if card.get("architecture"):
        rows.append(("Architecture", html.escape(str(card["architecture"]))))
    if card.get("format"):
        rows.append(("Format", html.escape(str(card["format"]))))
    rows.append(("Device", html.escape(str(model.device))))
    if source_text:
        rows.append(("File", html.escape(source_text)))
    body = "".join(
        f"<tr><td style='padding-right:8px; color:#555;'>{name}</td><td>{value}</td></tr>" for name, value in rows
    )
    description = card.get("description")
    intro = f"<p style='margin-top:2px;'>{html.escape(str(description))}</p>" if description else ""
    return f"<b>{title}</b>{intro}<table cellspacing='0' cellpadding='1'>{body}</table>"


class ModelPanel(QWidget):
    """Built-in model picker, model card and "Open model…" button."""

    builtinRequested = Signal(str)
    openModelRequested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setObjectName("modelPicker")
        self.picker.setToolTip("Built-in models (trained by the workbench's zoo)")
        self.picker.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.open_button = QPushButton("Open model…")
        self.open_button.setToolTip("Open a TorchScript, torch.export (.pt2) or weights file")
        row.addWidget(self.picker, 1)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.card = QLabel()
        self.card.setObjectName("modelCard")
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.card, 1)

        self._filling = False
        self._fill_picker()
        self.picker.activated.connect(self._picked)
        self.open_button.clicked.connect(self.openModelRequested)
        state.modelChanged.connect(self._show_model)
        state.busyChanged.connect(self._show_busy)
        theme.theme_signals().changed.connect(self._restyle)
        self._show_model(state.model)

    def _restyle(self) -> None:
        self._show_model(self.state.model)

    def _show_busy(self, busy: bool) -> None:
        # the card stays readable; only loading is blocked while an attack runs
        self.picker.setEnabled(not busy)
        self.open_button.setEnabled(not busy)

    def _fill_picker(self) -> None:
        self._filling = True
        self.picker.clear()
        for card in _builtin_cards():
            accuracy = (card.get("metrics") or {}).get("test_accuracy")
            suffix = f" — {100 * float(accuracy):.1f} %" if accuracy is not None else ""
            self.picker.addItem(f"{card.get('title') or card['id']}{suffix}", card["id"])
        self._filling = False

    def _picked(self, index: int) -> None:
        model_id = self.picker.itemData(index)
        if model_id and model_id != FILE_ITEM and (self.state.model is None or self.state.model.model_id != model_id):
            self.builtinRequested.emit(model_id)

    def _show_model(self, model) -> None:
        self._filling = True
        try:
            file_index = self.picker.findData(FILE_ITEM)
            if file_index >= 0:
                self.picker.removeItem(file_index)
            index = self.picker.findData(model.model_id) if model is not None else -1
            if model is not None and index < 0:
                self.picker.addItem(f"File: {model.model_id}", FILE_ITEM)
                index = self.picker.count() - 1
            self.picker.setCurrentIndex(index)
        finally:
            self._filling = False
        source = self.state.model_source
        source_text = source.source if source is not None and not source.builtin else ""
        self.card.setText(card_html(model, source_text))


def main() -> int:  # pragma: no cover - manual development aid
    from workbench.core.loaders import load_model
    from workbench.gui.state import ModelSource

    app = QApplication.instance() or QApplication(sys.argv)
    state = AppState()
    panel = ModelPanel(state)
    panel.builtinRequested.connect(lambda mid: state.set_model(load_model(mid), ModelSource(mid)))
    panel.openModelRequested.connect(lambda: print("open model requested"))
    cards = _builtin_cards()
    if cards:
        state.set_model(load_model(cards[0]["id"]), ModelSource(cards[0]["id"]))
    panel.setWindowTitle("ModelPanel demo")
    panel.resize(380, 300)
    panel.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
