"""``ModelHandle``: a classifier in [0, 1] pixel space (ARCHITECTURE.md, contract 1).

A handle takes float32 tensors N×C×H×W with values in [0, 1] and returns logits N×K. The
normalization (mean/std) lives inside it, as does the conversion of arbitrary images to its
input spec (:meth:`ModelHandle.prepare`). It also carries the class labels, the device, a
content hash of the weights and its capabilities.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core.device import choose_device
from workbench.core.errors import DataLoadError
from workbench.core.images import convert_to_spec
from workbench.core.spec import InputSpec


@dataclass(frozen=True)
class Capabilities:
    """What a consumer may do with a model."""

    gradients: bool = True  # white-box attacks need them
    kind: str = "classifier"  # "classifier" or "embedding"


class Normalized(nn.Module):
    """``inner(x - mean) / std)``: keeps normalization out of the attacks' sight."""

    def __init__(self, inner: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner((x - self.mean) / self.std)


def weights_hash(module: nn.Module) -> str:
    """sha256 over the module's parameters and buffers (names, dtypes, shapes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


class ModelHandle:
    """A classifier in [0, 1] pixel space with its labels, input spec, device and identity.

    ``module`` maps *normalized* inputs to logits; the handle wraps it with the spec's mean/std.
    Convolutional models run in ``channels_last`` memory format, which is several times faster
    on CPUs; inputs are converted to match.
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        spec: InputSpec,
        labels: Sequence[str],
        model_id: str,
        device: str | torch.device | None = None,
        capabilities: Capabilities = Capabilities(),
        weight_hash: str | None = None,
        card: dict[str, Any] | None = None,
        channels_last: bool = True,
    ) -> None:
        self.spec = spec
        self.labels = list(labels)
        self.model_id = model_id
        self.capabilities = capabilities
        self.card = dict(card or {})
        self.device = choose_device(device)
        self.weight_hash = weight_hash or weights_hash(module)
        self.channels_last = channels_last
        wrapped = Normalized(module, spec.mean, spec.std).eval()
        for p in wrapped.parameters():
            p.requires_grad_(False)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.module = wrapped.to(self.device, memory_format=memory_format)

    # -- identity -------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.spec.shape

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "weight_hash": self.weight_hash,
            "input": self.spec.as_dict(),
            "labels": self.labels,
            "device": str(self.device),
            "gradients": self.capabilities.gradients,
        }

    def label_index(self, label: str | int) -> int:
        """The class index for a label name or index (as a string or int)."""
        if isinstance(label, int) or (isinstance(label, str) and label.strip().isdigit()):
            index = int(label)
            if 0 <= index < self.num_classes:
                return index
            raise ValueError(f"class index {index} is out of range 0..{self.num_classes - 1}")
        lowered = {name.lower(): i for i, name in enumerate(self.labels)}
        key = str(label).strip().lower()
        if key in lowered:
            return lowered[key]
        raise ValueError(f"unknown class '{label}' (classes: {', '.join(self.labels)})")

    # -- computation ----------------------------------------------------------------------------
    def to_input(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` on the model's device and memory format, float32; checks the shape."""
        if x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise DataLoadError(
                f"expected images of shape N×{'×'.join(map(str, self.input_shape))}, "
                f"got {'×'.join(map(str, x.shape))}"
            )
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.to(self.device, torch.float32).contiguous(memory_format=memory_format)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×K for a batch in [0, 1]; differentiable with respect to ``x``."""
        return self.module(self.to_input(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Softmax probabilities N×K on the CPU, computed in batches without gradients."""
        chunks = [
            torch.softmax(self(x[i : i + batch_size]).float(), dim=1).cpu()
            for i in range(0, x.shape[0], batch_size)
        ]
        if not chunks:
            return torch.zeros(0, self.num_classes)
        return torch.cat(chunks)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Convert images (N×C×H×W in [0, 1], any size, 1 or 3 channels) to the input spec:
        grey↔RGB, then resize (or resize the short side and center-crop)."""
        return convert_to_spec(images, self.spec)
