"""Synthetic faces of twelve made-up people for the built-in ``faces-cnn`` model.

An identity is a fixed vector of drawing parameters — face width and shape, jaw, skin tone,
hair style and colour, eye size, shape, tilt and colour, eyebrows, nose, mouth and lips, facial
hair — chosen so that no single attribute tells everyone apart (several people share a hair
colour, a skin tone or a hair style). Every rendered image draws that person anew with OpenCV
under its own pose (in-plane rotation, a slight turn of the head, scale and shift),
expression (mouth, eyebrows, how open the eyes are, gaze), clothes, sometimes a hat over the
hair, background (a crop of a bundled photo or a procedural one), lighting, blur and noise.

The faces are about 40–50 pixels wide in the 64×64 images, with the eyes where a portrait
crop has them, so that an eyeglass frame fitted to the eye centres covers a few per cent of
the image — the setting of the eyeglass attack of Sharif et al. (CCS 2016, "Accessorize to a
Crime: Real and Stealthy Attacks on State-of-the-Art Face Recognition"). :func:`render_faces`
returns the images, their identity labels and, per image, both eye centres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from workbench.zoo.rendering import (
    RGB,
    blur,
    class_indices,
    composite,
    draw_ellipse,
    draw_polyline,
    fill_polygon,
    image_rngs,
    random_background,
    relight,
    shrink,
    to_output_coordinates,
    to_uint8,
)
from workbench.zoo.synthetic import SyntheticRecipe

FACE_SIZE = 64  # output images are FACE_SIZE × FACE_SIZE
_FACTOR = 2  # drawn at 2× the output size, then shrunk
_CANVAS = FACE_SIZE * _FACTOR
_CENTRE = np.array([63.5, 68.0])  # the face ellipse's centre on the drawing canvas
HAT_SHARE = 0.3  # the share of photos with a hat hiding the hair on top

_SKIN = {
    "porcelain": (241, 206, 182), "light": (226, 184, 152), "warm": (214, 168, 128),
    "olive": (190, 142, 100), "brown": (145, 98, 66), "deep": (96, 62, 44),
}  # fmt: skip
_HAIR = {
    "black": (28, 24, 24), "dark brown": (72, 46, 30), "brown": (122, 80, 46),
    "blond": (214, 178, 108), "red": (172, 72, 32), "grey": (165, 163, 160),
}  # fmt: skip
_IRIS = {
    "brown": (96, 58, 30), "dark": (48, 32, 22), "blue": (70, 124, 186),
    "green": (84, 134, 72), "grey": (126, 136, 146), "hazel": (136, 104, 52),
}  # fmt: skip


@dataclass(frozen=True)
class Identity:
    """The drawing parameters that make one person (lengths in drawing-canvas pixels or as
    fractions of the face's half-width ``a``)."""

    name: str
    skin: str
    hair: str
    hair_style: str  # short, side-part, fringe, long, bob, bun, curly, bald
    iris: str
    face_width: float  # half-width a of the face ellipse
    face_ratio: float  # half-height / half-width
    jaw: float  # 0 round … 1 square
    eye_size: float  # half-width of an eye / a
    eye_shape: float  # height / width of the open eye
    eye_tilt: float  # degrees, outer corners up
    brow_thickness: float  # canvas pixels
    brow_arch: float  # 0 straight … 1 arched
    nose: str  # button, long, wide
    nose_size: float
    mouth_width: float  # half-width of the mouth / a
    lips: RGB
    facial_hair: str = "none"  # none, moustache, beard, goatee


IDENTITIES = [
    Identity("Ada", "porcelain", "dark brown", "long", "blue", 43, 1.25, 0.0, 0.22, 0.5, 4, 2.5, 0.8,
             "button", 0.9, 0.40, (196, 96, 104)),
    Identity("Ben", "olive", "black", "short", "brown", 47, 1.16, 0.7, 0.19, 0.5, 0, 5.0, 0.2,
             "wide", 1.1, 0.48, (150, 86, 78), "beard"),
    Identity("Cleo", "deep", "black", "curly", "dark", 45, 1.14, 0.2, 0.22, 0.62, 2, 3.5, 0.6,
             "wide", 1.15, 0.50, (120, 58, 58)),
    Identity("Dev", "olive", "black", "side-part", "dark", 42, 1.36, 0.3, 0.19, 0.45, -2, 5.0, 0.0,
             "long", 1.15, 0.42, (140, 80, 72), "moustache"),
    Identity("Eva", "light", "blond", "bob", "green", 44, 1.2, 0.1, 0.24, 0.66, 0, 2.5, 0.7,
             "button", 0.85, 0.40, (206, 92, 100)),
    Identity("Finn", "porcelain", "red", "short", "blue", 46, 1.22, 0.4, 0.2, 0.55, 0, 2.5, 0.3,
             "button", 1.0, 0.44, (196, 118, 112)),
    Identity("Gus", "warm", "grey", "bald", "grey", 48, 1.2, 0.6, 0.18, 0.45, -3, 5.5, 0.4,
             "long", 1.3, 0.46, (160, 96, 90), "goatee"),
    Identity("Hana", "warm", "black", "fringe", "dark", 43, 1.2, 0.1, 0.22, 0.4, 6, 3.0, 0.3,
             "button", 0.85, 0.38, (188, 84, 92)),
    Identity("Ivo", "light", "brown", "short", "hazel", 45, 1.28, 0.5, 0.2, 0.5, 0, 4.5, 0.2,
             "long", 1.1, 0.44, (160, 92, 84), "beard"),
    Identity("Jade", "brown", "black", "bun", "brown", 43, 1.26, 0.1, 0.23, 0.6, 3, 3.0, 0.8,
             "wide", 1.0, 0.44, (138, 66, 70)),
    Identity("Kai", "brown", "blond", "short", "brown", 47, 1.12, 0.3, 0.2, 0.55, 0, 4.0, 0.1,
             "wide", 1.05, 0.46, (134, 78, 70)),
    Identity("Lena", "light", "red", "long", "green", 42, 1.3, 0.0, 0.21, 0.55, 3, 2.5, 0.6,
             "long", 0.9, 0.38, (196, 88, 96)),
]  # fmt: skip
FACE_LABELS = [identity.name for identity in IDENTITIES]


@dataclass(frozen=True)
class _Look:
    """What changes from one image of a person to the next (besides pose and lighting)."""

    yaw: float  # −1 … 1: the head turned a little left or right
    mouth: str  # neutral, smile, open, frown
    smile: float  # how much the mouth's corners go up (smile) or down (frown)
    brow_raise: float  # pixels
    openness: float  # how open the eyes are, 1 = fully
    gaze: tuple[float, float]  # where the irises point, −1 … 1
    shirt: RGB
    hat: RGB | None  # a knitted hat over the hair, or none


def _random_look(rng: np.random.Generator) -> _Look:
    return _Look(
        yaw=float(rng.uniform(-1, 1)),
        mouth=str(rng.choice(["neutral", "smile", "open", "frown"], p=[0.35, 0.35, 0.15, 0.15])),
        smile=float(rng.uniform(0.3, 1.0)),
        brow_raise=float(rng.uniform(-2, 5)),
        openness=float(rng.uniform(0.55, 1.05)),
        gaze=(float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))),
        shirt=tuple(int(v) for v in rng.integers(20, 236, size=3)),
        hat=tuple(int(v) for v in rng.integers(20, 236, size=3)) if rng.random() < HAT_SHARE else None,
    )


# -- drawing ---------------------------------------------------------------------------------------
def _arc(centre, ax: float, ay: float, start: float, end: float, count: int = 48) -> np.ndarray:
    """Points of an ellipse arc, angles in degrees clockwise from +x (y points down)."""
    t = np.deg2rad(np.linspace(start, end, count))
    return np.stack([centre[0] + ax * np.cos(t), centre[1] + ay * np.sin(t)], 1)


def _bezier(p0, p1, p2, count: int = 24) -> np.ndarray:
    """Points of the quadratic Bézier curve from p0 to p2 with control point p1."""
    t = np.linspace(0, 1, count)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _shade(colour: RGB, factor: float) -> RGB:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in colour)


# -- the face -------------------------------------------------------------------------------------
def _face_outline(who: Identity) -> np.ndarray:
    """The face's contour: an ellipse whose lower half widens towards a square jaw."""
    a, b = who.face_width, who.face_width * who.face_ratio
    t = np.deg2rad(np.linspace(0, 360, 96, endpoint=False))
    lower = np.clip(np.sin(t), 0, None)
    widen = 1 + who.jaw * 0.16 * np.sin(np.pi * lower) * (1 - 0.5 * lower)
    return np.stack([_CENTRE[0] + a * np.cos(t) * widen, _CENTRE[1] + b * np.sin(t)], 1)


def _hair_cap(who: Identity, hairline: str) -> np.ndarray:
    """The hair on top of the head: an arc a little outside the skull, closed by the
    hairline across the forehead (``round``, ``swept`` to one side, or a straight ``fringe``)."""
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    outer = _arc(_CENTRE, 1.07 * a, 1.07 * b, 172, 368)
    if hairline == "fringe":
        back = np.array([(cx + 1.0 * a, cy - 0.3 * b), (cx - 1.0 * a, cy - 0.3 * b)])
    elif hairline == "swept":
        back = _bezier((cx + 1.0 * a, cy - 0.28 * b), (cx + 0.35 * a, cy - 0.95 * b), (cx - 1.0 * a, cy - 0.42 * b))
    else:
        back = _bezier((cx + 1.0 * a, cy - 0.25 * b), (cx, cy - 0.9 * b), (cx - 1.0 * a, cy - 0.25 * b))
    return np.concatenate([outer, back])


def _draw_hair_back(canvas, who: Identity) -> None:
    """Hair behind the head (long hair, a bob, a bun, curls)."""
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    colour = _HAIR[who.hair]
    if who.hair_style in ("long", "bob"):
        bottom = cy + (1.5 if who.hair_style == "long" else 0.75) * b
        top = _arc(_CENTRE, 1.16 * a, 1.12 * b, 180, 360)
        fill_polygon(canvas, np.concatenate([[(cx - 1.2 * a, bottom)], top, [(cx + 1.2 * a, bottom)]]), colour)
    elif who.hair_style == "bun":
        draw_ellipse(canvas, (cx, cy - 1.12 * b), (0.36 * a, 0.3 * a), colour)
    elif who.hair_style == "curly":
        centre = (cx, cy - 0.15 * b)
        draw_ellipse(canvas, centre, (1.28 * a, 1.12 * b), colour)
        for x, y in _arc(centre, 1.28 * a, 1.12 * b, 150, 390, 14):
            draw_ellipse(canvas, (x, y), (0.2 * a, 0.2 * a), colour)


def _draw_hair_front(canvas, who: Identity) -> None:
    """Hair over the forehead and the temples."""
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    colour = _HAIR[who.hair]
    if who.hair_style == "bald":
        for side in (-1, 1):  # a fringe of hair above the ears
            draw_ellipse(canvas, (cx + side * 0.97 * a, cy - 0.2 * b), (0.12 * a, 0.3 * b), colour)
        return
    hairline = {"fringe": "fringe", "side-part": "swept", "bob": "swept"}.get(who.hair_style, "round")
    fill_polygon(canvas, _hair_cap(who, hairline), colour)
    if who.hair_style == "curly":
        for x, y in _bezier((cx + 0.95 * a, cy - 0.3 * b), (cx, cy - 0.95 * b), (cx - 0.95 * a, cy - 0.3 * b), 9):
            draw_ellipse(canvas, (x, y), (0.13 * a, 0.13 * a), colour)


def _draw_hat(canvas, who: Identity, colour: RGB) -> None:
    """A knitted hat pulled down to the forehead, with a turned-up brim."""
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    brim = cy - 0.42 * b
    crown = _arc((cx, brim), 1.1 * a, 0.75 * b, 180, 360)
    fill_polygon(canvas, np.concatenate([crown, [(cx + 1.1 * a, brim), (cx - 1.1 * a, brim)]]), colour)
    fill_polygon(canvas, np.array([(cx - 1.12 * a, brim - 0.2 * b), (cx + 1.12 * a, brim - 0.2 * b),
                            (cx + 1.12 * a, brim), (cx - 1.12 * a, brim)]), _shade(colour, 0.75))  # fmt: skip


def _draw_eyes(canvas, who: Identity, look: _Look, skin: RGB) -> np.ndarray:
    """Both eyes with their lids; returns the eye centres (left, right in the image)."""
    a, b = who.face_width, who.face_width * who.face_ratio
    width = who.eye_size * a
    full_height = width * who.eye_shape
    height = full_height * look.openness
    shift = 0.12 * a * look.yaw
    centres = np.array([(_CENTRE[0] - 0.46 * a + shift, _CENTRE[1] - 0.1 * b),
                        (_CENTRE[0] + 0.46 * a + shift, _CENTRE[1] - 0.1 * b)])  # fmt: skip
    iris_radius = 0.8 * full_height
    for side, centre in zip((-1, 1), centres):
        tilt = -side * who.eye_tilt  # outer corners up
        draw_ellipse(canvas, centre, (width, height), (236, 232, 226), tilt)
        iris = centre + np.array(look.gaze) * (0.35 * width, 0.25 * height)
        draw_ellipse(canvas, iris, (iris_radius, iris_radius), _IRIS[who.iris])
        draw_ellipse(canvas, iris, (0.45 * iris_radius, 0.45 * iris_radius), (12, 10, 10))
        draw_ellipse(canvas, iris + (-0.3 * iris_radius, -0.35 * iris_radius), (1.2, 1.2), (250, 250, 250))
        # The lids: skin around the opening hides what of the iris lies outside it.
        lid = 1.4 * full_height + 2
        draw_ellipse(canvas, centre, (width + lid / 2, height + lid / 2), skin, tilt, thickness=int(round(lid)))
        draw_ellipse(canvas, centre, (width, height), (40, 28, 24), tilt, thickness=2, arc=(190, 350))
    return centres


def _draw_brows(canvas, who: Identity, look: _Look, eyes: np.ndarray) -> None:
    a = who.face_width
    colour = _shade(_HAIR[who.hair], 0.8) if who.hair not in ("grey", "blond") else _shade(_HAIR[who.hair], 0.7)
    for side, (x, y) in zip((-1, 1), eyes):
        y = y - 0.3 * a - look.brow_raise
        inner, outer = x - side * 0.2 * a, x + side * 0.26 * a
        peak = (x + side * 0.06 * a, y - who.brow_arch * 0.12 * a)
        draw_polyline(canvas, _bezier((inner, y + 0.02 * a), peak, (outer, y + 0.05 * a), 12), colour, who.brow_thickness)


def _draw_nose(canvas, who: Identity, look: _Look, skin: RGB) -> None:
    a, b = who.face_width, who.face_width * who.face_ratio
    s = who.nose_size
    x = _CENTRE[0] + 0.2 * a * look.yaw
    tip_y = _CENTRE[1] + 0.24 * b
    shadow = _shade(skin, 0.8)
    if who.nose == "long":
        draw_polyline(canvas, _bezier((x + 0.08 * a, _CENTRE[1] - 0.1 * b), (x + 0.14 * a, tip_y - 0.1 * b),
                              (x + 0.06 * a, tip_y + 0.02 * b)), shadow, 2.5)
    half = (0.19 if who.nose == "wide" else 0.13) * a * s
    draw_ellipse(canvas, (x, tip_y), (half, 0.07 * b * s), _shade(skin, 0.9))
    for side in (-1, 1):
        draw_ellipse(canvas, (x + side * 0.55 * half, tip_y + 0.045 * b * s), (0.3 * half, 0.12 * half), _shade(skin, 0.45))


def _draw_mouth(canvas, who: Identity, look: _Look) -> None:
    a, b = who.face_width, who.face_width * who.face_ratio
    cx = _CENTRE[0] + 0.14 * a * look.yaw
    cy = _CENTRE[1] + 0.54 * b
    w = who.mouth_width * a
    if look.mouth == "open":
        draw_ellipse(canvas, (cx, cy), (0.75 * w, 0.13 * b), who.lips)
        draw_ellipse(canvas, (cx, cy + 0.01 * b), (0.6 * w, 0.09 * b), (60, 20, 24))
        draw_ellipse(canvas, (cx, cy - 0.05 * b), (0.5 * w, 0.035 * b), (240, 238, 230))
        return
    bend = {"neutral": 0.0, "smile": 0.1, "frown": -0.06}[look.mouth] * b * look.smile
    xs = np.linspace(-w, w, 17)
    line = np.stack([cx + xs, cy + bend * (1 - (xs / w) ** 2) - bend], 1)
    lower = np.concatenate([line, line[::-1] + [0, 0.09 * b]])
    fill_polygon(canvas, lower, who.lips)
    upper = np.concatenate([line, (line + [0, -0.05 * b])[::-1]])
    fill_polygon(canvas, upper, _shade(who.lips, 0.85))
    draw_polyline(canvas, line, _shade(who.lips, 0.45), 1.5)


def _draw_facial_hair(canvas, who: Identity, outline: np.ndarray) -> None:
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    colour = _HAIR[who.hair]
    if who.facial_hair == "beard":
        lower = outline[(outline[:, 1] > cy + 0.15 * b)]
        lower = lower[np.argsort(np.arctan2(lower[:, 1] - cy, lower[:, 0] - cx))]
        fill_polygon(canvas, np.concatenate([lower, [(cx - 0.5 * a, cy + 0.3 * b), (cx + 0.5 * a, cy + 0.3 * b)]]), colour)
    if who.facial_hair in ("beard", "moustache", "goatee"):
        y = cy + 0.43 * b
        thickness = 0.12 * b if who.facial_hair != "goatee" else 0.07 * b
        draw_polyline(canvas, _bezier((cx - 0.34 * a, y + 0.08 * b), (cx, y - 0.1 * b), (cx + 0.34 * a, y + 0.08 * b)), colour, thickness)
    if who.facial_hair == "goatee":
        draw_ellipse(canvas, (cx, cy + 0.82 * b), (0.22 * a, 0.15 * b), colour)


def _draw_person(who: Identity, look: _Look) -> tuple[np.ndarray, np.ndarray]:
    """The person on a transparent RGBA canvas (uint8, straight alpha) in the canonical pose,
    and the eye centres on it."""
    canvas = np.zeros((_CANVAS, _CANVAS, 4), np.uint8)
    a, b = who.face_width, who.face_width * who.face_ratio
    cx, cy = _CENTRE
    skin = _SKIN[who.skin]
    draw_ellipse(canvas, (cx, cy + 1.75 * b), (1.9 * a, 0.95 * b), look.shirt)  # shoulders
    fill_polygon(canvas, np.array([(cx - 0.45 * a, cy + 0.5 * b), (cx + 0.45 * a, cy + 0.5 * b),
                            (cx + 0.5 * a, cy + 1.2 * b), (cx - 0.5 * a, cy + 1.2 * b)]), _shade(skin, 0.82))  # fmt: skip
    _draw_hair_back(canvas, who)
    ear_shift = 0.06 * a * look.yaw
    for side in (-1, 1):
        draw_ellipse(canvas, (cx + side * 0.97 * a - ear_shift, cy - 0.02 * b), (0.16 * a, 0.26 * b), _shade(skin, 0.92))
    outline = _face_outline(who)
    fill_polygon(canvas, outline, skin)
    _draw_facial_hair(canvas, who, outline)
    eyes = _draw_eyes(canvas, who, look, skin)
    _draw_nose(canvas, who, look, skin)
    _draw_mouth(canvas, who, look)
    _draw_hair_front(canvas, who)
    if look.hat is not None:
        _draw_hat(canvas, who, look.hat)
    _draw_brows(canvas, who, look, eyes)
    return canvas, eyes


def _render_one(who: Identity, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One photo of a person: the uint8 image and the eye centres (left, right) on it."""
    person, eyes = _draw_person(who, _random_look(rng))
    angle, scale = rng.uniform(-12, 12), rng.uniform(0.92, 1.08)
    pose = cv2.getRotationMatrix2D(tuple(_CENTRE), angle, scale)
    pose[:, 2] += rng.uniform(-8, 8, size=2)
    layer = cv2.warpAffine(person.astype(np.float32) / 255, pose, (_CANVAS, _CANVAS), flags=cv2.INTER_LINEAR)
    image = composite(random_background(rng, _CANVAS), layer)
    image = relight(shrink(image, _FACTOR), rng, gain=(0.6, 1.25), cast=0.1, gradient=0.35)
    image = blur(image, rng, max_sigma=0.6)
    eyes = eyes @ pose[:, :2].T + pose[:, 2]
    return to_uint8(image, rng, max_noise=0.025), to_output_coordinates(eyes, _FACTOR)


def render_faces(
    n: int, seed: int, identities: Sequence[str | int] | None = None, *, start: int = 0
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """``n`` random photos of the synthetic people: uint8 images N×64×64×3 (RGB), int64
    labels (indices into :data:`FACE_LABELS`) and one annotation per image,
    ``{"left_eye": [x, y], "right_eye": [x, y]}`` (left = left in the image).

    Image ``i`` shows ``identities[i % len(identities)]`` (everyone by default, names or
    indices) and depends only on ``seed`` and ``i``; ``start`` skips the stream's first
    images, so ``render_faces(n, s, start=k)`` continues ``render_faces(k, s)``.
    """
    chosen = class_indices(identities, FACE_LABELS)
    images = np.zeros((n, FACE_SIZE, FACE_SIZE, 3), np.uint8)
    labels = np.zeros(n, np.int64)
    annotations = []
    for k, rng in enumerate(image_rngs(seed, start, n)):
        labels[k] = chosen[(start + k) % len(chosen)]
        images[k], eyes = _render_one(IDENTITIES[labels[k]], rng)
        left, right = sorted(eyes.round(3).tolist())
        annotations.append({"left_eye": left, "right_eye": right})
    return images, labels, annotations


FACES_CNN = SyntheticRecipe(
    model_id="faces-cnn",
    title="Face-identity CNN",
    description=(
        "A small convolutional network that tells apart 12 synthetic people in 64×64 colour "
        "portraits drawn by the workbench's face generator (pose, expression, lighting, "
        "background vary); trained by the zoo recipe."
    ),
    dataset="faces",
    generator="workbench.zoo.faces.render_faces",
    render=render_faces,
    labels=FACE_LABELS,
    size=FACE_SIZE,
    architecture="small-cnn",
    train_images=3_000,
    held_out_images=1_200,
    epochs=4,
    batch_size=128,
    max_lr=3e-3,
    weight_decay=5e-4,
    folder=str,
)
