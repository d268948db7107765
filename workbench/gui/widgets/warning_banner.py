"""``WarningBanner``: a yellow strip listing warnings about a result, shown wherever robustness
results appear (the evaluation warnings of :mod:`workbench.defenses.evaluation_warnings`, after
Carlini et al., "On Evaluating Adversarial Robustness", 2019). It hides itself when there is
nothing to warn about and, unlike the window's message bar, cannot be dismissed: the warning
belongs to the result it sits next to.

Run alone for development: ``python -m workbench.gui.widgets.warning_banner``.
"""
from __future__ import annotations

import html
import sys
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QWidget

from workbench.gui import theme
from workbench.gui.dialogs import MessageBar


class WarningBanner(QFrame):
    """Warnings as a yellow banner (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningBanner")
        background, foreground, border = MessageBar.STYLES["warning"]
        self.setStyleSheet(
            f"QFrame#warningBanner {{ background: {background}; border: 2px solid {border}; border-radius: 4px; }}"
            f" QLabel {{ color: {foreground}; background: transparent; }}"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.icon = QLabel("⚠")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setObjectName("warningText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        self._warnings: list[str] = []
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self.setVisible(False)

    def set_warnings(self, warnings: Sequence[str]) -> None:
        """Show these sentences (one paragraph each); none hides the banner."""
        self._warnings = [w for w in warnings if w]
        self.label.setText("<br><br>".join(html.escape(w) for w in self._warnings))
        self.setVisible(bool(self._warnings))

    def warnings(self) -> list[str]:
        return list(self._warnings)

    def _restyle(self) -> None:
        self.label.setFont(theme.font())
        self.icon.setFont(theme.font(theme.style().title_pt * 1.4, bold=True))


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    banner = WarningBanner()
    banner.set_warnings([
        "The defense is randomized but the attack used no EOT: its gradients follow one random draw.",
        "A defense step gives no useful gradient, and the attack did not use BPDA.",
    ])
    banner.resize(520, 120)
    banner.setWindowTitle("WarningBanner demo")
    banner.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
