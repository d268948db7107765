"""``InputSpec``: the input a model expects — channels, size, normalization, resize policy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InputSpec:
    """What the model expects: channels, size and the normalization applied inside the handle."""

    channels: int
    height: int
    width: int
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    resize: str = "resize"  # "resize" (stretch) or "center-crop" (resize short side, then crop)

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"input channels must be 1 or 3, not {self.channels}")
        if self.height < 1 or self.width < 1:
            raise ValueError(f"input size must be positive, not {self.height}×{self.width}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) not in (1, self.channels):
                raise ValueError(f"{name} needs 1 or {self.channels} values, not {len(values)}")
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")
        if self.resize not in ("resize", "center-crop"):
            raise ValueError(f"unknown resize policy '{self.resize}'")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "height": self.height,
            "width": self.width,
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": self.resize,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InputSpec":
        return cls(
            channels=int(data["channels"]),
            height=int(data["height"]),
            width=int(data["width"]),
            mean=tuple(float(v) for v in data.get("mean", (0.0,))),
            std=tuple(float(v) for v in data.get("std", (1.0,))),
            resize=str(data.get("resize", "resize")),
        )
