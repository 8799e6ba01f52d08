"""Exact nearest-neighbour search over archived face embeddings.

Brute force over a float32 matrix is the fastest exact option here (measured: numpy beats
usearch, faiss and sqlite-vec at 1M x 128), so the index is just that matrix. SQLite stays
the durable copy (`face.embedding`); a memory-mapped `.npy` cache in
`<workspace>/derived/cache/` is rebuilt from it whenever the set of face rows changed
(count, max id and id sum form the cache's name). Only archive faces are cached on disk:
reference embeddings live in SQLite only, so revoking a consent leaves no copy behind
(`drop_reference_caches` also removes any file an older version might have left).

Distances are Euclidean, as dlib defines them: d² = |a|² + |b|² − 2a·b.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace

DIM = 128
CHUNK_ROWS = 262_144
CACHE_DIR = ("derived", "cache")


@dataclass
class FaceIndex:
    """Archive face embeddings, row i belongs to face id `ids[i]` (ascending)."""

    ids: np.ndarray            # int64 (N,)
    vectors: np.ndarray        # float32 or float16 (N, 128), usually a memmap
    sq_norms: np.ndarray       # float32 (N,)

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
        """Euclidean distances (q, N) from each query to every archived face."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        out = np.empty((len(queries), len(self.ids)), dtype=np.float32)
        q_norms = (queries * queries).sum(axis=1)[:, None]
        for start, block, norms in self.chunks():
            d2 = block @ queries.T
            d2 = (norms[:, None] - 2.0 * d2).T + q_norms
            np.sqrt(np.maximum(d2, 0.0, out=d2), out=out[:, start:start + len(block)])
        return out

    def partial_sq(self, query: np.ndarray) -> np.ndarray:
        """|x|² − 2x·q for every archived x: the squared distance minus the constant |q|²."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        out = np.empty(len(self.ids), dtype=np.float32)
        for start, block, norms in self.chunks():
            part = out[start:start + len(block)]
            np.matmul(block, query, out=part)
            part *= -2.0
            part += norms
        return out

    def nearest(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k archived faces closest to one query: (face ids, distances), closest first."""
        partial = self.partial_sq(query)
        k = min(k, len(partial))
        if k == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        # The k-th smallest value of the first block bounds the global k-th smallest from above,
        # so one vectorised comparison leaves a small candidate set to partition (not all N).
        first = partial[:CHUNK_ROWS]
        rows = np.flatnonzero(partial <= np.partition(first, k - 1)[k - 1]) if len(first) >= k else None
        if rows is None or len(rows) < k:
            rows = np.arange(len(partial))
        top = rows[np.argpartition(partial[rows], k - 1)[:k]]
        top = top[np.argsort(partial[top])]
        q2 = float(np.dot(query, query))
        return self.ids[top], np.sqrt(np.maximum(partial[top] + q2, 0.0))

    def within(self, query: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
        """Every archived face within `max_distance` of one query: (face ids, distances)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        partial = self.partial_sq(query)
        rows = np.flatnonzero(partial <= max_distance ** 2 - float(np.dot(query, query)))
        return self.ids[rows], np.sqrt(np.maximum(partial[rows] + float(np.dot(query, query)), 0.0))


def cache_dir(ws: "Workspace") -> Path:
    return ws.root.joinpath(*CACHE_DIR)


def _signature(ws: "Workspace") -> str:
    count, max_id, id_sum = ws.conn.execute(
        "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0) FROM face").fetchone()
    return f"{count}-{max_id}-{id_sum}"


def load_face_index(ws: "Workspace") -> FaceIndex:
    """The memory-mapped index of all archive faces, rebuilt from SQLite when stale."""
    folder = cache_dir(ws)
    stem = f"faces-{_signature(ws)}"
    vec_path, ids_path = folder / f"{stem}.vectors.npy", folder / f"{stem}.ids.npy"
    if not (vec_path.is_file() and ids_path.is_file()):
        _rebuild(ws, folder, stem)
    ids = np.load(ids_path)
    vectors = np.load(vec_path, mmap_mode="r")
    norms = np.einsum("ij,ij->i", vectors, vectors) if len(ids) else np.empty(0, np.float32)
    return FaceIndex(ids, vectors, norms.astype(np.float32))


def _rebuild(ws: "Workspace", folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("faces-*.npy"):
        old.unlink(missing_ok=True)
    count = ws.conn.execute("SELECT count(*) FROM face").fetchone()[0]
    tmp_vec, tmp_ids = folder / f".tmp-{stem}.vectors.npy", folder / f".tmp-{stem}.ids.npy"
    vectors = np.lib.format.open_memmap(tmp_vec, mode="w+", dtype=np.float32, shape=(count, DIM))
    ids = np.empty(count, dtype=np.int64)
    cursor = ws.conn.execute("SELECT id, embedding FROM face ORDER BY id")
    row = 0
    while batch := cursor.fetchmany(10_000):
        n = min(len(batch), count - row)
        ids[row:row + n] = [b[0] for b in batch[:n]]
        vectors[row:row + n] = np.frombuffer(b"".join(b[1] for b in batch[:n]), dtype=np.float32).reshape(n, DIM)
        row += n
    vectors.flush()
    del vectors
    np.save(tmp_ids, ids[:row])
    os.replace(tmp_ids, folder / f"{stem}.ids.npy")
    os.replace(tmp_vec, folder / f"{stem}.vectors.npy")


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
