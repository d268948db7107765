"""Built-in architectures, registered by name with ``workbench.core.architectures``."""
from __future__ import annotations

from torch import nn

from workbench.core.architectures import register_architecture


def _conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


@register_architecture("small-cnn")
def small_cnn(num_classes: int, in_channels: int) -> nn.Module:
    """A VGG-style CNN for 28×28 to 32×32 inputs (about 140k parameters): three stages of
    3×3 convolutions with batch norm, max pooling, then a small dense head."""
    return nn.Sequential(
        *_conv_block(in_channels, 32),
        *_conv_block(32, 32),
        nn.MaxPool2d(2),
        *_conv_block(32, 64),
        *_conv_block(64, 64),
        nn.MaxPool2d(2),
        *_conv_block(64, 64),
        nn.AdaptiveMaxPool2d(3),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 9, 128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )
