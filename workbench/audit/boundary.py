"""Decision-boundary probing: the model's prediction over a 2-D plane through an image.

The plane goes through the clean image ``x`` and is spanned by

* ``u``: the attack's perturbation ``δ = x_adv − x`` (or, while it is still zero, a random
  direction inside the mask), and
* ``v``: a random direction inside the mask, orthogonalized to ``u`` (Gram–Schmidt) and scaled
  to the same length as ``u``.

The point at coordinates ``(a, b)`` is ``x + a·u + b·v``, so ``(0, 0)`` is the clean image and
``(1, 0)`` the adversarial one; coordinates are in units of ``‖u‖₂`` (= ``‖v‖₂``). Both
directions are zero outside the mask, so every point of the plane differs from ``x`` only where
the attacker may change pixels.

Points are clamped to ``[0, 1]`` before they are classified, because the model is only defined
on valid images. Clamping bends the plane where it leaves the pixel cube: far from the centre,
neighbouring grid points may map to the same image, and the region there is a projection of
the plane rather than the plane itself. Near the segment from ``x`` to ``x_adv`` no clamping
happens (``x_adv`` is itself valid).

:func:`with_boundary_slices` wraps an attack's event generator and yields a
:class:`BoundarySlice` event every so often, so that the slice is computed in the thread that
runs the attack (the GUI worker), never in the GUI thread.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from workbench.core.events import AttackResult, AttackStep
from workbench.core.model import ModelHandle

_TINY = 1e-12


@dataclass(frozen=True)
class BoundarySlice:
    """The predicted class over a 2-D grid in the plane through an image; also an event.

    ``class_map[i, j]`` and ``confidence[i, j]`` are the predicted class and its probability at
    ``x + alphas[j]·u + betas[i]·v`` (rows follow ``betas``, columns ``alphas``). ``path`` is
    the attack's trajectory projected on the plane (T×2 columns a, b; first row the clean image,
    last row the current adversarial image). ``norm_u`` and ``norm_v`` are the L2 lengths of the
    unit steps along each axis. ``u_is_perturbation`` is False while the perturbation is zero
    and ``u`` is a random direction. Arrays are read-only.
    """

    class_map: np.ndarray  # R×R int32
    confidence: np.ndarray  # R×R float32
    alphas: np.ndarray  # R float64, along u
    betas: np.ndarray  # R float64, along v
    path: np.ndarray  # T×2 float64
    norm_u: float
    norm_v: float
    labels: tuple[str, ...]
    u_is_perturbation: bool = True
    x_index: int = 0
    iteration: int = 0
    final: bool = False

    @property
    def resolution(self) -> int:
        return int(self.class_map.shape[0])

    def class_at(self, a: float, b: float) -> int:
        """The predicted class at the grid point nearest to ``(a, b)``."""
        j = int(np.abs(self.alphas - a).argmin())
        i = int(np.abs(self.betas - b).argmin())
        return int(self.class_map[i, j])

    @property
    def clean_class(self) -> int:
        return self.class_at(0.0, 0.0)

    def classes_present(self) -> list[int]:
        return [int(c) for c in np.unique(self.class_map)]


# -- directions ---------------------------------------------------------------------------------

def _single(x: torch.Tensor) -> torch.Tensor:
    """``x`` as a float32 CPU tensor 1×C×H×W."""
    x = torch.as_tensor(x).detach().float().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"expected one image 1×C×H×W, got shape {tuple(x.shape)}")
    return x


def _mask_like(mask: torch.Tensor | np.ndarray | None, x: torch.Tensor) -> torch.Tensor:
    """A {0, 1} float mask 1×1×H×W for the image ``x`` (1×C×H×W); None means everywhere."""
    h, w = x.shape[-2:]
    if mask is None:
        return torch.ones(1, 1, h, w)
    m = torch.as_tensor(np.asarray(mask) if isinstance(mask, np.ndarray) else mask).detach().float().cpu()
    while m.dim() < 4:
        m = m.unsqueeze(0)
    if tuple(m.shape[-2:]) != (h, w) or m.shape[1] != 1:
        raise ValueError(f"mask must be 1×1×{h}×{w} (or {h}×{w}), got shape {tuple(m.shape)}")
    return (m[:1] > 0).float()


def random_direction(x: torch.Tensor, mask: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """A Gaussian random direction of unit L2 norm, zero outside the mask (shape of ``x``)."""
    x = _single(x)
    m = _mask_like(mask, x)
    d = torch.randn(x.shape, generator=generator, dtype=torch.float32) * m
    n = d.norm()
    return d / n if n > _TINY else d


def orthogonalize(v: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``v`` minus its component along ``u`` (one Gram–Schmidt step), at unit norm; zeros if
    nothing is left (the mask has a single entry)."""
    u_hat = u / u.norm().clamp_min(_TINY)
    w = v - (v * u_hat).sum() * u_hat
    # A second pass removes the rounding error left by the first (classical Gram–Schmidt).
    w = w - (w * u_hat).sum() * u_hat
    n = w.norm()
    return w / n if n > 1e-6 * max(float(v.norm()), _TINY) else torch.zeros_like(v)


def default_length(x: torch.Tensor, mask: torch.Tensor | None) -> float:
    """The axis unit used while the perturbation is zero: an RMS change of 0.1 per masked entry."""
    x = _single(x)
    m = _mask_like(mask, x)
    entries = float(m.sum()) * x.shape[1]
    return 0.1 * math.sqrt(max(entries, 1.0))


def plane_basis(
    x: torch.Tensor,
    direction: torch.Tensor | None,
    mask: torch.Tensor | None,
    generator: torch.Generator,
    *,
    v_raw: torch.Tensor | None = None,
    u_fallback: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """The plane's basis ``(u, v, u_is_perturbation)``, both of length ``‖direction‖`` (or
    :func:`default_length` if the direction is zero) and zero outside the mask.

    ``v_raw`` (a fixed random direction, e.g. kept for a whole run) and ``u_fallback`` (the
    random ``u`` to use while the perturbation is zero) are drawn from ``generator`` if not given.
    """
    x = _single(x)
    m = _mask_like(mask, x)
    d = torch.zeros_like(x) if direction is None else _single(direction) * m
    length = float(d.norm())
    if length > _TINY:
        u_hat, is_perturbation = d / length, True
    else:
        u_hat = u_fallback if u_fallback is not None else random_direction(x, m, generator)
        length, is_perturbation = default_length(x, m), False
    if v_raw is None:
        v_raw = random_direction(x, m, generator)
    v_hat = orthogonalize(v_raw * m, u_hat)
    return u_hat * length, v_hat * length, is_perturbation


# -- projection and slicing -----------------------------------------------------------------------

def project_path(points: torch.Tensor, x: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> np.ndarray:
    """Coordinates (T×2) of images ``points`` (T×C×H×W) in the plane ``x + a·u + b·v``:
    ``a = ⟨p − x, u⟩ / ‖u‖²``, ``b = ⟨p − x, v⟩ / ‖v‖²`` (orthogonal projection, since u ⟂ v;
    a zero ``v`` gives b = 0)."""
    x, u, v = _single(x), _single(u), _single(v)
    p = torch.as_tensor(points).detach().float().cpu()
    if p.dim() == 3:
        p = p.unsqueeze(0)
    diff = (p - x).reshape(p.shape[0], -1).double()
    uu, vv = u.reshape(-1).double(), v.reshape(-1).double()
    a = diff @ uu / max(float(uu @ uu), _TINY)
    b = diff @ vv / float(vv @ vv) if float(vv @ vv) > _TINY else torch.zeros_like(a)
    return torch.stack([a, b], dim=1).numpy()


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def auto_extent(path: np.ndarray | None, minimum: float = 2.0, maximum: float = 20.0) -> float:
    """Half-width of the grid: at least ``minimum`` and enough to hold the path with a margin."""
    if path is None or len(path) == 0:
        return minimum
    return float(min(maximum, max(minimum, 1.15 * float(np.abs(path).max()))))


@torch.no_grad()
def slice_grid(
    model: ModelHandle,
    x: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    alphas: np.ndarray,
    betas: np.ndarray,
    *,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """(class_map, confidence) over the grid ``x + alphas[j]·u + betas[i]·v``, clamped to
    [0, 1], predicted in batches without gradients."""
    x, u, v = _single(x), _single(u), _single(v)
    aa, bb = np.meshgrid(np.asarray(alphas, np.float64), np.asarray(betas, np.float64))
    a_flat = torch.from_numpy(aa.reshape(-1)).float()
    b_flat = torch.from_numpy(bb.reshape(-1)).float()
    classes, confidences = [], []
    for start in range(0, a_flat.numel(), batch_size):
        a = a_flat[start : start + batch_size].view(-1, 1, 1, 1)
        b = b_flat[start : start + batch_size].view(-1, 1, 1, 1)
        points = (x + a * u + b * v).clamp_(0.0, 1.0)
        probs = model.predict(points, batch_size=batch_size)
        conf, cls = probs.max(dim=1)
        classes.append(cls)
        confidences.append(conf)
    shape = aa.shape
    class_map = torch.cat(classes).reshape(shape).numpy().astype(np.int32)
    confidence = torch.cat(confidences).reshape(shape).numpy().astype(np.float32)
    return class_map, confidence


def decision_slice(
    model: ModelHandle,
    x: torch.Tensor,
    direction: torch.Tensor | None,
    mask: torch.Tensor | None,
    generator: torch.Generator,
    *,
    resolution: int = 41,
    extent: float | None = 2.0,
    path: torch.Tensor | None = None,
    v_raw: torch.Tensor | None = None,
    u_fallback: torch.Tensor | None = None,
    batch_size: int = 256,
    x_index: int = 0,
    iteration: int = 0,
    final: bool = False,
) -> BoundarySlice:
    """The predicted class over ``x + a·u + b·v`` for ``a, b`` on a ``resolution``² grid in
    ``[-extent, extent]`` (units of ‖u‖; see the module docstring for u and v).

    ``x`` is one image 1×C×H×W in [0, 1]; ``direction`` the perturbation (1×C×H×W; None or zero
    → a random direction in the mask); ``mask`` 1×1×H×W (None = everywhere); ``path`` optional
    images T×C×H×W (the attack's iterates) to project on the plane. ``extent=None`` chooses it
    from the path (at least 2). With an odd resolution and extent 2, the grid holds (0, 0) and
    (1, 0) exactly.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, not {resolution}")
    x = _single(x)
    u, v, is_perturbation = plane_basis(
        x, direction, mask, generator, v_raw=v_raw, u_fallback=u_fallback
    )
    projected = (
        project_path(path, x, u, v) if path is not None and len(path) else np.zeros((0, 2))
    )
    half = auto_extent(projected) if extent is None else float(extent)
    if not half > 0:
        raise ValueError(f"extent must be positive, not {extent}")
    axis = np.linspace(-half, half, int(resolution))
    class_map, confidence = slice_grid(model, x, u, v, axis, axis, batch_size=batch_size)
    return BoundarySlice(
        class_map=_frozen(class_map),
        confidence=_frozen(confidence),
        alphas=_frozen(axis.copy()),
        betas=_frozen(axis.copy()),
        path=_frozen(np.asarray(projected, dtype=np.float64).reshape(-1, 2)),
        norm_u=float(u.norm()),
        norm_v=float(v.norm()),
        labels=tuple(model.labels),
        u_is_perturbation=is_perturbation,
        x_index=int(x_index),
        iteration=int(iteration),
        final=bool(final),
    )


# -- the event wrapper ------------------------------------------------------------------------------

class _PathBuffer:
    """The iterates of one image, thinned to at most ``capacity`` points (every k-th, k doubling
    when full), plus the latest one; so long attacks on large images stay bounded in memory."""

    def __init__(self, start: torch.Tensor, capacity: int = 256) -> None:
        self.points = [start]
        self.capacity = max(4, capacity)
        self.stride = 1
        self.seen = 0
        self.latest: torch.Tensor | None = None

    def add(self, point: torch.Tensor) -> None:
        self.seen += 1
        self.latest = point
        if self.seen % self.stride == 0:
            self.points.append(point)
            if len(self.points) > self.capacity:
                self.points = self.points[::2]
                self.stride *= 2

    def tensor(self) -> torch.Tensor:
        points = list(self.points)
        if self.latest is not None and points[-1] is not self.latest:
            points.append(self.latest)
        return torch.cat(points)


def _odd_resolution(points_affordable: float, low: int, high: int) -> int:
    """The largest odd grid side r with r² ≤ points_affordable, within [low, high]."""
    r = int(math.floor(math.sqrt(max(points_affordable, 0.0))))
    r = max(low, min(high, r))
    return r if r % 2 == 1 or r == high else r - 1


def with_boundary_slices(
    events: Iterable[AttackStep | AttackResult],
    model: ModelHandle,
    x_index: int,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    min_interval_s: float = 0.3,
    seed: int = 0,
    resolution: int = 41,
    extent: float | None = None,
    max_fraction: float = 0.1,
    live_budget_s: float | None = 0.25,
    final_budget_s: float | None = 1.5,
    min_resolution: int = 9,
    batch_size: int = 256,
    max_path_points: int = 256,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[AttackStep | AttackResult | BoundarySlice]:
    """Pass an attack's events through and add :class:`BoundarySlice` events for image
    ``x_index`` of the batch ``x`` (N×C×H×W, as given to the attack; ``mask`` N×1×H×W, 1×1×H×W,
    H×W or None).

    **When.** A slice follows an :class:`AttackStep` when at least ``min_interval_s`` seconds
    have passed since the last one *and* slicing has taken at most ``max_fraction`` of the time
    (the wait after a slice that took ``c`` seconds is at least ``c·(1/max_fraction − 1)``), so
    the attack keeps ≥ 90 % of its speed by default. One final slice (``final=True``) always
    comes just before the :class:`AttackResult`, which stays the last event.

    **How fine.** ``resolution`` is the largest grid side. Live slices aim at ``live_budget_s``
    seconds each and the final one at ``final_budget_s``: the first live slice is coarse
    (``min_resolution``) and measures the model's cost per point, later ones use the largest
    odd side that fits the budget (at least ``min_resolution``). On a fast machine or a small
    model every slice gets ``resolution``; pass ``None`` budgets for a fixed resolution (the
    slices are then the same on every machine).

    ``u`` is the image's current perturbation; the random ``v`` is drawn once from ``seed`` and
    kept for the whole run. Closing this generator closes the attack's.
    """
    if not 0 < max_fraction <= 1:
        raise ValueError(f"max_fraction must lie in (0, 1], not {max_fraction}")
    batch = torch.as_tensor(x).detach().float().cpu()
    if batch.dim() == 3:
        batch = batch.unsqueeze(0)
    if not 0 <= x_index < batch.shape[0]:
        raise ValueError(f"x_index {x_index} is outside the batch of {batch.shape[0]}")
    x0 = batch[x_index : x_index + 1].contiguous()
    if mask is not None:
        m = torch.as_tensor(mask).detach().float().cpu()
        while m.dim() < 4:
            m = m.unsqueeze(0)
        mask_one = _mask_like(m[x_index : x_index + 1] if m.shape[0] > 1 else m[:1], x0)
    else:
        mask_one = _mask_like(None, x0)
    generator = torch.Generator().manual_seed(int(seed))
    u_fallback = random_direction(x0, mask_one, generator)
    v_raw = random_direction(x0, mask_one, generator)
    path = _PathBuffer(x0, capacity=max_path_points)
    low = max(2, min(int(min_resolution), int(resolution)))
    cost_per_point: float | None = None

    def side(budget: float | None) -> int:
        if budget is None:
            return int(resolution)
        if cost_per_point is None:
            return low
        return _odd_resolution(budget / cost_per_point, low, int(resolution))

    def make(current: torch.Tensor, iteration: int, final: bool) -> tuple[BoundarySlice, float]:
        nonlocal cost_per_point
        r = side(final_budget_s if final else live_budget_s)
        started = time.perf_counter()
        result = decision_slice(
            model, x0, current - x0, mask_one, generator,
            resolution=r, extent=extent, path=path.tensor(),
            v_raw=v_raw, u_fallback=u_fallback, batch_size=batch_size,
            x_index=x_index, iteration=iteration, final=final,
        )
        cost = time.perf_counter() - started
        cost_per_point = cost / (r * r)
        return result, cost

    iterator = iter(events)
    last_time: float | None = None
    last_cost = 0.0
    iteration = 0
    try:
        for event in iterator:
            if isinstance(event, AttackResult):
                current = event.x_adv[x_index : x_index + 1].detach().float().cpu()
                path.add(current)
                yield make(current, event.iterations or iteration, True)[0]
                yield event
                continue
            yield event
            if isinstance(event, AttackStep):
                iteration = event.iteration
                current = event.x_adv[x_index : x_index + 1].detach().float().cpu()
                path.add(current)
                now = clock()
                wait = max(min_interval_s, last_cost * (1.0 / max_fraction - 1.0))
                if last_time is None or now - last_time >= wait:
                    slice_event, last_cost = make(current, iteration, False)
                    last_time = clock()
                    yield slice_event
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
