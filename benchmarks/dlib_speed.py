"""The installed dlib's speed on the two things analysis does most: HOG detection and embedding.

Prints whether dlib has BLAS, then the median of 5 timed runs (after a warm-up) of
- HOG face detection on a 960x540 frame with 0 and 1 upsampling (one upsampling is the full
  search at the default working width);
- the face embedding network on a batch of 20 aligned 150x150 chips, per chip.

Run it in a venv with dlib-bin and in one with dlib built by scripts/dlib_with_blas.sh to
compare the two builds (the numbers are CPU-bound and single-threaded, as analysis runs them).

Usage: .venv/bin/python benchmarks/dlib_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

RUNS = 5


def median_ms(work: Callable[[], object], per: int = 1) -> float:
    work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000 / per)
    return statistics.median(times)


def main() -> None:
    import dlib

    from svidok.analyzers.faces import FaceModels

    models = FaceModels.shared().loaded                 # as analysis loads them (BLAS held to one thread)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (540, 960, 3), dtype=np.uint8)
    chips = [rng.integers(0, 256, (150, 150, 3), dtype=np.uint8) for _ in range(20)]
    print(f"dlib {dlib.__version__}, BLAS {bool(dlib.DLIB_USE_BLAS)}, AVX {bool(dlib.USE_AVX_INSTRUCTIONS)}")
    print(f"HOG 960x540, 0 upsamplings: {median_ms(lambda: models.hog(frame, 0)):.1f} ms")
    print(f"HOG 960x540, 1 upsampling:  {median_ms(lambda: models.hog(frame, 1)):.1f} ms")
    print(f"embedding, batch of 20:     {median_ms(lambda: models.encoder.compute_face_descriptor(chips), 20):.1f} ms per chip")


if __name__ == "__main__":
    main()
