"""The Qt-free undo history of masks (the canvas's Ctrl+Z)."""
from __future__ import annotations

import pytest

from workbench.core.mask_history import MaskHistory
from workbench.core.masks import Mask, Rect


def masks(n: int) -> list[Mask]:
    return [Mask().add(Rect(i, i, 2, 2)) for i in range(n)]


def test_undo_redo_and_a_new_edit_drops_the_redo():
    history = MaskHistory()
    assert history.current == Mask() and not history.can_undo() and not history.can_redo()
    a, b, c = masks(3)
    history.record(a)
    history.record(b)
    assert history.undo() and history.current == a and history.can_redo()
    assert history.redo() and history.current == b and not history.redo()
    assert history.undo() and history.undo() and history.current == Mask() and not history.undo()
    history.redo()
    history.record(c)  # after an undo: b can no longer be redone
    assert history.current == c and not history.can_redo() and len(history) == 3
    history.undo()
    assert history.current == a


def test_reset_and_limit():
    history = MaskHistory(limit=3)
    for m in masks(5):
        history.record(m)
    assert len(history) == 3 and history.current == masks(5)[4]
    assert history.undo() and history.undo() and not history.can_undo()
    assert history.current == masks(5)[2]  # the oldest ones went
    start = masks(1)[0]
    history.reset(start)
    assert history.current == start and len(history) == 1 and not history.can_redo()
    assert MaskHistory(start).current == start
    with pytest.raises(ValueError):
        MaskHistory(limit=0)
