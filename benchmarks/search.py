"""One new reference against N archived face embeddings: the retroactive search's cost.

The search is the `matching.vector_index.FaceIndex` code `svidok match`/`enroll` use, on a
memory-mapped float32 matrix, timed two ways side by side: scanning the float32 matrix (the
index below QUANTIZE_MIN_ROWS faces) and scanning its int8 copy (`matching.vector_quantized`,
at or above it); both rescore exactly every face the scan's error margin cannot rule out.
Reported per size, for `nearest(k=20)` and `within(threshold)`: median and minimum of the timed
runs (after one warm-up; the two scans alternate run by run; the queries cycle through 5
near-duplicates of archived faces), the faces rescored (median), whether both scans gave the
same answers, the time to write the int8 copy and of the first int8 search (it packs the codes
for the kernel), the bytes each scan reads and the process's peak resident memory.

Vectors (--data): `random` unit vectors, or `clustered`: identities with ~5 photos each, columns
whose spread differs 100x (as measured on real MobileFaceNet embeddings), unit length. Thresholds:
0.6 at 128 numbers (dlib's), the fusion's calibrated 1.118 otherwise.

    .venv/bin/python benchmarks/search.py                              # 1M x 128, 1M x 704, 10M x 128
    .venv/bin/python benchmarks/search.py --sizes 1000000 --dims 704 --data clustered --runs 5
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

from svidok.matching import vector_quantized  # noqa: E402
from svidok.matching.vector_index import FaceIndex  # noqa: E402

THRESHOLDS = {128: 0.6}        # dlib; the fusion's (704) calibrated threshold for every other length
FUSION_THRESHOLD = 1.118
BATCH = 500_000


def make_matrix(path: Path, n: int, dim: int, data: str, seed: int = 7) -> np.ndarray:
    """Unit vectors written block by block to a .npy memmap."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    spread = np.exp(rng.uniform(np.log(0.002), np.log(0.2), dim)).astype(np.float32)
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        block = rng.standard_normal((count, dim), dtype=np.float32)
        if data == "clustered":                    # identity centre (5 photos apart on average) + photo noise
            identity = (start + np.sort(rng.integers(0, count, count))) // 5
            block = (_centres(identity, dim, seed) + 0.6 * block) * spread
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + count] = block
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def _centres(identity: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """A fixed random vector per identity number (the same identity, the same centre)."""
    unique, inverse = np.unique(identity, return_inverse=True)
    table = np.random.default_rng([seed, int(unique[0])]).standard_normal((len(unique), dim), dtype=np.float32)
    return table[inverse]


def timed(calls: dict[str, object], runs: int) -> dict[str, tuple[float, float, list]]:
    """Per named call (taking the run number): (median, min) seconds of `runs` calls after a
    warm-up, and the results. The calls alternate run by run, so a busy spell hits them alike."""
    for call in calls.values():
        call(0)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, list] = {name: [] for name in calls}
    for run in range(runs):
        for name, call in calls.items():
            t = time.perf_counter()
            results[name].append(call(run))
            samples[name].append(time.perf_counter() - t)
    return {name: (statistics.median(samples[name]), min(samples[name]), results[name]) for name in calls}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def bench(n: int, dim: int, data: str, runs: int, folder: Path) -> list[dict[str, object]]:
    vectors = make_matrix(folder / "vectors.npy", n, dim, data)
    paths = [folder / f"{part}.npy" for part in ("codes", "rows", "columns")]
    t = time.perf_counter()
    vector_quantized.write_quantized(vectors, *paths)
    write_s = time.perf_counter() - t
    matrix = vector_quantized.load_quantized(*paths)
    norms = np.asarray(matrix.rows[vector_quantized.SQ_NORM])
    ids = np.arange(n, dtype=np.int64)
    indexes = {"float32": FaceIndex(ids, vectors, norms), "int8": FaceIndex(ids, vectors, norms, matrix)}
    rng = np.random.default_rng(1)
    planted = rng.choice(n, 5, replace=False)
    queries = [np.asarray(vectors[p], np.float32) + rng.normal(0, 0.01, dim).astype(np.float32) for p in planted]
    threshold = THRESHOLDS.get(dim, FUSION_THRESHOLD)
    t = time.perf_counter()
    indexes["int8"].search_nearest(queries[0], 20)      # the first search packs the codes for the kernel
    first_s = time.perf_counter() - t
    calls = {}
    for scan, index in indexes.items():
        calls[f"{scan} nearest"] = lambda i, index=index: index.search_nearest(queries[i % len(queries)], 20)
        calls[f"{scan} within"] = lambda i, index=index: index.search_within(queries[i % len(queries)], threshold)
    times = timed(calls, runs)
    rows, answers = [], {}
    for scan in indexes:
        nearest, nearest_min, near = times[f"{scan} nearest"]
        within, within_min, inside = times[f"{scan} within"]
        assert [r.ids[0] for r in near] == [planted[i % len(planted)] for i in range(runs)], \
            "the planted near-duplicate must come first"
        answers[scan] = [(r.ids.tolist(), r.distances.tolist()) for r in near + inside]
        rows.append({"n": n, "dim": dim, "data": data, "scan": scan, "nearest_ms": nearest * 1000,
                     "within_ms": within * 1000, "nearest_min_ms": nearest_min * 1000,
                     "within_min_ms": within_min * 1000, "threshold": threshold,
                     "rescored_nearest": statistics.median(r.rescored for r in near),
                     "rescored_within": statistics.median(r.rescored for r in inside),
                     "found_within": statistics.median(len(r.ids) for r in inside),
                     "gib": (vectors.nbytes if scan == "float32" else matrix.codes.nbytes + matrix.rows.nbytes)
                     / 1024**3,
                     "write_s": write_s if scan == "int8" else 0.0, "first_s": first_s if scan == "int8" else 0.0,
                     "peak_rss_gib": peak_rss_gib()})
    same = answers["float32"] == answers["int8"]
    for row in rows:
        row["same"] = same
    return rows


def main() -> None:
    vector_quantized.expect_many_searches()            # as the review UI and the workers do
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 704],
                        help="Embedding lengths: 128 dlib, 192 mobilefacenet, 512 fr_feature, 704 fusion")
    parser.add_argument("--also", nargs="*", default=["10000000x128"], help="More SIZExDIM pairs (default 10Mx128).")
    parser.add_argument("--data", choices=["random", "clustered"], nargs="+", default=["random", "clustered"])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=None, help="Where to write the matrices (default: a temp dir).")
    args = parser.parse_args()
    cases = [(n, dim) for n in args.sizes for dim in args.dims]
    cases += [tuple(int(v) for v in pair.split("x")) for pair in args.also]
    rows = []
    for n, dim in cases:
        for data in args.data:
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                rows.extend(bench(n, dim, data, args.runs, Path(tmp)))
            print(f"done {n} {dim} {data}", file=sys.stderr, flush=True)
    goal = {1_000_000: 50, 10_000_000: 300}
    print("| faces | dim | vectors | scan | nearest 20: median (min) ms | within: median (min) ms | goal (ms) |"
          " rescored nearest / within | found within | same answers | scanned (GiB) | int8 copy written (s) |"
          " first search (s) | peak RSS (GiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['dim']} | {r['data']} | {r['scan']} | "
              f"{r['nearest_ms']:.1f} ({r['nearest_min_ms']:.1f}) | {r['within_ms']:.1f} ({r['within_min_ms']:.1f}) "
              f"at {r['threshold']} | {goal.get(r['n'], '-')} | "
              f"{r['rescored_nearest']:.0f} / {r['rescored_within']:.0f} | "
              f"{r['found_within']:.0f} | {'yes' if r['same'] else 'NO'} | "
              f"{r['gib']:.2f} | {r['write_s']:.0f} | {r['first_s']:.2f} | {r['peak_rss_gib']:.2f} |")


if __name__ == "__main__":
    main()
