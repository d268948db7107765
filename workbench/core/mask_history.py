"""``MaskHistory``: the undo history of a mask, a list of immutable :class:`~workbench.core.masks.Mask` values.

Every edit records a new ``Mask`` (masks are immutable, so the history shares them); undo and
redo move through the list; an edit after an undo drops what could have been redone. The oldest
entries go once there are more than ``limit``.
"""
from __future__ import annotations

from workbench.core.masks import Mask

MAX_HISTORY = 200


class MaskHistory:
    """The masks a canvas went through, and where in them it is now."""

    def __init__(self, start: Mask | None = None, *, limit: int = MAX_HISTORY) -> None:
        if limit < 1:
            raise ValueError(f"a mask history keeps at least one mask (limit {limit})")
        self._limit = limit
        self._masks: list[Mask] = []
        self._index = 0
        self.reset(Mask() if start is None else start)

    def reset(self, mask: Mask) -> None:
        """Start again from ``mask``: nothing to undo or redo."""
        self._masks = [mask]
        self._index = 0

    def record(self, mask: Mask) -> None:
        """``mask`` becomes the current mask, after the current one; redo is no longer possible."""
        del self._masks[self._index + 1 :]
        self._masks.append(mask)
        if len(self._masks) > self._limit:
            del self._masks[0]
        self._index = len(self._masks) - 1

    @property
    def current(self) -> Mask:
        return self._masks[self._index]

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._masks) - 1

    def undo(self) -> bool:
        """Go back one mask; False (and no change) when there is none."""
        if not self.can_undo():
            return False
        self._index -= 1
        return True

    def redo(self) -> bool:
        """Go forward one mask; False (and no change) when there is none."""
        if not self.can_redo():
            return False
        self._index += 1
        return True

    def __len__(self) -> int:
        return len(self._masks)
