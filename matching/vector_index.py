"""Exact nearest-neighbour search over archived face embeddings.

Brute force over a float32 matrix is the fastest exact option here (measured: numpy beats
usearch, faiss and sqlite-vec at 1M x 128), so the index is just that matrix. There is one
index per embedding space (`analyzers.face_spaces.FaceSpace`: face model and version), holding
only that space's faces, so vectors of different models never meet (nor need the same length).
The database stays the durable copy (`face.embedding`); a memory-mapped `.npy` cache per space
in `<workspace>/derived/cache/` is rebuilt from it whenever the space's set of face rows changed
(a digest of the space, then count, max id and id sum form the cache's name). Only archive faces are cached on disk:
reference embeddings live in SQLite only, so revoking a consent leaves no copy behind
(`drop_reference_caches` also removes any file an older version might have left).

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

if TYPE_CHECKING:
    from svidok.analyzers.face_spaces import FaceSpace
    from svidok.foundation.workspace import Workspace

DIM = 128                      # dlib's embedding length (benchmarks/search.py); other models have their own
CHUNK_ROWS = 262_144
CACHE_DIR = ("derived", "cache")


@dataclass
class FaceIndex:
    """Archive face embeddings, row i belongs to face id `ids[i]` (ascending)."""

    ids: np.ndarray            # int64 (N,)
    vectors: np.ndarray        # float32 (N, dimension of the space's model), usually a memmap
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
    stem = f"{prefix}{_signature(ws, space)}"
    vec_path, ids_path = folder / f"{stem}.vectors.npy", folder / f"{stem}.ids.npy"
    try:
        ids, vectors = np.load(ids_path), np.load(vec_path, mmap_mode="r")
    except FileNotFoundError:                          # stale, or removed by another process's rebuild
        vec_path, ids_path = _rebuild(ws, space, folder, prefix)
        ids, vectors = np.load(ids_path), np.load(vec_path, mmap_mode="r")
    norms = np.einsum("ij,ij->i", vectors, vectors) if len(ids) else np.empty(0, np.float32)
    return FaceIndex(ids, vectors, norms.astype(np.float32))


def _rebuild(ws: "Workspace", space: "FaceSpace", folder: Path, prefix: str) -> tuple[Path, Path]:
    """Write the index of the rows as they are now; returns its (vectors, ids) files.

    Several processes (workers on a shared folder, the UI) may rebuild at once: each writes its
    own temporary files, names the result after the rows it actually read, and renames it into
    place (the same rows give the same bytes); older indexes are removed afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    in_space, args = space.where()
    count, length = ws.conn.execute(f"SELECT count(*), max(length(embedding)) FROM face WHERE {in_space}",
                                    args).fetchone()
    dim = int(length or 0) // 4
    own = f".tmp-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp_vec, tmp_ids = folder / f"{own}.vectors.npy", folder / f"{own}.ids.npy"
    vectors = np.lib.format.open_memmap(tmp_vec, mode="w+", dtype=np.float32, shape=(count, dim))
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
        exact = np.lib.format.open_memmap(folder / f"{own}.exact.npy", mode="w+", dtype=np.float32, shape=(row, dim))
        exact[:] = vectors[:row]
        exact.flush()
        del exact
        os.replace(folder / f"{own}.exact.npy", tmp_vec)
    else:
        vectors.flush()
    del vectors
    ids = ids[:row]
    np.save(tmp_ids, ids)
    stem = f"{prefix}{row}-{int(ids.max()) if row else 0}-{int(ids.sum()) if row else 0}"
    vec_path, ids_path = folder / f"{stem}.vectors.npy", folder / f"{stem}.ids.npy"
    os.replace(tmp_ids, ids_path)
    os.replace(tmp_vec, vec_path)
    for old in [*folder.glob(f"{prefix}*.npy"), *folder.glob("faces-[0-9]*.npy")]:   # and pre-space indexes
        if old not in (vec_path, ids_path):
            old.unlink(missing_ok=True)
    return vec_path, ids_path


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
