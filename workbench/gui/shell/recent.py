"""Recent files: the File ▸ Recent menu, kept in QSettings (``recent``, a JSON list, newest
first). A model is remembered with how it was opened (architecture, input size, normalisation,
labels file), so that reopening it needs no dialog."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from workbench.gui.state import ModelSource

RECENT_LIMIT = 10
KIND_LABELS = {"model": "Model", "folder": "Folder", "images": "Image"}


class RecentFiles:
    """The recent entries in ``settings`` and their ``menu``; ``open_model(ModelSource)`` and
    ``open_data(path)`` reopen one, ``show_error(text)`` says when it is gone."""

    def __init__(self, settings: QSettings, menu: QMenu, *, open_model: Callable[[ModelSource], Any],
                 open_data: Callable[[str], Any], show_error: Callable[[str], Any]) -> None:
        self.settings = settings
        self.menu = menu
        self._open_model, self._open_data, self._show_error = open_model, open_data, show_error
        self.rebuild_menu()

    def entries(self) -> list[dict]:
        items = json_value(self.settings.value("recent"))
        return [item for item in items if isinstance(item, dict) and "path" in item] if isinstance(items, list) else []

    def remember(self, kind: str, path: str, source: ModelSource | None = None) -> None:
        entry: dict[str, Any] = {"kind": kind, "path": str(path)}
        if source is not None:
            entry["source"] = {
                "arch": source.arch, "input_size": list(source.input_size) if source.input_size else None,
                "channels": source.channels, "mean": list(source.mean) if source.mean else None,
                "std": list(source.std) if source.std else None, "labels_file": source.labels_file,
            }
        items = [item for item in self.entries() if not (item["path"] == entry["path"] and item.get("kind") == kind)]
        items.insert(0, entry)
        self.settings.setValue("recent", json.dumps(items[:RECENT_LIMIT]))
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        self.menu.clear()
        items = self.entries()
        for item in items:
            label = KIND_LABELS.get(item.get("kind"), "File")
            action = self.menu.addAction(f"{label}: {item['path']}")
            action.triggered.connect(lambda _checked=False, entry=item: self.open(entry))
        if not items:
            empty = self.menu.addAction("(nothing opened yet)")
            empty.setEnabled(False)
        else:
            self.menu.addSeparator()
            self.menu.addAction("Clear list", self.clear)

    def clear(self) -> None:
        self.settings.remove("recent")
        self.rebuild_menu()

    def open(self, entry: dict) -> None:
        path, kind = entry["path"], entry.get("kind")
        if not Path(path).exists():
            self._show_error(f"{path} no longer exists.")
            return
        if kind == "model":
            extra = entry.get("source") or {}
            size = extra.get("input_size")
            source = ModelSource(
                path, arch=extra.get("arch"), input_size=tuple(size) if size else None,
                channels=extra.get("channels"), mean=tuple(extra["mean"]) if extra.get("mean") else None,
                std=tuple(extra["std"]) if extra.get("std") else None, labels_file=extra.get("labels_file"),
            )
            self._open_model(source)
        else:
            self._open_data(path)


def json_value(value: Any) -> Any:
    """A stored JSON string decoded (None if it is not JSON); other values as they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
