"""Gallery: items, selection by mouse click, predictions, drops."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from workbench.gui.widgets.gallery import Gallery, item_text


@pytest.fixture()
def gallery(qtbot):
    g = Gallery()
    qtbot.addWidget(g)
    g.resize(560, 480)
    g.show()
    qtbot.waitExposed(g)
    images = np.random.default_rng(0).random((6, 28, 28)).astype(np.float32)
    g.set_items(images, ["Coat", "Shirt", "Bag", None, "Coat", "Dress"],
                [("Coat", 0.97), ("Coat", 0.64), ("Bag", 0.99), ("Sandal", 0.51), ("Coat", 0.9), ("Dress", 0.8)])
    return g


def test_items_show_truth_prediction_and_confidence(gallery):
    assert gallery.count() == 6
    assert gallery.item_text(0) == "Coat → Coat 97 % ✓"
    assert gallery.item_text(1) == "Shirt → Coat 64 % ✗"
    assert gallery.item_text(3) == "#3 → Sandal 51 %"
    assert "4/5 correct" in gallery.summary.text()
    assert item_text("Bag", None) == "Bag"


def test_click_selects_and_emits_current_changed(qtbot, gallery):
    rect = gallery.item_rect(2)
    assert rect.isValid() and gallery.viewport().rect().intersects(rect)
    with qtbot.waitSignal(gallery.currentChanged, timeout=1000) as blocker:
        qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2] and gallery.current() == 2
    with qtbot.waitSignal(gallery.currentChanged, timeout=1000) as blocker:
        qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=gallery.item_rect(4).center())
    assert blocker.args == [4]
    # Clicking the current item again does not emit.
    with qtbot.assertNotEmitted(gallery.currentChanged):
        qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=gallery.item_rect(4).center())


def test_set_current_and_keyboard(qtbot, gallery):
    with qtbot.waitSignal(gallery.currentChanged, timeout=1000) as blocker:
        gallery.set_current(1)
    assert blocker.args == [1]
    gallery.view.setFocus()
    with qtbot.waitSignal(gallery.currentChanged, timeout=1000) as blocker:
        qtbot.keyClick(gallery.view, Qt.Key.Key_Right)
    assert blocker.args == [2]
    with pytest.raises(IndexError):
        gallery.set_current(99)


def test_predictions_update_and_validation(gallery):
    gallery.set_predictions([("Shirt", 0.5)] * 6)
    assert gallery.item_text(1) == "Shirt → Shirt 50 % ✓"
    assert "1/5 correct" in gallery.summary.text()
    gallery.set_predictions(None)
    assert gallery.item_text(0) == "Coat"
    with pytest.raises(ValueError):
        gallery.set_items(np.zeros((2, 4, 4)), ["a"], None)
    gallery.set_items(np.zeros((0, 4, 4)), [], None)
    assert gallery.count() == 0 and "No images" in gallery.summary.text()


def test_rgb_and_channels_first_images(gallery):
    gallery.set_items(np.zeros((2, 3, 16, 16), np.float32), ["a", "b"], None)
    gallery.set_items(np.zeros((2, 16, 16, 3), np.uint8), ["a", "b"], [("a", 1.0), ("a", 1.0)])
    assert gallery.count() == 2
    gallery.grab()  # paints every visible item


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDrag*Event(QPoint, …) in PySide6 6.12
def test_drop_files_emits_paths(qtbot, gallery, tmp_path):
    files = [tmp_path / "a.png", tmp_path / "folder"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    none, plain = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, none, plain)
    QApplication.sendEvent(gallery.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(QPoint(24, 24), Qt.DropAction.CopyAction, mime, none, plain)
    QApplication.sendEvent(gallery.viewport(), move)
    drop = QDropEvent(QPointF(24, 24), Qt.DropAction.CopyAction, mime, none, plain)
    with qtbot.waitSignal(gallery.filesDropped, timeout=1000) as blocker:
        QApplication.sendEvent(gallery.viewport(), drop)
    assert blocker.args == [[str(p) for p in files]]
    # Refused while the window is busy, and text without files is always refused.
    gallery.setAcceptDrops(False)
    assert not gallery.viewport().acceptDrops()
    gallery.setAcceptDrops(True)
    text = QMimeData()
    text.setText("hello")
    refused = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, text, none, plain)
    QApplication.sendEvent(gallery.viewport(), refused)
    assert not refused.isAccepted()
