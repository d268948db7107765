"""The live views: triptych, confidence curves, top-k bars, boundary slice, run list, theme."""
from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from workbench.audit.boundary import BoundarySlice
from workbench.core.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.widgets.boundary import BoundaryView, demo_slice
from workbench.gui.widgets.curves import ConfidenceCurves, demo_history, nice_ceil
from workbench.gui.widgets.image_triptych import ImageTriptych, demo_images
from workbench.gui.widgets.run_list import RunList
from workbench.gui.widgets.topk import TopKBars

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# -- triptych ---------------------------------------------------------------------------------------

def test_triptych_shows_perturbation_with_symmetric_scale(qtbot, tmp_path):
    view = ImageTriptych()
    qtbot.addWidget(view)
    view.show()
    original, adversarial = demo_images()
    view.set_images(original, adversarial, ("Original: Coat 97 %", "Adversarial: Shirt 64 %"), success=True)
    np.testing.assert_allclose(view.perturbation_array(), adversarial - original, atol=1e-7)
    assert view.scale() == pytest.approx(0.1) and view.scale_label() == "±0.10"
    rgb = view.perturbation_rgb()
    assert rgb.shape == (28, 28, 3) and rgb.dtype == np.uint8
    delta = view.perturbation_array()
    assert (rgb[delta == 0] == theme.diverging_lut()[128]).all()  # zero is the middle colour
    assert view.adversarial_panel.title.startswith("Adversarial: Shirt")
    path = view.adversarial_png(tmp_path / "adv.png")
    assert QImage(str(path)).size().width() == 28
    big = view.perturbation_png(tmp_path / "pert.png", scale=8)
    assert QImage(str(big)).width() == 28 * 8
    view.grab()
    view.clear_adversarial()
    assert view.adversarial_array() is None
    with pytest.raises(WorkbenchError):
        view.adversarial_png(tmp_path / "none.png")
    with pytest.raises(WorkbenchError):
        view.perturbation_png(tmp_path / "none.png")
    view.grab()


def test_triptych_colour_images_and_fixed_scale(qtbot):
    view = ImageTriptych()
    qtbot.addWidget(view)
    x = np.full((3, 16, 16), 0.5, np.float32)
    adv = x.copy()
    adv[0, 2, 3] = 0.55
    adv[2, 5, 5] = 0.45
    view.set_fixed_scale(0.1)
    view.set_images(x, adv, ("a", "b"))
    assert view.scale() == 0.1
    values = theme.signed_channel(view.perturbation_array())
    assert values[2, 3] == pytest.approx(0.05) and values[5, 5] == pytest.approx(-0.05)
    with pytest.raises(ValueError):
        view.set_images(x, adv[:, :8], ("a", "b"))


def test_theme_helpers():
    assert len(theme.CLASS_COLORS) >= 10
    colors = theme.class_colors_rgb(14)
    assert len({tuple(c) for c in colors}) == 14
    lut = theme.diverging_lut()
    assert lut.shape == (256, 3) and lut[0, 2] > lut[0, 0] and lut[-1, 0] > lut[-1, 2]
    assert theme.nice_scale(0.0734) == pytest.approx(0.074)
    assert theme.nice_scale(0.1 + 1e-7) == pytest.approx(0.1)
    assert theme.format_scale(0.1) == "±0.10"
    image, scale = theme.perturbation_rgb(np.zeros((4, 4)))
    assert scale == 0 and (image == lut[128]).all()


# -- curves ---------------------------------------------------------------------------------------

def test_curves_hold_one_point_per_iteration(qtbot):
    curves = ConfidenceCurves()
    qtbot.addWidget(curves)
    curves.show()
    history = demo_history(37, targeted=False)
    curves.set_history(history)
    assert curves.point_count() == 37
    for key in ("p_true", "p_other", "loss", "linf", "l2", "l0"):
        x, y = curves.curve_data(key)
        assert len(x) == len(y) == 37
        np.testing.assert_allclose(y, history[key])
    assert len(curves.curve_data("p_target")[0]) == 0
    assert "target" not in curves.titles[0].text()
    # Growing histories (more than the first buffer) and a target curve.
    long = demo_history(700, targeted=True)
    curves.set_history(long)
    assert curves.point_count() == 700 and len(curves.curve_data("p_target")[1]) == 700
    assert "target" in curves.titles[0].text()
    curves.set_history({k: v[:5] for k, v in long.items()})
    assert curves.point_count() == 5 and len(curves.curve_data("loss")[0]) == 5
    curves.set_x_label("queries")
    assert "queries" in curves.norm_plot.getAxis("bottom").labelText
    curves.clear()
    assert curves.point_count() == 0 and len(curves.curve_data("p_true")[0]) == 0
    with pytest.raises(ValueError):
        curves.set_history({"iteration": np.arange(3), "loss": np.arange(4)})
    curves.grab()


def test_curves_with_nan_and_missing_keys(qtbot):
    curves = ConfidenceCurves()
    qtbot.addWidget(curves)
    curves.set_history({"iteration": np.arange(1, 4), "p_true": [0.9, np.nan, 0.2], "p_target": [np.nan] * 3})
    assert curves.point_count() == 3
    assert len(curves.curve_data("loss")[0]) == 0
    curves.grab()


def test_nice_ceil_rounds_up_to_1_2_5():
    assert [nice_ceil(v) for v in (0.0734, 0.1, 0.10000002, 1.0, 1.2, 2.01, 137.0, 999.0)] == [
        0.1, 0.1, 0.1, 1.0, 2.0, 5.0, 200.0, 1000.0,
    ]
    assert nice_ceil(0.0) == nice_ceil(-1.0) == nice_ceil(float("nan")) == 0.0


def pgd_like_history(n: int) -> dict[str, np.ndarray]:
    """A history shaped like a real L∞ PGD (ε = 0.1, in float32: 0.10000002), 200 steps."""
    t = np.arange(1, n + 1, dtype=np.float64)
    return {
        "iteration": t,
        "p_true": np.exp(-t / 10), "p_other": 1 - np.exp(-t / 10),
        "loss": 0.11 + 8.5 * (1 - np.exp(-t / 60)),
        "linf": np.full(n, np.float64(np.float32(0.1))),
        "l2": 1.45 + 0.55 * t / 200,
        "l0": 700 + 6 * np.sin(t),
    }


def y_range(curves, key):
    view = {"loss": curves.loss_plot.getViewBox(), "linf": curves.norm_plot.getViewBox(),
            "l2": curves.l2_box, "l0": curves.l0_box}[key]
    return tuple(view.viewRange()[1])


def test_curves_axes_stay_put_while_a_run_grows(qtbot):
    curves = ConfidenceCurves()
    qtbot.addWidget(curves)
    curves.resize(430, 390)
    curves.show()
    full = pgd_like_history(200)
    x_ranges, loss_ranges = set(), []
    curves.clear()
    for n in range(1, 201, 5):
        curves.set_x_extent(200)  # the run's length is known: the x axis never moves
        curves.set_history({k: v[:n] for k, v in full.items()}, live=True)
        x_ranges.add(tuple(np.round(curves.prob_plot.getViewBox().viewRange()[0], 9)))
        loss_ranges.append(y_range(curves, "loss"))
    assert len(x_ranges) == 1
    (x_low, x_high), = x_ranges
    assert x_low <= 0 and 200 <= x_high <= 205
    # the loss axis only grows, in a few round steps, and holds every point
    tops = [high for _, high in loss_ranges]
    assert tops == sorted(tops) and len(set(tops)) <= 5
    assert loss_ranges[-1][0] <= 0 and 8.6 < loss_ranges[-1][1] <= 10.6
    # norms start at 0 and end at round numbers: ε = 0.1 is the top of the L∞ axis, not 0.12
    for key, top in (("linf", 0.1), ("l2", 2.0), ("l0", 1000.0)):
        low, high = y_range(curves, key)
        assert low < 0 < 0.1 * top and top < high <= 1.06 * top, (key, low, high)
    # a history that does not continue the shown one is fitted afresh: the axes shrink
    curves.set_x_extent(None)
    curves.set_history({k: v[:20] / (1 if k == "iteration" else 4) for k, v in full.items()})
    assert y_range(curves, "loss")[1] < 2.2
    assert curves.prob_plot.getViewBox().viewRange()[0][1] < 21


def test_live_curves_are_drawn_without_antialiasing(qtbot):
    import pyqtgraph as pg

    curves = ConfidenceCurves()
    qtbot.addWidget(curves)
    history = pgd_like_history(50)
    curves.set_history(history, live=True)
    assert not curves.curve_true.curve.opts["antialias"]
    curves.set_history(history)  # the finished run: as the application draws plots
    assert curves.curve_true.curve.opts["antialias"] == bool(pg.getConfigOption("antialias"))


def test_curve_axes_keep_their_labels_readable_in_presentation_mode(qtbot):
    from PySide6.QtGui import QPainter, QPicture

    curves = ConfidenceCurves()
    qtbot.addWidget(curves)
    try:
        theme.apply_presentation(True)
        curves.resize(480, 420)
        curves.show()
        qtbot.waitExposed(curves)
        curves.set_x_extent(200)
        curves.set_history(pgd_like_history(150), live=True)
        qtbot.wait(50)
        linf_axis = curves.norm_plot.getAxis("left")
        for axis in (linf_axis, curves.loss_plot.getAxis("left"), curves.norm_plot.getAxis("right"), curves.l0_axis):
            picture = QPicture()
            painter = QPainter(picture)
            painter.setFont(axis.style["tickFont"])
            _, _, texts = axis.generateDrawSpecs(painter)
            painter.end()
            labels = [text for _, _, text in texts]
            rects = [rect for rect, _, _ in texts]
            assert "0" in labels and len(labels) >= 2, labels  # the ends are kept: 0 …
            if axis is linf_axis:
                assert labels[-1] in ("0.1", "0.10"), labels  # … and ε
            for a, b in itertools.pairwise(rects):  # labels do not overlap
                assert not a.intersects(b), labels
            width = axis.width()
            for rect in rects:  # nor are they clipped by the axis ("0.10" shown as "10")
                assert rect.left() >= -0.5 and rect.right() <= width + 0.5, (labels, rect, width)
        # the L0 axis' label fits beside the plot instead of running into the next one
        assert curves.l0_axis.label.boundingRect().width() <= curves.norm_plot.getViewBox().height()
    finally:
        theme.apply_presentation(False)


# -- top-k ----------------------------------------------------------------------------------------

def test_topk_order_and_highlights(qtbot):
    bars = TopKBars()
    qtbot.addWidget(bars)
    probs = np.array([0.05, 0.01, 0.1, 0.02, 0.3, 0.0, 0.45, 0.03, 0.02, 0.02])
    bars.set_probabilities(probs, LABELS, true_index=4, target_index=None, k=3)
    assert [label for label, _ in bars.rows()] == ["Shirt", "Coat", "Pullover"]
    assert [p for _, p in bars.rows()] == pytest.approx([0.45, 0.3, 0.1])
    rows = bars.bar_rows()
    assert rows[1].is_true and not rows[0].is_true
    # True and target classes outside the top k are appended.
    bars.set_probabilities(probs, LABELS, true_index=1, target_index=8, k=2)
    assert [label for label, _ in bars.rows()] == ["Shirt", "Coat", "Trouser", "Bag"]
    assert bars.bar_rows()[2].extra and bars.bar_rows()[3].is_target
    bars.grab()
    with pytest.raises(ValueError):
        bars.set_probabilities(probs, LABELS[:3], 0)
    bars.clear()
    assert bars.rows() == []


# -- boundary ---------------------------------------------------------------------------------------

def test_boundary_view_accepts_a_slice(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.show()
    s = demo_slice(31)
    assert isinstance(s, BoundarySlice)
    view.set_slice(s)
    assert view.current_slice() is s
    assert set(view.legend_classes()) == {"Pullover", "Coat", "Shirt"}
    assert "Coat" in view.legend.text()
    image = view.image.image
    assert image.shape == (31, 31, 3) and image.dtype == np.uint8
    # The class colour of the centre is the palette colour of the centre's class.
    centre_class = int(s.class_map[15, 15])
    expected = theme.class_colors_rgb(10)[centre_class].astype(int)
    assert np.abs(image[15, 15].astype(int) - expected).max() <= 255 * 0.7
    x, y = view.path.getData()
    assert len(x) == len(s.path)
    assert "along perturbation" in view.plot.getAxis("bottom").labelText
    assert "random direction in mask" in view.plot.getAxis("left").labelText
    assert "iteration 25" in view.title.text()
    view.grab()
    view.set_slice(None)
    assert view.current_slice() is None and view.legend_classes() == []


def test_boundary_view_from_the_engine(qtbot):
    import torch
    from torch import nn

    from workbench.audit.boundary import decision_slice
    from workbench.core.model import ModelHandle
    from workbench.core.spec import InputSpec

    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    model = ModelHandle(module, spec=InputSpec(1, 4, 4), labels=["a", "b", "c"], model_id="t", device="cpu",
                        channels_last=False)
    x = torch.rand(1, 1, 4, 4)
    s = decision_slice(model, x, torch.rand(1, 1, 4, 4) * 0.3, None, torch.Generator().manual_seed(0),
                       resolution=9, path=torch.cat([x, x + 0.1]))
    view = BoundaryView()
    qtbot.addWidget(view)
    view.set_slice(s)
    assert len(view.path.getData()[0]) == 2


# -- run list ---------------------------------------------------------------------------------------

def test_run_list_selection_by_click(qtbot):
    runs = RunList()
    qtbot.addWidget(runs)
    runs.show()
    qtbot.waitExposed(runs)
    runs.add_run("#1 FGSM ε=0.03 — success 4/10", 1, success=False)
    runs.add_run("#2 PGD ε=0.1 — success 10/10", 2, success=True)
    assert runs.run_ids() == [1, 2]
    rect = runs.visualItemRect(runs.item(1))
    with qtbot.waitSignal(runs.runSelected, timeout=1000) as blocker:
        qtbot.mouseClick(runs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2] and runs.current_run() == 2
    with qtbot.waitSignal(runs.runSelected, timeout=1000) as blocker:
        runs.select_run(1)
    assert blocker.args == [1]
    runs.add_run("#2 PGD ε=0.1 — renamed", 2)  # same id: updated, not duplicated
    assert runs.run_ids() == [1, 2] and runs.titles()[1].endswith("renamed")
    runs.remove_run(1)
    assert runs.run_ids() == [2]


# -- every widget runs alone, in both display modes --------------------------------------------------

@pytest.mark.parametrize("name", ["canvas", "canvas_toolbar", "gallery", "image_triptych", "curves", "topk", "boundary", "run_list"])
def test_demos_render_in_normal_and_presentation_mode(qtbot, name):
    module = importlib.import_module(f"workbench.gui.widgets.{name}")
    widget = module.demo()
    qtbot.addWidget(widget)
    widget.show()
    try:
        assert not widget.grab().isNull()
        theme.apply_presentation(True)
        assert theme.is_presentation() and theme.style().font_pt > theme.NORMAL.font_pt
        assert not widget.grab().isNull()
    finally:
        theme.apply_presentation(False)
    assert not theme.is_presentation()
