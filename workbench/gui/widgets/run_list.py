"""``RunList``: the finished runs of a session; selecting one asks the window to show it.

The list only displays titles and ids; the runs themselves (their records and final views)
are kept by the application, which looks them up by the id that :attr:`RunList.runSelected`
carries. Its context menu offers "Export printable…" (:attr:`RunList.printableRequested`): the
perturbed region of an eyeglass or sticker run, at a physical size, for the printer.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QMenu, QWidget

from workbench.gui import theme

_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class RunList(QListWidget):
    """A list of finished runs, newest at the bottom. Emits ``runSelected(run_id)`` when the
    user (or :meth:`select_run`) makes another run current."""

    runSelected = Signal(int)
    printableRequested = Signal(int)  # a run id, from the context menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setUniformItemSizes(True)
        self.setToolTip("Finished runs: select one to show its final views")
        self.currentItemChanged.connect(self._on_current)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()

    def add_run(self, title: str, run_id: int, *, success: bool | None = None, select: bool = False) -> None:
        """Append a run titled e.g. "#3 PGD ε=0.1 — success 10/10". ``success`` colours a mark
        in front (green ✓ / red ✗); ``select`` makes it current (emitting runSelected)."""
        existing = self._item(run_id)
        item = existing or QListWidgetItem()
        mark = "" if success is None else ("✓ " if success else "✗ ")
        item.setText(mark + title)
        item.setToolTip(title)
        item.setData(_ID_ROLE, int(run_id))
        if success is not None:
            item.setForeground(QColor(theme.COLOR_RIGHT if success else theme.COLOR_WRONG))
        if existing is None:
            self.addItem(item)
        self.scrollToItem(item)
        if select:
            self.setCurrentItem(item)

    def remove_run(self, run_id: int) -> None:
        item = self._item(run_id)
        if item is not None:
            self.takeItem(self.row(item))

    def clear_runs(self) -> None:
        self.clear()

    def select_run(self, run_id: int) -> None:
        item = self._item(run_id)
        if item is not None:
            self.setCurrentItem(item)

    def run_ids(self) -> list[int]:
        return [int(self.item(i).data(_ID_ROLE)) for i in range(self.count())]

    def titles(self) -> list[str]:
        return [self.item(i).toolTip() for i in range(self.count())]

    def current_run(self) -> int | None:
        item = self.currentItem()
        return None if item is None else int(item.data(_ID_ROLE))

    def context_menu(self, run_id: int) -> QMenu:
        """The menu of a run's row (what right-clicking it opens)."""
        menu = QMenu(self)
        printable = menu.addAction("Export printable…")
        printable.setToolTip("Save the perturbed region (the mask) at a physical size, to print")
        printable.triggered.connect(lambda _=False: self.printableRequested.emit(run_id))
        return menu

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt API
        item = self.itemAt(event.pos())
        if item is None:
            return
        self.setCurrentItem(item)
        self.context_menu(int(item.data(_ID_ROLE))).exec(event.globalPos())

    # -- internals -------------------------------------------------------------------------------
    def _item(self, run_id: int) -> QListWidgetItem | None:
        for i in range(self.count()):
            if int(self.item(i).data(_ID_ROLE)) == int(run_id):
                return self.item(i)
        return None

    def _on_current(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.runSelected.emit(int(current.data(_ID_ROLE)))

    def _restyle(self) -> None:
        self.setFont(theme.font())


def demo() -> RunList:
    runs = RunList()
    runs.add_run("#1 FGSM ε=0.03 — success 4/10", 1, success=False)
    runs.add_run("#2 PGD ε=0.03 — success 9/10", 2, success=True)
    runs.add_run("#3 PGD ε=0.1 — success 10/10", 3, success=True, select=True)
    runs.runSelected.connect(lambda run_id: print("run selected:", run_id))
    runs.resize(360, 160)
    return runs


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("RunList demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
