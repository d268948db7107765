"""IDX reader: a good file round trip (plain and gzip) and each kind of bad file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from workbench.core.errors import DataLoadError
from workbench.core.idx import read_idx


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """An IDX file's bytes: magic (0, 0, type, ndims), big-endian sizes, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize(
    "dtype, type_code",
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_round_trip(tmp_path, dtype, type_code):
    array = (np.arange(3 * 4 * 5) - 7).astype(dtype).reshape(3, 4, 5)
    path = tmp_path / "data.idx"
    path.write_bytes(idx_bytes(array, type_code))
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.shape == (3, 4, 5)
    np.testing.assert_array_equal(result, array)
    result[0, 0, 0] = 1  # a writable array


def test_gzip(tmp_path):
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_data(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((10, 28, 28), np.uint8), 0x08)[:-100])
    with pytest.raises(
        DataLoadError,
        match=r"images-idx3-ubyte: truncated: header says 10×28×28 = 7840 bytes, file has 7740",
    ):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "extra.idx"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8), 0x08) + b"\0")
    with pytest.raises(DataLoadError, match=r"extra\.idx: too long"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10))
    with pytest.raises(DataLoadError, match=r"short\.idx: truncated header"):
        read_idx(path)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "not an IDX file"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown IDX type code 0x07"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (b"\0\0", "not an IDX file"),
    ],
)
def test_wrong_magic(tmp_path, content, problem):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(DataLoadError, match=problem) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 5), np.uint8), 0x08))[:-12])
    with pytest.raises(DataLoadError, match=r"broken\.gz: corrupt gzip data"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataLoadError, match=r"absent\.idx: cannot read"):
        read_idx(tmp_path / "absent.idx")
