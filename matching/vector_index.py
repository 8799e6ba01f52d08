"""Exact nearest-neighbour search over archived face embeddings.

Brute force is the fastest exact option here (measured: numpy beats usearch, faiss and
sqlite-vec at 1M x 128), so the index is a float32 matrix. There is one index per embedding
space (`analyzers.face_spaces.FaceSpace`: face model and version), holding only that space's
faces, so vectors of different models never meet (nor need the same length). The database stays
the durable copy (`face.embedding`); a memory-mapped `.npy` cache per space in
`<workspace>/derived/cache/` is rebuilt from it whenever the space's set of face rows changed
(a digest of the space, then count, max id and id sum form the cache's name). Only archive faces
are cached on disk: reference embeddings live in SQLite only, so revoking a consent leaves no
copy behind (`drop_reference_caches` also removes any file an older version might have left).

A search is two passes: a scan estimates every face's squared distance within a known margin,
then every face whose margin reaches the threshold (or the k-th best) is rescored exactly, in
float64 from the stored float32 vector; so no face is missed, ties go to the lower id, and the
distances returned are exact. The scan reads the float32 matrix (margin: float32 rounding), or,
for an index of QUANTIZE_MIN_ROWS faces or more, its int8 copy (`matching.vector_quantized`:
a quarter of the bytes; the scan is memory-bound) in processes that run many searches (the
review UI, workers: `vector_quantized.expect_many_searches`), where packing it once pays.

Distances are Euclidean, as dlib defines them: d² = |a|² + |b|² − 2a·b.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from svidok.matching import vector_quantized
from svidok.matching.vector_quantized import QuantizedMatrix, QueryCode, approx_partial

if TYPE_CHECKING:
    from svidok.analyzers.face_spaces import FaceSpace
    from svidok.foundation.workspace import Workspace

DIM = 128                      # dlib's embedding length (benchmarks/search.py); other models have their own
CHUNK_ROWS = 262_144
CACHE_DIR = ("derived", "cache")
QUANTIZE_MIN_ROWS = 100_000    # smaller indexes scan float32 (fast enough) and keep two files
RESCORE_ROWS = 4_096           # rows rescored at once (bounds the float64 copy)
UNIT = 2.0 ** -24              # float32 unit roundoff
QUANTIZED_FILES = ("codes", "rows", "columns")


@dataclass(frozen=True)
class SearchResult:
    """Faces found for one query: ids and exact distances, and how many faces were rescored."""

    ids: np.ndarray            # int64
    distances: np.ndarray      # float32
    rescored: int


@dataclass
class FaceIndex:
    """Archive face embeddings, row i belongs to face id `ids[i]` (ascending)."""

    ids: np.ndarray            # int64 (N,)
    vectors: np.ndarray        # float32 (N, dimension of the space's model), usually a memmap
    sq_norms: np.ndarray       # float32 (N,)
    quantized: QuantizedMatrix | None = None      # the int8 copy scanned instead, when there is one

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of(self, face_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, face_ids)

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(start row, float32 vectors, squared norms) blocks."""
        for start in range(0, len(self.ids), rows):
            block = np.asarray(self.vectors[start:start + rows], dtype=np.float32)
            yield start, block, self.sq_norms[start:start + rows]

    def distances(self, queries: np.ndarray) -> np.ndarray:
        """Euclidean distances (q, N) from each query to every archived face (float32 arithmetic)."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        out = np.empty((len(queries), len(self.ids)), dtype=np.float32)
        q_norms = (queries * queries).sum(axis=1)[:, None]
        for start, block, norms in self.chunks():
            d2 = block @ queries.T
            d2 = (norms[:, None] - 2.0 * d2).T + q_norms
            np.sqrt(np.maximum(d2, 0.0, out=d2), out=out[:, start:start + len(block)])
        return out

    def partial_sq(self, query: np.ndarray) -> np.ndarray:
        """|x|² − 2x·q for every archived x: the squared distance minus the constant |q|² (float32)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        out = np.empty(len(self.ids), dtype=np.float32)
        for start, block, norms in self.chunks():
            part = out[start:start + len(block)]
            np.matmul(block, query, out=part)
            part *= -2.0
            part += norms
        return out

    @property
    def uses_quantized(self) -> bool:
        """Whether searches scan the int8 copy: there is one, its kernel loads, and this process
        has packed it already or runs many searches (`vector_quantized.expect_many_searches`)."""
        return (self.quantized is not None and vector_quantized.available()
                and (self.quantized.ready or vector_quantized.worth_packing()))

    def nearest(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k archived faces closest to one query: (face ids, distances), closest first."""
        found = self.search_nearest(query, k)
        return found.ids, found.distances

    def within(self, query: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """Every archived face within `max_distance` of one query: (face ids, distances), by id."""
        found = self.search_within(query, max_distance)
        return found.ids, found.distances

    def search_nearest(self, query: np.ndarray, k: int) -> SearchResult:
        """`nearest`, with the count of faces rescored."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        k = min(k, len(self.ids))
        if k <= 0:
            return SearchResult(np.empty(0, np.int64), np.empty(0, np.float32), 0)
        q2 = float(np.dot(q.astype(np.float64), q.astype(np.float64)))
        estimates = np.empty(len(self.ids), dtype=np.float32)
        blocks = [(start, len(part), margin) for start, part, margin in self._estimates(q, estimates)]
        # The k smallest estimates of the first block, or of all, name k faces: their exact
        # distances bound the k-th best from above, so any face whose estimate minus its margin
        # exceeds that bound cannot be among the k.
        first = estimates[:blocks[0][1]]
        seed = np.flatnonzero(estimates <= np.partition(first, k - 1)[k - 1]) if len(first) >= k else None
        if seed is None or len(seed) < k:
            seed = np.arange(len(estimates))
        seed = seed[np.argpartition(estimates[seed], k - 1)[:k]]
        bound = float(self.exact_sq(seed, q).max()) - q2
        rows = np.concatenate([np.flatnonzero(estimates[start:start + n] <= _at_least(bound + margin)) + start
                               for start, n, margin in blocks])
        squared = self.exact_sq(rows, q)
        order = np.lexsort((rows, squared))[:k]
        return SearchResult(self.ids[rows[order]], np.sqrt(squared[order]).astype(np.float32), len(rows) + k)

    def search_within(self, query: np.ndarray, max_distance: float) -> SearchResult:
        """`within`, with the count of faces rescored."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        limit = float(max_distance) ** 2
        q2 = float(np.dot(q.astype(np.float64), q.astype(np.float64)))
        rows = [np.flatnonzero(part <= _at_least(limit - q2 + margin)) + start
                for start, part, margin in self._estimates(q)]
        rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
        squared = self.exact_sq(rows, q)
        keep = squared <= limit
        return SearchResult(self.ids[rows[keep]], np.sqrt(squared[keep]).astype(np.float32), len(rows))

    def exact_sq(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Squared distances (float64) from the query to the given rows, each summed the same way
        whatever the row's place (equal vectors get equal distances)."""
        q = np.asarray(query, dtype=np.float32).reshape(-1).astype(np.float64)
        out = np.empty(len(rows), dtype=np.float64)
        for at in range(0, len(rows), RESCORE_ROWS):
            diff = np.asarray(self.vectors[rows[at:at + RESCORE_ROWS]], dtype=np.float64)
            diff -= q
            out[at:at + len(diff)] = np.square(diff, out=diff).sum(axis=1)
        return out

    def _estimates(self, query: np.ndarray, out: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray, float]]:
        """(start row, float32 estimates of |x|² − 2q·x, margin) per block; the exact values lie
        within the margin. Written into `out` (N,) when given."""
        if self.uses_quantized:
            yield from approx_partial(self.quantized, QueryCode.of(query, self.quantized.columns), out)
            return
        # float32: each product and norm is off by at most γ·|x||q| (γ = d·u/(1 − d·u), any order)
        rounding = 2 * (self.vectors.shape[1] + 2) * UNIT
        q_norm = float(np.linalg.norm(query.astype(np.float64)))
        for start, block, norms in self.chunks():
            part = np.matmul(block, query, out=None if out is None else out[start:start + len(block)])
            part *= -2.0
            part += norms
            largest = float(np.max(norms, initial=0.0))
            yield start, part, rounding * (largest + 2 * q_norm * np.sqrt(largest)) * (1 + 1e-6)


def _at_least(value: float) -> np.float32:
    """The float32 nearest `value` from above (comparisons of float32 estimates never round a bound down)."""
    low = np.float32(value)
    return low if float(low) >= value else np.nextafter(low, np.float32(np.inf))


def cache_dir(ws: "Workspace") -> Path:
    return ws.root.joinpath(*CACHE_DIR)


def _space_key(space: "FaceSpace") -> str:
    return hashlib.sha256(space.label.encode()).hexdigest()[:12]


def _signature(ws: "Workspace", space: "FaceSpace") -> str:
    in_space, args = space.where()
    count, max_id, id_sum = ws.conn.execute(
        f"SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0) FROM face WHERE {in_space}", args).fetchone()
    return f"{count}-{max_id}-{id_sum}"


def load_face_index(ws: "Workspace", space: "FaceSpace") -> FaceIndex:
    """The memory-mapped index of the archive faces of one embedding space, rebuilt when stale."""
    folder = cache_dir(ws)
    prefix = f"faces-s{_space_key(space)}-"            # "s": never a digit, as the old index's names began
    try:
        return _open(folder / f"{prefix}{_signature(ws, space)}")
    except FileNotFoundError:                          # stale, or removed by another process's rebuild
        return _rebuild(ws, space, folder, prefix)


def _paths(stem: Path) -> dict[str, Path]:
    """The files of one index: ids, vectors and (large indexes) the int8 copy's three."""
    return {part: stem.with_name(f"{stem.name}.{part}.npy") for part in ("ids", "vectors", *QUANTIZED_FILES)}


def _open(stem: Path) -> FaceIndex:
    paths = _paths(stem)
    ids, vectors = np.load(paths["ids"]), np.load(paths["vectors"], mmap_mode="r")
    if len(ids) >= QUANTIZE_MIN_ROWS:
        quantized = vector_quantized.load_quantized(*(paths[part] for part in QUANTIZED_FILES))
        return FaceIndex(ids, vectors, np.asarray(quantized.rows[vector_quantized.SQ_NORM]), quantized)
    norms = np.einsum("ij,ij->i", vectors, vectors) if len(ids) else np.empty(0, np.float32)
    return FaceIndex(ids, vectors, norms.astype(np.float32))


def _rebuild(ws: "Workspace", space: "FaceSpace", folder: Path, prefix: str) -> FaceIndex:
    """Write the index of the rows as they are now, and open it.

    Several processes (workers on a shared folder, the UI) may rebuild at once: each writes its
    own temporary files, opens them, names the result after the rows it actually read and renames
    it into place (the same rows give the same bytes); older indexes are removed afterwards (what
    this process opened stays readable even if another one removes it)."""
    folder.mkdir(parents=True, exist_ok=True)
    in_space, args = space.where()
    count, length = ws.conn.execute(f"SELECT count(*), max(length(embedding)) FROM face WHERE {in_space}",
                                    args).fetchone()
    dim = int(length or 0) // 4
    own = _paths(folder / f".tmp-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}")
    vectors = np.lib.format.open_memmap(own["vectors"], mode="w+", dtype=np.float32, shape=(count, dim))
    ids = np.empty(count, dtype=np.int64)
    cursor = ws.conn.execute(f"SELECT id, embedding FROM face WHERE {in_space} ORDER BY id", args)
    row = 0
    while batch := cursor.fetchmany(10_000):
        n = min(len(batch), count - row)
        ids[row:row + n] = [b[0] for b in batch[:n]]
        blob = b"".join(b[1] for b in batch[:n])
        if len(blob) != n * dim * 4:
            raise ValueError(f"faces of {space.label} have embeddings of different lengths")
        vectors[row:row + n] = np.frombuffer(blob, dtype=np.float32).reshape(n, dim)
        row += n
    if row < count:                                    # rows deleted meanwhile: keep what was read
        exact_path = own["vectors"].with_suffix(".exact.npy")
        exact = np.lib.format.open_memmap(exact_path, mode="w+", dtype=np.float32, shape=(row, dim))
        exact[:] = vectors[:row]
        exact.flush()
        del exact
        os.replace(exact_path, own["vectors"])
    else:
        vectors.flush()
    del vectors
    ids = ids[:row]
    np.save(own["ids"], ids)
    if row >= QUANTIZE_MIN_ROWS:
        vector_quantized.write_quantized(np.load(own["vectors"], mmap_mode="r"),
                                         *(own[part] for part in QUANTIZED_FILES))
    else:
        own = {part: own[part] for part in ("ids", "vectors")}
    index = _open(own["ids"].with_name(own["ids"].name.removesuffix(".ids.npy")))
    final = _paths(folder / f"{prefix}{row}-{int(ids.max()) if row else 0}-{int(ids.sum()) if row else 0}")
    for part, path in own.items():                     # the vectors last: a reader finding them finds the rest
        if part != "vectors":
            os.replace(path, final[part])
    os.replace(own["vectors"], final["vectors"])
    for old in [*folder.glob(f"{prefix}*.npy"), *folder.glob("faces-[0-9]*.npy")]:   # and pre-space indexes
        if old not in final.values():
            old.unlink(missing_ok=True)
    return index


def drop_reference_caches(ws: "Workspace") -> int:
    """Remove any on-disk cache that could hold reference embeddings; returns files removed."""
    folder = cache_dir(ws)
    removed = 0
    for path in folder.glob("ref*") if folder.exists() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def as_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)
