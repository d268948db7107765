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
:class:`BoundarySlice` event every so often, on a budget of wall time
(:mod:`workbench.audit.live_slices`), so that the slice is computed in the thread that runs the
attack (the GUI worker), never in the GUI thread, and costs the attack only a few per cent.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from workbench.audit.live_slices import PathBuffer, SliceBudget
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
    [0, 1], predicted in batches without gradients. The points are built on the model's device
    (no host-to-device copy of each batch)."""
    device = getattr(model, "device", "cpu")
    x, u, v = (_single(t).to(device) for t in (x, u, v))
    aa, bb = np.meshgrid(np.asarray(alphas, np.float64), np.asarray(betas, np.float64))
    a_flat = torch.from_numpy(aa.reshape(-1)).float().to(device)
    b_flat = torch.from_numpy(bb.reshape(-1)).float().to(device)
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

def with_boundary_slices(
    events: Iterable[AttackStep | AttackResult],
    model: ModelHandle,
    x_index: int,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    min_interval_s: float = 0.25,
    seed: int = 0,
    resolution: int = 41,
    extent: float | None = None,
    max_fraction: float = 0.05,
    live_fraction: float = 0.02,
    min_resolution: int = 7,
    batch_size: int = 256,
    max_path_points: int = 256,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[AttackStep | AttackResult | BoundarySlice]:
    """Pass an attack's events through and add :class:`BoundarySlice` events for image
    ``x_index`` of the batch ``x`` (N×C×H×W, as given to the attack; ``mask`` N×1×H×W, 1×1×H×W,
    H×W or None).

    Slices follow the time budget of :class:`~workbench.audit.live_slices.SliceBudget`.
    **Live slices** follow an :class:`AttackStep`: at most every ``min_interval_s`` seconds,
    all of them together within ``live_fraction`` of the wall time, each as fine as its share
    allows (``min_resolution`` to ``resolution`` points a side, from the measured cost of a grid
    point). **One final slice** (``final=True``) comes just before the :class:`AttackResult`,
    which stays the last event: ``resolution`` points a side when that keeps all slicing within
    ``max_fraction`` of the run, else the finest that does (``max_fraction=1``: always
    ``resolution``).

    ``u`` is the image's current perturbation; the random ``v`` is drawn once from ``seed`` and
    kept for the whole run. The attack's own events pass through untouched, so its results are
    the same with or without slices. ``clock`` times the slices and the budget (injectable for
    tests). Closing this generator closes the attack's.
    """
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
    path = PathBuffer(x0, capacity=max_path_points)
    budget = SliceBudget(
        resolution=resolution, min_resolution=min_resolution, max_fraction=max_fraction,
        live_fraction=live_fraction, min_interval_s=min_interval_s, clock=clock,
    )

    def make(side: int, iteration: int, final: bool) -> BoundarySlice:
        started = clock()
        result = decision_slice(
            model, x0, path.latest - x0, mask_one, generator,
            resolution=side, extent=extent, path=path.tensor(),
            v_raw=v_raw, u_fallback=u_fallback, batch_size=batch_size,
            x_index=x_index, iteration=iteration, final=final,
        )
        budget.spent(side, clock() - started, live=not final)
        return result

    iterator = iter(events)
    iteration = 0
    try:
        for event in iterator:
            if isinstance(event, AttackResult):
                path.add(event.x_adv[x_index : x_index + 1])
                side, iteration = budget.final_side(), event.iterations or iteration
                final = make(side, iteration, True)
                finer = budget.final_side()  # once more, finer, if its measured cost allows it
                yield make(finer, iteration, True) if finer > side else final
                yield event
                continue
            yield event
            if isinstance(event, AttackStep):
                iteration = event.iteration
                path.add(event.x_adv[x_index : x_index + 1])
                side = budget.live_side()
                if side:
                    yield make(side, iteration, False)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
