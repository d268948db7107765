"""Drag and drop on the window: local files and folders dropped anywhere open as a model (the
Open-model dialog), a folder of images, or image files; refused while a run is in progress."""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QTimer


class FileDrops(QObject):
    """An event filter for ``target`` that accepts local files unless ``busy()`` and hands the
    dropped paths to ``open_paths`` once the drop has returned."""

    def __init__(self, target, busy: Callable[[], bool], open_paths: Callable[[Sequence[str]], None]) -> None:
        super().__init__(target)
        self._busy, self._open_paths = busy, open_paths
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            data = event.mimeData()
            if data.hasUrls() and not self._busy() and any(u.isLocalFile() for u in data.urls()):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.Drop:
            paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
            event.acceptProposedAction()
            # after the drop returns, so that the source application is not kept waiting
            QTimer.singleShot(0, lambda: self._open_paths(paths))
            return True
        return False
