"""``ImageTriptych``: original │ perturbation │ adversarial, side by side, each titled.

The perturbation ``adversarial − original`` is drawn with the theme's blue–white–red diverging
colormap, symmetric around 0 (white = unchanged, red = brighter, blue = darker), amplified so
that its largest change reaches the ends of the map; a colour bar under it states the scale
(e.g. "±0.10"). For colour images each pixel shows its channel with the largest change.

Images are painted with QPainter, scaled by nearest neighbour so that model pixels stay
visible. The widget keeps only the arrays it displays; export them with
:meth:`ImageTriptych.adversarial_png` and :meth:`ImageTriptych.perturbation_png`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSizePolicy, QWidget

from workbench.core.errors import WorkbenchError
from workbench.gui import theme


def numpy_to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of an H×W (grey) or H×W×3 (RGB) uint8 array."""
    a = np.ascontiguousarray(image)
    if a.dtype != np.uint8:
        raise ValueError("numpy_to_qimage needs uint8")
    h, w = a.shape[:2]
    if a.ndim == 2:
        q = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8)
    else:
        q = QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888)
    return q.copy()


def save_png(image: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    """Write an H×W or H×W×3 uint8 image as PNG, enlarged ``scale`` times by nearest neighbour."""
    path = Path(path)
    a = np.asarray(image)
    if scale > 1:
        a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    q = numpy_to_qimage(a)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkbenchError(f"cannot create the folder {path.parent}: {error.strerror}") from error
    if not q.save(str(path), "PNG"):
        raise WorkbenchError(f"cannot write the PNG file {path}")
    return path


class _Panel(QWidget):
    """One titled image (optionally with a colour bar underneath, or a placeholder text)."""

    def __init__(self, title: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.placeholder = placeholder
        self.title_color = QColor("#111111")
        self.image: QImage | None = None
        self.colorbar: tuple[np.ndarray, str] | None = None  # (lut, label)
        self.subtitle = ""
        self.shared_title_height = 0.0  # set by the triptych so that the three images align
        self._height_for: tuple | None = None  # (title, width, font) of the cached title height
        self._height = 0.0
        self._strip: tuple[bytes, QImage] | None = None  # the colour bar's map as an image
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 150)

    def sizeHint(self) -> QSize:
        return QSize(240, 300)

    def _text_heights(self) -> tuple[float, float]:
        title_h = QFontMetricsF(theme.title_font()).height() * 1.25
        line_h = QFontMetricsF(theme.font()).height()
        return title_h, line_h

    def title_height(self, width: float) -> float:
        """Height the title needs when wrapped to ``width`` (measured again only when the title,
        the width or the font changed: a live run retitles the panels several times a second)."""
        font = theme.title_font()
        key = (self.title, width, font.toString())
        if key != self._height_for:
            fm = QFontMetricsF(font)
            flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
            self._height = fm.boundingRect(QRectF(0, 0, width - 8, 10000), flags, self.title).height() + 4
            self._height_for = key
        return self._height

    def colorbar_strip(self) -> QImage | None:
        """The colour bar's map as a 1-pixel-high image, converted once per map."""
        if self.colorbar is None:
            return None
        lut = np.ascontiguousarray(self.colorbar[0])
        key = lut.tobytes()
        if self._strip is None or self._strip[0] != key:
            self._strip = (key, numpy_to_qimage(lut[None, :, :]))
        return self._strip[1]

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        _title_h, line_h = self._text_heights()
        w, h = float(self.width()), float(self.height())
        painter.setFont(theme.title_font())
        painter.setPen(self.title_color)
        top = self.shared_title_height or self.title_height(w)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap
        painter.drawText(QRectF(4, 2, w - 8, top), flags, self.title)
        bottom_space = line_h * 2.6
        area = QRectF(6, top + 6, w - 12, h - top - bottom_space - 10)
        if self.image is None:
            painter.setPen(QPen(QColor("#bbbbbb"), 1, Qt.PenStyle.DashLine))
            side = max(0.0, min(area.width(), area.height()))
            box = QRectF(area.center().x() - side / 2, area.center().y() - side / 2, side, side)
            painter.drawRect(box)
            painter.setFont(theme.font())
            painter.setPen(QColor("#777777"))
            painter.drawText(box.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            painter.end()
            return
        iw, ih = self.image.width(), self.image.height()
        scale = min(area.width() / iw, area.height() / ih)
        if scale >= 1:
            scale = float(int(scale)) if scale >= 2 else scale
        target = QRectF(area.center().x() - iw * scale / 2, area.top(), iw * scale, ih * scale)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self.image)
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        y = target.bottom() + 6
        if self.colorbar is not None:
            lut, label = self.colorbar
            bar = QRectF(target.left(), y, target.width(), line_h * 0.8)
            strip = self.colorbar_strip()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(bar, strip)
            painter.setPen(QPen(QColor("#888888"), 1))
            painter.drawRect(bar)
            painter.setFont(theme.font())
            painter.setPen(QColor("#111111"))
            low, high = "−" + label.lstrip("±"), "+" + label.lstrip("±")
            text_rect = QRectF(bar.left() - 30, bar.bottom() + 1, bar.width() + 60, line_h * 1.3)
            painter.drawText(text_rect.adjusted(30, 0, 0, 0), Qt.AlignmentFlag.AlignLeft, low)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, "0")
            painter.drawText(text_rect.adjusted(0, 0, -30, 0), Qt.AlignmentFlag.AlignRight, high)
        elif self.subtitle:
            painter.setFont(theme.font())
            painter.setPen(QColor("#333333"))
            painter.drawText(QRectF(4, y, w - 8, line_h * 1.3), Qt.AlignmentFlag.AlignHCenter, self.subtitle)
        painter.end()


class ImageTriptych(QWidget):
    """Original │ perturbation │ adversarial with titles and the perturbation's colour scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original_panel = _Panel("Original", "No image")
        self.perturbation_panel = _Panel("Perturbation", "Run an attack to see the perturbation")
        self.adversarial_panel = _Panel("Adversarial", "No adversarial image yet")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(6)
        for panel in (self.original_panel, self.perturbation_panel, self.adversarial_panel):
            layout.addWidget(panel, 1)
        self._original: np.ndarray | None = None
        self._original_source: np.ndarray | None = None  # as given, to tell a new image
        self._adversarial: np.ndarray | None = None
        self._delta: np.ndarray | None = None
        self._perturbation_rgb: np.ndarray | None = None
        self._scale = 0.0
        self._fixed_scale: float | None = None
        theme.theme_signals().changed.connect(self.update_panels)

    # -- API -------------------------------------------------------------------------------------
    def set_images(
        self,
        original: np.ndarray,
        adversarial: np.ndarray | None,
        titles: tuple[str, str] = ("Original", "Adversarial"),
        *,
        success: bool | None = None,
    ) -> None:
        """Show ``original`` and ``adversarial`` (H×W, H×W×3 or C×H×W; float in [0, 1] or uint8,
        same shape) and their difference. ``titles`` are shown above the two images, e.g.
        ("Original: Coat 97 %", "Adversarial: Shirt 64 %"); ``success`` colours the adversarial
        title (red when the attack succeeded, green when it did not)."""
        changed = self._set_original(original, _keep_units(titles[0]))
        if adversarial is None:
            self.clear_adversarial()
            return
        adv = _as_float(adversarial)
        if adv.shape != self._original.shape:
            raise ValueError(f"adversarial image of shape {adv.shape} does not match the original {self._original.shape}")
        self._adversarial = adv
        self._delta = adv - self._original
        self._perturbation_rgb, self._scale = theme.perturbation_rgb(self._delta, self._fixed_scale)
        self.adversarial_panel.image = numpy_to_qimage(theme.to_display_uint8(adv))
        self.adversarial_panel.title = _keep_units(titles[1])
        self.adversarial_panel.title_color = QColor(
            "#111111" if success is None else (theme.COLOR_WRONG if success else theme.COLOR_RIGHT)
        )
        self.perturbation_panel.image = numpy_to_qimage(self._perturbation_rgb)
        self.perturbation_panel.title = "Perturbation"
        self.perturbation_panel.colorbar = (theme.diverging_lut(), theme.format_scale(self._scale))
        self.update_panels(None if changed else (self.perturbation_panel, self.adversarial_panel))

    def _set_original(self, original: np.ndarray, title: str) -> bool:
        """Show ``original`` in its panel unless it is already shown (a live run passes the same
        image with every step); whether the panel changed."""
        source = self._original_source
        same = source is not None and np.shape(source) == np.shape(original) and np.array_equal(source, original)
        if same and title == self.original_panel.title and self.original_panel.image is not None:
            return False
        if not same:
            self._original = _as_float(original)
            self._original_source = np.array(original, copy=True)
            self.original_panel.image = numpy_to_qimage(theme.to_display_uint8(self._original))
        self.original_panel.title = title
        return True

    def set_original(self, original: np.ndarray, title: str = "Original") -> None:
        """Show a new clean image and forget the adversarial one."""
        self.set_images(original, None, (title, "Adversarial"))

    def clear_adversarial(self) -> None:
        """Keep the original, drop the perturbation and the adversarial image."""
        self._adversarial = self._delta = self._perturbation_rgb = None
        self._scale = 0.0
        self.adversarial_panel.image = None
        self.adversarial_panel.title = "Adversarial"
        self.adversarial_panel.title_color = QColor("#111111")
        self.perturbation_panel.image = None
        self.perturbation_panel.colorbar = None
        self.perturbation_panel.title = "Perturbation"
        self.update_panels()

    def clear(self) -> None:
        self._original = self._original_source = None
        self.original_panel.image = None
        self.original_panel.title = "Original"
        self.clear_adversarial()

    def set_fixed_scale(self, scale: float | None) -> None:
        """Use a fixed colour scale ``±scale`` (e.g. the attack's ε), or None for the
        perturbation's own maximum. Applies from the next :meth:`set_images`."""
        self._fixed_scale = None if scale is None or scale <= 0 else float(scale)

    def scale(self) -> float:
        """The perturbation colour scale in effect (the map's ends are ±scale)."""
        return self._scale

    def scale_label(self) -> str:
        return theme.format_scale(self._scale)

    def original_array(self) -> np.ndarray | None:
        return self._original

    def adversarial_array(self) -> np.ndarray | None:
        """The adversarial image as shown (float32, H×W or H×W×3, [0, 1])."""
        return self._adversarial

    def perturbation_array(self) -> np.ndarray | None:
        """adversarial − original (float32, signed)."""
        return self._delta

    def perturbation_rgb(self) -> np.ndarray | None:
        """The perturbation as coloured (H×W×3 uint8)."""
        return self._perturbation_rgb

    def adversarial_png(self, path: str | Path, scale: int = 1) -> Path:
        """Save the adversarial image as PNG (8 bits per channel: values are rounded to the
        nearest 1/255, which can change a borderline prediction). Raises WorkbenchError."""
        if self._adversarial is None:
            raise WorkbenchError("there is no adversarial image to export yet")
        return save_png(theme.to_display_uint8(self._adversarial), path, scale)

    def perturbation_png(self, path: str | Path, scale: int = 1) -> Path:
        """Save the coloured perturbation as PNG (``scale`` enlarges it for slides)."""
        if self._perturbation_rgb is None:
            raise WorkbenchError("there is no perturbation to export yet")
        return save_png(self._perturbation_rgb, path, scale)

    def update_panels(self, changed: tuple[_Panel, ...] | None = None) -> None:
        """Repaint the ``changed`` panels (default: all), and all of them when the shared title
        height changes."""
        panels = (self.original_panel, self.perturbation_panel, self.adversarial_panel)
        height = max(panel.title_height(float(panel.width())) for panel in panels)
        for panel in panels:
            if changed is None or panel in changed or panel.shared_title_height != height:
                panel.shared_title_height = height
                panel.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.update_panels()


def _keep_units(title: str) -> str:
    """Keep "97 %" together when a title wraps."""
    return title.replace(" %", "\u00a0%")


def _as_float(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
        a = np.transpose(a, (1, 2, 0))
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a.astype(np.float32) / 255.0)
    return np.ascontiguousarray(a.astype(np.float32))


def demo_images(size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic grey 'coat' and a masked ±0.1 sign perturbation of it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    body = ((np.abs(xx - 0.5) < 0.28 + 0.1 * yy) & (yy > 0.12) & (yy < 0.92)).astype(np.float32)
    sleeves = ((np.abs(xx - 0.5) > 0.28) & (np.abs(xx - 0.5) < 0.45) & (yy > 0.18) & (yy < 0.75)).astype(np.float32)
    image = np.clip(0.75 * np.maximum(body, sleeves) + 0.05 * rng.standard_normal((size, size)), 0, 1).astype(np.float32)
    mask = np.zeros((size, size), np.float32)
    mask[size // 4 : size * 3 // 4, size // 4 : size * 3 // 4] = 1
    delta = 0.1 * np.sign(rng.standard_normal((size, size))) * mask
    return image, np.clip(image + delta, 0, 1).astype(np.float32)


def demo() -> ImageTriptych:
    original, adversarial = demo_images()
    view = ImageTriptych()
    view.set_images(original, adversarial, ("Original: Coat 97 %", "Adversarial: Shirt 64 %"), success=True)
    view.resize(900, 380)
    return view


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    widget = demo()
    widget.setWindowTitle("ImageTriptych demo")
    widget.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
