"""The mask policy the GUI, its "copy as command" and batch runs share, and model → display masks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.errors import MaskError
from workbench.core.mask_policy import (
    as_model_mask,
    batch_masks,
    effective_mask,
    enlarge,
    mask_from_model,
    mask_rectangle,
)
from workbench.core.masks import Mask


def test_effective_mask_and_mask_rectangle():
    assert effective_mask(None) is None and effective_mask(np.zeros((4, 4))) is None
    m = np.zeros((6, 8), np.uint8)
    m[1:4, 2:7] = 1
    assert effective_mask(m).dtype == np.float32
    assert mask_rectangle(m) == (2, 1, 5, 3)
    m[5, 0] = 1
    assert mask_rectangle(m) is None and mask_rectangle(None) is None
    assert mask_rectangle(np.zeros((3, 3))) is None


def test_batch_masks():
    shape = (2, 3)
    own = np.array([[1, 0, 0], [0, 0, 0]], np.float32)
    assert batch_masks({}, 0, 3, shape) == (None, "no mask: every pixel may change")
    assert batch_masks({0: np.zeros(shape)}, 0, 3, shape)[0] is None
    single, text = batch_masks({1: own}, 1, 3, shape)
    assert single.shape == (1, 1, 2, 3) and "current image's mask on every image" in text
    stack, text = batch_masks({0: own, 2: 1 - own}, 0, 3, shape)
    assert stack.shape == (3, 1, 2, 3) and text.endswith("the others the current image's mask")
    np.testing.assert_array_equal(stack[1, 0], own)
    stack, text = batch_masks({2: own, 7: own}, 0, 3, shape)  # index 7 is out of range
    np.testing.assert_array_equal(stack[0, 0], np.ones(shape))
    assert text == "1 images with their own mask, the others every pixel"


def test_model_masks_at_display_resolution():
    m = np.zeros((3, 4), np.float32)
    m[1, 2] = 1
    assert as_model_mask(torch.from_numpy(m)[None, None], (3, 4)).dtype == bool
    with pytest.raises(MaskError, match="5×5, the image 3×4"):
        as_model_mask(np.zeros((5, 5)), (3, 4))
    big = enlarge(m > 0, 2)
    assert big.shape == (6, 8) and big[2:4, 4:6].all() and big.sum() == 4
    np.testing.assert_array_equal(mask_from_model(m, (3, 4), 2).draw((8, 6)), big)
    assert mask_from_model(None, (3, 4), 2) == Mask() == mask_from_model(0 * m, (3, 4), 2)
    assert mask_from_model(np.ones((3, 4)), (3, 4), 2) == Mask().fill()
