"""Reader for IDX files, the format of MNIST and its family (Fashion-MNIST, KMNIST, EMNIST).

The format, as described on Yann LeCun's MNIST page: a 4-byte magic number — two zero bytes,
a type code, the number of dimensions — then one big-endian uint32 size per dimension, then the
data in C order, big-endian. Files are often distributed gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from workbench.core.errors import DataLoadError

# IDX type code → big-endian NumPy dtype.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (plain or ``.gz``), shaped as its header says, in the
    native byte order (e.g. ``uint8`` for images and labels).

    Raises :class:`DataLoadError` naming the file if it cannot be read, is not an IDX file, or
    its data length does not match the header exactly.
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, shape, offset = _parse_header(path, data)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - offset
    if actual != expected:
        problem = "truncated" if actual < expected else "too long"
        raise DataLoadError(
            f"{path}: {problem}: header says {'×'.join(map(str, shape))} = {expected} bytes, "
            f"file has {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _read_bytes(path: Path) -> bytes:
    """The file's contents, decompressed when it is gzip (recognised by its magic bytes)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataLoadError(f"{path}: cannot read: {error.strerror or error}") from error
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataLoadError(f"{path}: corrupt gzip data: {error}") from error


def _parse_header(path: Path, data: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, offset of the data) from an IDX header; checks the magic number."""
    if len(data) < 4:
        raise DataLoadError(f"{path}: not an IDX file: only {len(data)} bytes")
    zero, type_code, ndims = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0:
        raise DataLoadError(
            f"{path}: not an IDX file: magic number 0x{data[:4].hex()} does not start with 0x0000"
        )
    if type_code not in IDX_TYPES:
        raise DataLoadError(f"{path}: unknown IDX type code 0x{type_code:02x}")
    if ndims == 0:
        raise DataLoadError(f"{path}: IDX header declares 0 dimensions")
    offset = 4 + 4 * ndims
    if len(data) < offset:
        raise DataLoadError(
            f"{path}: truncated header: {ndims} dimensions need {offset} bytes, "
            f"file has {len(data)}"
        )
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndims, offset=4))
    return IDX_TYPES[type_code], shape, offset
