"""Built-in architectures, registered by name with ``workbench.core.architectures``."""

from __future__ import annotations

from torch import nn

from workbench.core.architectures import register_architecture


def _conv_pool_block(c_in: int, c_out: int, pool: nn.Module) -> list[nn.Module]:
    """3×3 convolution, pooling, batch norm, ReLU.

    Pooling right after the convolution (instead of after the activation) gives the same kind of
    network — max pooling commutes with ReLU — while batch norm and ReLU run on a quarter of the
    activations, which makes CPU training about 20 % faster.
    """
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        pool,
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    ]


@register_architecture("small-cnn")
def small_cnn(num_classes: int, in_channels: int) -> nn.Module:
    """A VGG-style CNN for 28×28 to 32×32 inputs (about 240k parameters, 7.5M multiply-adds
    for a 28×28 image): three stages of a 3×3 convolution (32, 64, 128 channels) with max
    pooling, then a dense head with dropout."""
    return nn.Sequential(
        *_conv_pool_block(in_channels, 32, nn.MaxPool2d(2)),
        *_conv_pool_block(32, 64, nn.MaxPool2d(2)),
        *_conv_pool_block(64, 128, nn.AdaptiveMaxPool2d(3)),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(128 * 9, 128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )
