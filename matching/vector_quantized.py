"""A compact int8 copy of a face index's matrix, scanned for bounds that keep the search exact.

Scanning the float32 matrix is memory-bound (1M faces x 704 numbers: 2.6 GiB a query), so a
large index also keeps one byte per number. Row x is stored as int8 codes X with a per-row
scale s, in a space where each column j is divided by the index's column scale c_j (the square
root of that column's root mean square: real embeddings have columns 100x apart; evening them
out half way shrinks the bound below by 14 % on MobileFaceNet's, all the way only moves the
error from the rows to the query):

    x ≈ c ∘ y,  y = s·X                           (X int8 in [-127, 127])

A query q is quantised the same way in that space: q ∘ c = t·Q + e (Q int8, e its error), and
onnxruntime's MatMulInteger gives the integer products Q·X exactly (int32; numpy's integer
products are slow, and MatMulInteger is fast only with the matrix as a constant that it packs
once: each process keeps one session per open index, the packed copy in its memory, built on
the first search: 2-5 s at 1M x 704 on a busy 2-core machine, benchmarks/search.py; so only a
process that said it `expect_many_searches` packs, a one-shot command scans float32). Then,
with r = x − c ∘ y stored per row as |r|,

    q·x = t·s·(Q·X) + e·y + q·r,   so   |q·x − t·s·(Q·X)| ≤ |e|·|y| + |q|·|r|   (Cauchy-Schwarz)

and the squared distance's part |x|² − 2q·x is known within 2(|e||y| + |q||r|) plus a float32
rounding allowance: `approx_partial` yields it per block with one such margin per block (its
rows' largest). `matching.vector_index.FaceIndex` rescores every row whose margin reaches the
threshold or the k-th best exactly, from the float32 matrix, so no match is ever lost.

Files (memory-mapped `.npy`, written by the index's rebuild): codes (dimension, N) int8, the
transpose the kernel takes; rows (4, N) float32: s, |x|², |y| and |r| (the norms rounded up);
columns (dimension,) float32: c.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BLOCK_ROWS = 65_536            # rows sharing one margin (their largest)
KEPT_OPEN = 2                  # indexes (and their kernel sessions) a process keeps open
LEVELS = 127                   # int8 codes in [-127, 127]
ZERO_POINT = 128               # the query travels as uint8 = Q + 128 (the fast kernels want u8 x s8)
UNIT = 2.0 ** -24              # float32 unit roundoff
SCALE, SQ_NORM, SCALED_NORM, RESIDUAL_NORM = range(4)     # the rows of `rows`


@dataclass(frozen=True)
class QuantizedMatrix:
    """The int8 copy of an index's N x dimension float32 matrix (see the module docstring)."""

    codes: np.ndarray          # int8 (dimension, N), usually a memmap
    rows: np.ndarray           # float32 (4, N): scale, |x|², |y|, |r|
    columns: np.ndarray        # float32 (dimension,): column scales c
    block_max: np.ndarray      # float64 (3, blocks of BLOCK_ROWS): per block the largest |x|², |y|, |r|
    _kernel: list = field(default_factory=list, repr=False, compare=False)   # the session, once built
    _lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def of(cls, codes: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> "QuantizedMatrix":
        n = rows.shape[1]
        maxima = [np.asarray(rows[[SQ_NORM, SCALED_NORM, RESIDUAL_NORM], s:s + BLOCK_ROWS], np.float64).max(axis=1)
                  for s in range(0, n, BLOCK_ROWS)]
        return cls(codes, rows, columns, np.array(maxima, np.float64).T.reshape(3, -1))

    def __len__(self) -> int:
        return self.rows.shape[1]

    @property
    def ready(self) -> bool:
        """Whether this process has packed the codes for the kernel already (the first search does)."""
        return bool(self._kernel)

    def products(self, code: "QueryCode") -> np.ndarray:
        """Q·X for every row (int32, N): exact."""
        with self._lock:
            if not self._kernel:
                self._kernel.append(_session(self.codes))
        return self._kernel[0].run(None, {"A": code.as_uint8, "Z": np.array(ZERO_POINT, np.uint8)})[0][0]


@dataclass(frozen=True)
class QueryCode:
    """One query quantised in the column-scaled space: q ∘ c = scale·codes + error."""

    as_uint8: np.ndarray       # uint8 (1, dimension): codes + ZERO_POINT
    scale: float               # t (a float32 value)
    error_norm: float          # |e|, rounded up
    norm: float                # |q|, rounded up
    code_norm: float           # |t·Q|, rounded up

    @classmethod
    def of(cls, query: np.ndarray, columns: np.ndarray) -> "QueryCode":
        q = np.asarray(query, dtype=np.float64).reshape(-1)
        scaled = q * np.asarray(columns, np.float64)
        codes, scale = _codes(scaled[None, :])
        exact = codes[0].astype(np.float64) * float(scale[0])
        return cls((codes[0].astype(np.int16) + ZERO_POINT).astype(np.uint8)[None, :], float(scale[0]),
                   _up(np.linalg.norm(scaled - exact)), _up(np.linalg.norm(q)), _up(np.linalg.norm(exact)))


def _up(value: float) -> float:
    """A float at least `value` with room for the rounding of its own computation."""
    return float(value) * (1.0 + 1e-12) + 1e-300


def _codes(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and float32 per-row scales of float64 rows (an all-zero row: scale 1, codes 0)."""
    peak = np.abs(scaled).max(axis=1)
    scale = np.where(peak > 0, peak / LEVELS, 1.0).astype(np.float32)
    codes = np.clip(np.rint(scaled / scale[:, None].astype(np.float64)), -LEVELS, LEVELS).astype(np.int8)
    return codes, scale


def column_scales(vectors: np.ndarray, chunk: int = 16_384) -> np.ndarray:
    """The square root of each column's root mean square (1 where a column is all zeros), float32."""
    total = np.zeros(vectors.shape[1], np.float64)
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start:start + chunk], np.float64)
        total += np.einsum("ij,ij->j", block, block)
    rms = np.sqrt(total / max(len(vectors), 1))
    return np.where(rms > 0, np.sqrt(rms), 1.0).astype(np.float32)


def quantize_rows(vectors: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes (n, dimension) and the (4, n) row figures of float32 rows. Computed in float32
    (half the bytes of float64); each norm is then enlarged by its rounding's bound: a float32
    sum of d squares is within γ = d·u/(1 − d·u) of its value, each product or difference
    within u, so |y| and |r| are never understated; |x|² may be off by γ·|x|² (the scan's
    margin allows for it)."""
    x = np.asarray(vectors, np.float32)
    c = np.asarray(columns, np.float32)
    dim = x.shape[1]
    work = x / c
    peak = np.abs(work).max(axis=1) if dim else np.zeros(len(x), np.float32)
    scale = np.where(peak > 0, peak / LEVELS, 1.0).astype(np.float32)
    work /= scale[:, None]
    np.clip(np.rint(work, out=work), -LEVELS, LEVELS, out=work)
    codes = work.astype(np.int8)
    work *= scale[:, None]                             # y, each number within u of s·X
    gamma = (dim + 2) * UNIT / (1 - (dim + 2) * UNIT)
    sums = np.einsum("ij,ij->i", work, work).astype(np.float64)
    scaled_norm = np.sqrt(sums * (1 + gamma)) * (1 + 2 * UNIT)
    work *= c                                          # c ∘ y, within 2u
    np.subtract(x, work, out=work)                     # r, within 2u(|x| + |r|) + u|r|
    sq_norm = np.einsum("ij,ij->i", x, x).astype(np.float64)
    residual = np.sqrt(np.einsum("ij,ij->i", work, work).astype(np.float64) * (1 + gamma))
    residual = (residual * (1 + UNIT) + 2 * UNIT * np.sqrt(sq_norm * (1 + gamma))) / (1 - 2 * UNIT)
    figures = np.empty((4, len(x)), np.float32)
    figures[SCALE] = scale
    figures[SQ_NORM] = sq_norm
    up = np.float32(np.inf)
    figures[SCALED_NORM] = np.nextafter(scaled_norm.astype(np.float32), up)
    figures[RESIDUAL_NORM] = np.nextafter(residual.astype(np.float32), up)
    return codes, figures


def write_quantized(vectors: np.ndarray, codes_path: Path, rows_path: Path, columns_path: Path,
                    chunk: int = 8_192) -> None:
    """Write the int8 copy of a float32 (N, dimension) matrix to three new `.npy` files."""
    n, dim = vectors.shape
    columns = column_scales(vectors)
    codes = np.lib.format.open_memmap(codes_path, mode="w+", dtype=np.int8, shape=(dim, n))
    rows = np.lib.format.open_memmap(rows_path, mode="w+", dtype=np.float32, shape=(4, n))
    for start in range(0, n, chunk):
        block_codes, figures = quantize_rows(vectors[start:start + chunk], columns)
        codes[:, start:start + len(block_codes)] = block_codes.T
        rows[:, start:start + len(block_codes)] = figures
    codes.flush()
    rows.flush()
    del codes, rows
    np.save(columns_path, columns)


_OPEN: OrderedDict[tuple, QuantizedMatrix] = OrderedDict()
_OPEN_LOCK = threading.Lock()


def load_quantized(codes_path: Path, rows_path: Path, columns_path: Path) -> QuantizedMatrix:
    """The int8 copy in these files; the same files (by inode, size and time, whatever their name
    now) give the same object back, with its kernel session, while among the KEPT_OPEN latest."""
    paths = (codes_path, rows_path, columns_path)
    identity = tuple((s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns) for s in map(os.stat, paths))
    with _OPEN_LOCK:
        if identity in _OPEN:
            _OPEN.move_to_end(identity)
            return _OPEN[identity]
    matrix = QuantizedMatrix.of(np.load(codes_path, mmap_mode="r"), np.load(rows_path, mmap_mode="r"),
                                np.load(columns_path))
    with _OPEN_LOCK:
        matrix = _OPEN.setdefault(identity, matrix)
        while len(_OPEN) > KEPT_OPEN:
            _OPEN.popitem(last=False)
    return matrix


def approx_partial(matrix: QuantizedMatrix, code: QueryCode,
                   out: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray, float]]:
    """(start row, float32 estimates of |x|² − 2q·x, margin) per block: every row's exact value
    lies within the margin of its estimate. The estimates are written into `out` (N,) if given."""
    integer = matrix.products(code)
    scale = np.float32(-2.0 * code.scale)
    for b, start in enumerate(range(0, len(matrix), BLOCK_ROWS)):
        end = min(start + BLOCK_ROWS, len(matrix))
        estimate = np.multiply(integer[start:end], matrix.rows[SCALE, start:end], dtype=np.float32,
                               casting="unsafe", out=None if out is None else out[start:end])
        estimate *= scale
        estimate += matrix.rows[SQ_NORM, start:end]
        sq_norm, scaled_norm, residual_norm = matrix.block_max[:, b]
        rounding = (matrix.codes.shape[0] + 8) * UNIT * sq_norm + 16 * UNIT * code.code_norm * scaled_norm
        yield start, estimate, 2 * (code.error_norm * scaled_norm + code.norm * residual_norm) + rounding


_many_searches = False


def expect_many_searches() -> None:
    """Say that this process runs many searches (the review UI, a worker): its first search on a
    large index packs the codes (seconds) so that every later one reads a quarter of the bytes.
    A one-shot command (`svidok enroll`, `svidok match`) does not say so, and scans float32
    rather than pay the packing for one or two searches."""
    global _many_searches
    _many_searches = True


def worth_packing() -> bool:
    return _many_searches


@functools.cache
def available() -> bool:
    """Whether onnxruntime (the integer kernel) can be loaded here."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _session(codes: np.ndarray):  # noqa: ANN202 - an onnxruntime.InferenceSession, imported lazily
    """A session computing Y (1, N) int32 = (A − Z) · codes, A uint8 (1, d): the codes are its
    constant, packed once for the fast kernels (the memmap itself is read, never copied whole)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.add_external_initializers(["B"], [onnxruntime.OrtValue.ortvalue_from_numpy(codes)])
    return onnxruntime.InferenceSession(_matmul_integer_model(*codes.shape), options,
                                        providers=["CPUExecutionProvider"])


def _matmul_integer_model(dim: int, n: int) -> bytes:
    """The ONNX model of one MatMulInteger node whose B (dim x n int8) is an external initializer
    (supplied by the session options), encoded by hand (the `onnx` package is not a dependency):
    protobuf fields of ModelProto, GraphProto, NodeProto, TensorProto and ValueInfoProto."""
    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)

    def field(number: int, value: int | str | bytes) -> bytes:
        if isinstance(value, int):
            return varint(number << 3) + varint(value)
        data = value.encode() if isinstance(value, str) else value
        return varint(number << 3 | 2) + varint(len(data)) + data

    def tensor(name: str, elem_type: int, dims: tuple[int, ...]) -> bytes:
        shape = b"".join(field(1, field(1, d)) for d in dims)
        return field(1, name) + field(2, field(1, field(1, elem_type) + field(2, shape)))

    uint8, int8, int32, external = 2, 3, 6, 1
    constant = (field(1, dim) + field(1, n) + field(2, int8) + field(8, "B")
                + field(13, field(1, "location") + field(2, "supplied-by-session-options")) + field(14, external))
    node = field(1, "A") + field(1, "B") + field(1, "Z") + field(2, "Y") + field(4, "MatMulInteger")
    graph = (field(1, node) + field(2, "int8_products") + field(5, constant) + field(11, tensor("A", uint8, (1, dim)))
             + field(11, tensor("Z", uint8, ())) + field(12, tensor("Y", int32, (1, n))))
    return field(1, 8) + field(8, field(2, 13)) + field(7, graph)
