"""Shared look of the workbench: colours, colormaps, fonts, line widths and presentation mode.

Every widget takes its colours and sizes from here, so that the class palette means the same
class everywhere (gallery, top-k bars, boundary slice) and presentation mode restyles the whole
window at once. Widgets call :func:`style` when they draw and connect :func:`theme_signals`
``.changed`` to re-apply fonts and pens when the mode changes.

Colour choices:

* the class palette is the 10-colour Tableau palette (distinguishable, also in print), extended
  by evenly spaced hues for models with more than 10 classes;
* the perturbation colormap is a blue–white–red diverging map (ColorBrewer RdBu stops), white at
  0, so the sign of a change reads as its colour and its size as the saturation;
* roles (true class, target class, strongest other class, norms) have fixed colours that are
  never reused by another role in the same plot.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

# -- class palette -----------------------------------------------------------------------------

CLASS_COLORS: tuple[str, ...] = (
    "#4e79a7",  # blue
    "#f28e2b",  # orange
    "#e15759",  # red
    "#76b7b2",  # teal
    "#59a14f",  # green
    "#edc948",  # yellow
    "#b07aa1",  # purple
    "#ff9da7",  # pink
    "#9c755f",  # brown
    "#bab0ac",  # grey
)


def class_color(index: int) -> QColor:
    """The colour of class ``index`` (stable for a given index)."""
    r, g, b = class_colors_rgb(index + 1)[index]
    return QColor(int(r), int(g), int(b))


def class_colors_rgb(n: int) -> np.ndarray:
    """``n`` class colours as an n×3 uint8 array: the 10-colour palette, then golden-ratio hues."""
    colors = [_hex_rgb(c) for c in CLASS_COLORS[: max(n, 0)]]
    hue = 0.11
    for i in range(len(colors), n):
        hue = (hue + 0.618033988749895) % 1.0
        light = 0.45 if i % 2 else 0.62
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.65)
        colors.append((round(r * 255), round(g * 255), round(b * 255)))
    return np.array(colors, dtype=np.uint8).reshape(-1, 3)


def _hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


# -- role colours ------------------------------------------------------------------------------

COLOR_TRUE = "#1a9850"  # the true (clean) class: green
COLOR_TARGET = "#e08214"  # the target class of a targeted attack: orange
COLOR_OTHER = "#d73027"  # the strongest class other than the true one: red
COLOR_WRONG = "#d62728"  # a wrong prediction mark
COLOR_RIGHT = "#1a9850"
COLOR_LOSS = "#333333"
COLOR_LINF = "#2166ac"
COLOR_L2 = "#7b3294"
COLOR_L0 = "#8c510a"
COLOR_NEUTRAL_BAR = "#9e9e9e"
COLOR_PATH = "#111111"
MASK_RGB = (236, 0, 140)  # magenta: rare in natural images and clear on grey ones
TEMPLATE_RGB = (0, 174, 239)  # cyan preview of a template before it is stamped

# -- diverging colormap ------------------------------------------------------------------------

_DIVERGING_STOPS = (
    "#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
    "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f",
)


def diverging_lut(size: int = 256) -> np.ndarray:
    """The blue–white–red lookup table (size×3 uint8); the middle entry is white (value 0)."""
    stops = np.array([_hex_rgb(c) for c in _DIVERGING_STOPS], dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, size)
    lut = np.stack([np.interp(t, positions, stops[:, k]) for k in range(3)], axis=1)
    return np.ascontiguousarray(np.round(lut).astype(np.uint8))


def diverging_colormap():
    """The same map as a pyqtgraph ``ColorMap`` (for colour bars)."""
    import pyqtgraph as pg

    stops = [_hex_rgb(c) for c in _DIVERGING_STOPS]
    return pg.ColorMap(np.linspace(0.0, 1.0, len(stops)), np.array(stops, dtype=np.ubyte))


def signed_channel(delta: np.ndarray) -> np.ndarray:
    """H×W signed values of a perturbation: itself if grey (H×W or H×W×1); for colour
    (H×W×3) the channel with the largest magnitude, with its sign, at each pixel."""
    d = np.asarray(delta, dtype=np.float32)
    if d.ndim == 2:
        return d
    if d.ndim == 3 and d.shape[2] == 1:
        return d[:, :, 0]
    if d.ndim == 3:
        index = np.abs(d).argmax(axis=2)
        return np.take_along_axis(d, index[:, :, None], axis=2)[:, :, 0]
    raise ValueError(f"a perturbation must be H×W or H×W×C, got shape {d.shape}")


def nice_scale(value: float) -> float:
    """A round number ≥ ``value`` with two significant digits (0.0734 → 0.074), for scale labels."""
    if not np.isfinite(value) or value <= 0:
        return 0.0
    exponent = np.floor(np.log10(value)) - 1
    step = 10.0**exponent
    return float(np.ceil(value / step * (1 - 1e-4)) * step)


def perturbation_rgb(delta: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, float]:
    """Colour a perturbation with the diverging map, symmetric around 0.

    Returns (H×W×3 uint8, scale) where ``scale`` is the value shown at the ends of the map
    (``±scale``): by default the perturbation's own largest magnitude, rounded up by
    :func:`nice_scale`. A zero perturbation comes out white with scale 0.
    """
    values = signed_channel(delta)
    if scale is None:
        scale = nice_scale(float(np.abs(values).max(initial=0.0)))
    lut = diverging_lut()
    if scale <= 0:
        index = np.full(values.shape, 128, dtype=np.int64)
    else:
        t = np.clip(values / (2.0 * scale) + 0.5, 0.0, 1.0)
        index = np.round(t * 255).astype(np.int64)
    return np.ascontiguousarray(lut[index]), float(scale)


def format_scale(scale: float) -> str:
    """The scale bar's label, e.g. ``±0.10`` or ``±3.1e-03``."""
    if scale <= 0:
        return "±0"
    if scale >= 0.01:
        return f"±{scale:.2f}" if scale < 10 else f"±{scale:.3g}"
    return f"±{scale:.1e}"


# -- images ------------------------------------------------------------------------------------

def to_display_uint8(image: np.ndarray) -> np.ndarray:
    """An image (H×W, H×W×1, H×W×3; float in [0, 1] or uint8; also C×H×W with C in 1, 3) as a
    contiguous H×W or H×W×3 uint8 array."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
        a = np.transpose(a, (1, 2, 0))
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"an image must be H×W or H×W×3, got shape {a.shape}")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    a = np.nan_to_num(a.astype(np.float32), nan=0.0)
    return np.ascontiguousarray(np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8))


def upscale_factor(height: int, width: int, target: int = 448) -> int:
    """The integer nearest-neighbour zoom that shows an image about ``target`` pixels wide."""
    return max(1, int(round(target / max(height, width, 1))))


# -- fonts, line widths, presentation mode ------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """Sizes that depend on the display mode."""

    presentation: bool = False
    font_pt: float = 10.0  # body text
    title_pt: float = 11.0  # plot and panel titles
    line_width: float = 2.0  # curves, outlines
    marker_size: float = 9.0
    thumbnail: int = 96  # gallery icon size (px)
    mask_alpha: int = 110  # mask overlay opacity (0..255)


NORMAL = Style()
PRESENTATION = Style(
    presentation=True, font_pt=17.0, title_pt=20.0, line_width=4.0, marker_size=16.0,
    thumbnail=150, mask_alpha=150,
)

_current = NORMAL


class ThemeSignals(QObject):
    """Emits ``changed`` after the style changed (presentation mode on or off)."""

    changed = Signal()


_signals: ThemeSignals | None = None


def theme_signals() -> ThemeSignals:
    global _signals
    if _signals is None:
        _signals = ThemeSignals()
    return _signals


def style() -> Style:
    """The style in effect."""
    return _current


def is_presentation() -> bool:
    return _current.presentation


def font(size_pt: float | None = None, *, bold: bool = False) -> QFont:
    """The application font at ``size_pt`` (default: the style's body size)."""
    app = QApplication.instance()
    f = QFont(app.font()) if app is not None else QFont()
    f.setPointSizeF(size_pt if size_pt is not None else _current.font_pt)
    f.setBold(bold)
    return f


def title_font() -> QFont:
    return font(_current.title_pt, bold=True)


def css_color(value: str | tuple[int, int, int]) -> str:
    if isinstance(value, str):
        return value
    return "#%02x%02x%02x" % tuple(value)


def apply_presentation(enabled: bool, app: QApplication | None = None) -> None:
    """Switch presentation mode on or off: large fonts and thick lines readable from the back of
    a lecture hall, a high-contrast palette. Restyles the application font and palette and
    emits :func:`theme_signals` ``.changed`` so that every widget re-applies its pens and fonts.
    Advanced controls are hidden by the window, not here."""
    global _current
    app = app or QApplication.instance()
    _current = PRESENTATION if enabled else NORMAL
    if app is not None:
        f = QFont(app.font())
        f.setPointSizeF(_current.font_pt)
        app.setFont(f)
        if enabled:
            palette = QPalette(app.style().standardPalette())
            active = (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive)
            colors = {
                QPalette.ColorRole.Window: "#ffffff", QPalette.ColorRole.Base: "#ffffff",
                QPalette.ColorRole.WindowText: "#000000", QPalette.ColorRole.Text: "#000000",
                QPalette.ColorRole.ButtonText: "#000000", QPalette.ColorRole.Highlight: "#0050c8",
                QPalette.ColorRole.HighlightedText: "#ffffff",
            }
            for group in active:
                for role, value in colors.items():
                    palette.setColor(group, role, QColor(value))
            for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
                palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9a9a9a"))
            app.setPalette(palette)
        else:
            app.setPalette(app.style().standardPalette())
    theme_signals().changed.emit()


def set_style(new_style: Style) -> None:
    """Use custom sizes (e.g. a larger thumbnail) and notify widgets."""
    global _current
    _current = new_style
    theme_signals().changed.emit()
