"""A registry of named implementations (attacks, defenses, …) that forms and the CLI list."""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from workbench.core.errors import WorkbenchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps ids to registered classes, keeping registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        """Register ``item`` under its ``id`` attribute; usable as a class decorator."""
        key = getattr(item, "id")
        if key in self._items and self._items[key] is not item:
            raise ValueError(f"{self.kind} id '{key}' is registered twice")
        self._items[key] = item
        return item

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise WorkbenchError(f"unknown {self.kind} '{key}' (known: {known})") from None

    def ids(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def filter(self, predicate: Callable[[T], bool]) -> list[T]:
        return [item for item in self if predicate(item)]
