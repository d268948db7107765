"""``BoundaryView``: a decision-boundary slice with the attack's path on it.

The class map of a :class:`workbench.audit.boundary.BoundarySlice` is drawn as an image over
the plane, each class in its theme palette colour, faded towards white where the model is
unsure (confidence near 1/K), so that the boundaries stand out. The attack's path is a black
polyline on a white halo from the clean image (white circle) to the current adversarial image
(black star). A legend under the plot explains the markers and names the classes that appear.

Coordinates are in units of the perturbation's L2 norm: the adversarial image sits at (1, 0).
"""
from __future__ import annotations

import html
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from workbench.gui import theme


def class_map_rgb(class_map: np.ndarray, confidence: np.ndarray | None, num_classes: int) -> np.ndarray:
    """R×R×3 uint8: the palette colour of each class, blended with white by uncertainty (a
    point with confidence 1 has the full colour; one at chance level 1/K is 70 % white)."""
    colors = theme.class_colors_rgb(max(num_classes, int(class_map.max(initial=0)) + 1)).astype(np.float32)
    rgb = colors[np.clip(class_map, 0, len(colors) - 1)]
    if confidence is not None and num_classes > 1:
        chance = 1.0 / num_classes
        certainty = np.clip((confidence - chance) / (1.0 - chance), 0.0, 1.0)[..., None]
        fade = 0.7 * (1.0 - certainty)
        rgb = rgb * (1.0 - fade) + 255.0 * fade
    return np.ascontiguousarray(np.round(rgb).astype(np.uint8))


class BoundaryView(QWidget):
    """Shows one :class:`~workbench.audit.boundary.BoundarySlice` (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slice = None
        self._axis_labels: tuple | None = None  # the (bottom, left, size) shown
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("background: white; color: #111111; padding: 2px;")
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.axes_lines = [
            pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((0, 0, 0, 70), width=1)),
            pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((0, 0, 0, 70), width=1)),
        ]
        for line in self.axes_lines:
            self.plot.addItem(line)
        self.path_halo = pg.PlotDataItem()
        self.path = pg.PlotDataItem()
        self.start = pg.ScatterPlotItem()
        self.end = pg.ScatterPlotItem()
        for item in (self.path_halo, self.path, self.start, self.end):
            self.plot.addItem(item)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setStyleSheet("background: white; color: #111111; padding: 3px;")
        self.setToolTip(
            "The model's prediction over a plane through the image: x + a·δ + b·v, with δ the "
            "perturbation and v a random direction inside the mask. The clean image is at (0, 0), "
            "the adversarial one at (1, 0). Colours fade where the model is unsure. Points are "
            "clipped to valid pixel values, which bends the plane far from the centre."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self.clear()

    # -- API -------------------------------------------------------------------------------------
    def set_slice(self, slice_data) -> None:
        """Show a :class:`~workbench.audit.boundary.BoundarySlice` (None clears the view)."""
        if slice_data is None:
            self.clear()
            return
        self._slice = slice_data
        class_map = np.asarray(slice_data.class_map)
        confidence = None if slice_data.confidence is None else np.asarray(slice_data.confidence, dtype=np.float32)
        labels = list(slice_data.labels)
        num_classes = max(len(labels), int(class_map.max(initial=0)) + 1)
        self.image.setImage(class_map_rgb(class_map, confidence, num_classes), levels=(0, 255), autoLevels=False)
        alphas, betas = np.asarray(slice_data.alphas, float), np.asarray(slice_data.betas, float)
        da = (alphas[-1] - alphas[0]) / max(len(alphas) - 1, 1)
        db = (betas[-1] - betas[0]) / max(len(betas) - 1, 1)
        rect = QRectF(alphas[0] - da / 2, betas[0] - db / 2, alphas[-1] - alphas[0] + da, betas[-1] - betas[0] + db)
        self.image.setRect(rect)
        path = np.asarray(slice_data.path, dtype=float).reshape(-1, 2)
        if len(path):
            self.path_halo.setData(path[:, 0], path[:, 1])
            self.path.setData(path[:, 0], path[:, 1])
            self.start.setData([path[0, 0]], [path[0, 1]])
            self.end.setData([path[-1, 0]], [path[-1, 1]])
        else:
            self._clear_path()
        self.plot.setRange(rect=rect, padding=0.0)
        self._set_axis_labels()
        self._set_title()
        self._set_legend(class_map, labels)

    def clear(self) -> None:
        self._slice = None
        self.image.clear()
        self._clear_path()
        _set_text(self.title, self._title_html("Decision boundary", "appears while an attack runs"))
        _set_text(self.legend, "")
        self._set_axis_labels()

    def current_slice(self):
        return self._slice

    def legend_classes(self) -> list[str]:
        """Names of the classes listed in the legend."""
        if self._slice is None:
            return []
        labels = list(self._slice.labels)
        return [labels[c] if c < len(labels) else f"class {c}" for c in np.unique(self._slice.class_map)]

    # -- internals -------------------------------------------------------------------------------
    def _clear_path(self) -> None:
        for item in (self.path_halo, self.path):
            item.setData([], [])
        self.start.setData([], [])
        self.end.setData([], [])

    def _title_html(self, head: str, detail: str = "") -> str:
        s = theme.style()
        detail_html = f"<br><span style='font-size:{s.font_pt:.0f}pt; color:#444444'>{html.escape(detail)}</span>" if detail else ""
        return f"<b style='font-size:{s.title_pt:.0f}pt'>{html.escape(head)}</b>{detail_html}"

    def _set_title(self) -> None:
        s = self._slice
        if s is None:
            return
        bits = [f"image #{s.x_index}"]
        if getattr(s, "final", False):
            bits.append(f"final, after {s.iteration} iterations")
        elif s.iteration:
            bits.append(f"iteration {s.iteration}")
        _set_text(self.title, self._title_html("Decision boundary", ", ".join(bits)))

    def _set_axis_labels(self) -> None:
        s = self._slice
        style = theme.style()
        size = {"font-size": f"{style.font_pt:.0f}pt", "color": "#222222"}
        if s is None:
            bottom = "along perturbation"
        elif getattr(s, "u_is_perturbation", True):
            bottom = f"along perturbation δ (‖δ‖₂ = {s.norm_u:.3g})"
        else:
            bottom = f"random direction (no perturbation yet; unit {s.norm_u:.3g})"
        shown = (bottom, size["font-size"])
        if shown == self._axis_labels:  # a new label re-lays the axis out and repaints it
            return
        self._axis_labels = shown
        self.plot.setLabel("bottom", bottom, **size)
        self.plot.setLabel("left", "random direction in mask", **size)

    def _set_legend(self, class_map: np.ndarray, labels: list[str]) -> None:
        present = [int(c) for c in np.unique(class_map)]
        counts = {c: int((class_map == c).sum()) for c in present}
        present.sort(key=lambda c: -counts[c])
        s = theme.style()
        items = []
        for c in present:
            color = class_color_hex(c, len(labels))
            name = labels[c] if c < len(labels) else f"class {c}"
            items.append(
                f"<span style='color:{color}; font-size:{s.title_pt:.0f}pt'>■</span>&nbsp;"
                f"<span style='font-size:{s.font_pt:.0f}pt'>{html.escape(name).replace(' ', '&nbsp;')}</span>"
            )
        markers = (
            f"<span style='font-size:{s.font_pt:.0f}pt'>○&nbsp;clean&nbsp;&nbsp; ━&nbsp;attack&nbsp;path"
            f"&nbsp;&nbsp; ★&nbsp;adversarial</span>"
        )
        _set_text(self.legend, markers + "<br>" + "&nbsp;&nbsp; ".join(items))

    def _restyle(self) -> None:
        s = theme.style()
        tick_font = theme.font(s.font_pt * 0.9)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setTickFont(tick_font)
            axis.setPen(pg.mkPen("#666666"))
            axis.setTextPen(pg.mkPen("#222222"))
        self.path_halo.setPen(pg.mkPen("#ffffff", width=s.line_width + 3))
        self.path.setPen(pg.mkPen(theme.COLOR_PATH, width=s.line_width))
        self.start.setSymbol("o")
        self.end.setSymbol("star")
        self.start.setSize(s.marker_size + 2)
        self.end.setSize(s.marker_size * 1.8)
        self.start.setBrush(pg.mkBrush("#ffffff"))
        self.start.setPen(pg.mkPen("#111111", width=2))
        self.end.setBrush(pg.mkBrush("#111111"))
        self.end.setPen(pg.mkPen("#ffffff", width=1.5))
        self._axis_labels = None
        for label in (self.title, self.legend):
            label.setMinimumHeight(0)
        if self._slice is not None:
            self.set_slice(self._slice)
        else:
            self._set_axis_labels()
            _set_text(self.title, self._title_html("Decision boundary", "appears while an attack runs"))


def _set_text(label: QLabel, text: str) -> None:
    """Set a label's text unless it shows it already (a rich-text label lays itself out anew,
    and the view around it, for every new text). A shown label keeps at least the height it
    has: a new slice, or clearing for a new run, then repaints the plot instead of resizing it
    twice (:meth:`BoundaryView._restyle` lets the labels shrink again)."""
    if label.text() != text:
        if label.isVisible():
            label.setMinimumHeight(max(label.minimumHeight(), label.height()))
        label.setText(text)


def class_color_hex(index: int, num_classes: int) -> str:
    r, g, b = theme.class_colors_rgb(max(num_classes, index + 1))[index]
    return "#%02x%02x%02x" % (int(r), int(g), int(b))


def demo_slice(resolution: int = 61):
    """A synthetic slice (no model): three regions and a curved path from (0,0) to (1,0)."""
    from workbench.audit.boundary import BoundarySlice

    axis = np.linspace(-2.0, 2.0, resolution)
    aa, bb = np.meshgrid(axis, axis)
    score0 = 1.2 - 1.6 * aa - 0.3 * bb**2
    score1 = 1.6 * aa - 1.0 + 0.4 * bb
    score2 = -0.8 * bb - 1.4
    scores = np.stack([score0, score1, score2], axis=-1) * 3
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    t = np.linspace(0, 1, 25)
    path = np.stack([t, 0.35 * np.sin(np.pi * t)], axis=1)
    return BoundarySlice(
        class_map=np.array([4, 6, 2])[probs.argmax(-1)].astype(np.int32),
        confidence=probs.max(-1).astype(np.float32),
        alphas=axis, betas=axis, path=path, norm_u=1.37, norm_v=1.37,
        labels=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        x_index=3, iteration=25,
    )


def demo() -> BoundaryView:
    view = BoundaryView()
    view.set_slice(demo_slice())
    view.resize(520, 560)
    return view


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("BoundaryView demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
