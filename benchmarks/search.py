"""One new reference against N archived face embeddings: the retroactive search's cost.

Synthetic random unit vectors (128-d) stand in for dlib embeddings; the search is the same
`matching.vector_index.FaceIndex` code `svidok match`/`enroll` use: a memory-mapped matrix on
disk, scanned in blocks with one matrix-vector product each. Reported per size and storage
type: median of the timed runs (after one warm-up) for `nearest(k=20)` and `within(0.6)`,
the matrix size, and the process's peak resident memory.

    .venv/bin/python benchmarks/search.py                 # 1M and 10M
    .venv/bin/python benchmarks/search.py --sizes 1000000 --runs 5
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.matching.vector_index import DIM, FaceIndex  # noqa: E402


def make_matrix(path: Path, n: int, dtype: np.dtype, seed: int = 7, dim: int = DIM) -> np.ndarray:
    """Random unit vectors written block by block to a .npy memmap."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, dim))
    for start in range(0, n, 1_000_000):
        block = rng.standard_normal((min(1_000_000, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + len(block)] = block
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def timed(func, runs: int) -> float:  # noqa: ANN001
    func()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        func()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def bench(n: int, dtype: np.dtype, runs: int, folder: Path, dim: int = DIM) -> dict[str, object]:
    vectors = make_matrix(folder / f"v{n}-{dim}-{np.dtype(dtype).name}.npy", n, dtype, dim=dim)
    norms = np.ones(n, dtype=np.float32) if dtype == np.float32 else np.einsum(
        "ij,ij->i", vectors, vectors, dtype=np.float32)
    index = FaceIndex(np.arange(n, dtype=np.int64), vectors, norms.astype(np.float32))
    query = np.asarray(vectors[n // 2], dtype=np.float32) + 0.01
    nearest = timed(lambda: index.nearest(query, 20), runs)
    within = timed(lambda: index.within(query, 0.6), runs)
    ids, _ = index.nearest(query, 1)
    assert ids[0] == n // 2, "the planted near-duplicate must come first"
    return {"n": n, "dim": dim, "dtype": np.dtype(dtype).name, "nearest_ms": nearest * 1000, "within_ms": within * 1000,
            "matrix_gib": vectors.nbytes / 1024**3, "peak_rss_gib": peak_rss_gib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float16"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dims", type=int, nargs="+", default=[DIM],
                        help="Embedding lengths: 128 dlib, 192 mobilefacenet, 512 fr_feature, 704 fusion")
    parser.add_argument("--dir", type=Path, default=None, help="Where to write the matrices (default: a temp dir).")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in args.sizes:
            for dim in args.dims:
                for dtype in args.dtypes:
                    rows.append(bench(n, np.dtype(dtype), args.runs, Path(tmp), dim))
                    print(f"done {n} {dim} {dtype}", file=sys.stderr)
                    for leftover in Path(tmp).glob("*.npy"):
                        leftover.unlink()
    goal = {1_000_000: 50, 10_000_000: 300}
    print("| archived faces | dim | storage | nearest 20 (ms) | within 0.6 (ms) | goal (ms) | matrix (GiB) |"
          " peak RSS (GiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['dim']} | {r['dtype']} | {r['nearest_ms']:.1f} | {r['within_ms']:.1f} | "
              f"{goal.get(r['n'], '-')} | {r['matrix_gib']:.2f} | {r['peak_rss_gib']:.2f} |")


if __name__ == "__main__":
    main()
