"""LFW face verification: face_recognition library defaults vs Svidok's face pipeline.

Protocol (LFW "pairs.txt", here 5 folds of 300 matched + 300 mismatched pairs): each pair is
embedded and compared by Euclidean distance; for every reported fold the same/different
threshold is the one that is most accurate on all the OTHER folds of pairs.txt (as LFW's
View 2 cross-validation does; `--threshold-folds` narrows them), and accuracy is measured on
the fold itself. A pair where either image has no face counts as "different" (wrong for matched
pairs). Two image conditions:

- clean: the LFW JPEGs as given (150x150 pixels in lfw-dev);
- video: each image shrunk to 100x100 and re-encoded as JPEG quality 35, in memory
  (roughly a face in a 480p Telegram video).

Pipelines:
- baseline: `face_recognition.face_encodings(image)` with library defaults, first face;
- svidok: `analyzers.faces.detect_faces` with the given options (defaults = the settings
  defaults plus `--small-side`), the face nearest the image centre.

Usage: .venv/bin/python benchmarks/eval_faces.py --folds 1,2 [--threshold-folds 1,2,3,4,5] [--modes clean,video]
       [--pipelines baseline,svidok] [--jitter N] [--landmarks 5|68] [--mirror] [--cnn] [--budget N]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from svidok.analyzers.faces import FaceOptions, detect_faces  # noqa: E402
from svidok.foundation.settings import AnalyzeSettings  # noqa: E402

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "lfw-dev"
Embedder = Callable[[np.ndarray], "np.ndarray | None"]


@dataclass(frozen=True)
class Pair:
    fold: int
    a: str
    b: str
    same: bool


def read_pairs(path: Path) -> list[Pair]:
    lines = path.read_text().split("\n")
    n_folds, per = (int(x) for x in lines[0].split())
    pairs, rows = [], [line.split() for line in lines[1:] if line.strip()]
    for index, row in enumerate(rows[: n_folds * per * 2]):
        fold = index // (2 * per) + 1
        if len(row) == 3:
            pairs.append(Pair(fold, _image(row[0], row[1]), _image(row[0], row[2]), True))
        else:
            pairs.append(Pair(fold, _image(row[0], row[1]), _image(row[2], row[3]), False))
    return pairs


def _image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def video_grade(image: np.ndarray) -> np.ndarray:
    """100x100, JPEG quality 35, decoded again (all in memory)."""
    from PIL import Image

    small = Image.fromarray(image).resize((100, 100), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=35)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def baseline_embedder() -> Embedder:
    import face_recognition

    def embed(image: np.ndarray) -> np.ndarray | None:
        found = face_recognition.face_encodings(image)
        return np.asarray(found[0], dtype=np.float32) if found else None

    return embed


def svidok_embedder(options: FaceOptions) -> Embedder:
    def embed(image: np.ndarray) -> np.ndarray | None:
        faces = detect_faces(image, options)
        if not faces:
            return None
        cy, cx = image.shape[0] / 2, image.shape[1] / 2
        centre = min(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cy) ** 2 + ((f.box[1] + f.box[3]) / 2 - cx) ** 2)
        return centre.embedding

    return embed


def embed_all(names: list[str], embed: Embedder, degrade: bool) -> dict[str, np.ndarray | None]:
    from svidok.analyzers.faces import load_image

    out = {}
    for name in names:
        image = load_image(LFW / "images" / name)
        out[name] = embed(video_grade(image) if degrade else image)
    return out


def _cache_file(folder: Path | None, mode: str, pipeline: str, options: FaceOptions) -> Path | None:
    if folder is None:
        return None
    import hashlib

    key = repr(options) if pipeline == "svidok" else "defaults"
    return folder / f"{mode}-{pipeline}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"


def cached_embeddings(cache: Path | None, names: list[str], embed: Embedder,
                      degrade: bool) -> dict[str, np.ndarray | None]:
    """Embeddings of `names`, reusing (and extending) the cache file when given."""
    known: dict[str, np.ndarray | None] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as data:
            known = {name: (None if data[name].size == 0 else data[name]) for name in data.files}
    missing = [n for n in names if n not in known]
    known.update(embed_all(missing, embed, degrade))
    if cache is not None and missing:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{n: (np.zeros(0, np.float32) if v is None else v) for n, v in known.items()})
    return known


def distances(pairs: list[Pair], emb: dict[str, np.ndarray | None]) -> np.ndarray:
    result = []
    for pair in pairs:
        a, b = emb[pair.a], emb[pair.b]
        result.append(np.inf if a is None or b is None else float(np.linalg.norm(a - b)))
    return np.array(result)


def best_threshold(dist: np.ndarray, same: np.ndarray) -> float:
    candidates = np.unique(dist[np.isfinite(dist)])
    accuracy = [((dist <= t) == same).mean() for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def fold_accuracies(pairs: list[Pair], dist: np.ndarray, reported: set[int]) -> tuple[list[float], list[float]]:
    """Accuracy of each reported fold at the threshold chosen on the other folds given."""
    folds = np.array([p.fold for p in pairs])
    same = np.array([p.same for p in pairs])
    accs, thresholds = [], []
    for fold in sorted(reported):
        train = folds != fold if len(set(folds)) > 1 else folds == fold
        threshold = best_threshold(dist[train], same[train])
        test = folds == fold
        accs.append(float(((dist[test] <= threshold) == same[test]).mean()))
        thresholds.append(threshold)
    return accs, thresholds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", default="1,2", help="comma-separated folds (1-5) to report")
    parser.add_argument("--threshold-folds", default="1,2,3,4,5",
                        help="folds a reported fold's threshold may be chosen on (never the fold itself)")
    parser.add_argument("--modes", default="clean,video")
    parser.add_argument("--pipelines", default="baseline,svidok")
    parser.add_argument("--jitter", type=int, default=None)
    parser.add_argument("--landmarks", type=int, default=None)
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                        help="average each embedding with its mirror image's")
    parser.add_argument("--budget", type=int, default=None, help="extra HOG upsamplings when nothing is found")
    parser.add_argument("--cnn", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--small-side", type=int, default=None, help="enlarge pictures whose short side is below")
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep embeddings in between runs")
    return parser.parse_args(argv)


def svidok_options(args: argparse.Namespace) -> FaceOptions:
    options = FaceOptions.from_settings(AnalyzeSettings())
    changes = {"jitter": args.jitter, "landmarks": args.landmarks, "upsample_budget": args.budget,
               "cnn_fallback": args.cnn, "small_image_side": args.small_side, "mirror": args.mirror}
    return replace(options, **{k: v for k, v in changes.items() if v is not None})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    reported = {int(f) for f in args.folds.split(",")}
    used = reported | {int(f) for f in args.threshold_folds.split(",")}
    pairs = [p for p in read_pairs(LFW / "pairs.txt") if p.fold in used]
    names = sorted({p.a for p in pairs} | {p.b for p in pairs})
    n_reported = sum(p.fold in reported for p in pairs)
    options = svidok_options(args)
    print(f"LFW folds {sorted(reported)} reported, thresholds from folds {sorted(used)}: {len(pairs)} pairs, "
          f"{len(names)} images; svidok options {options}", file=sys.stderr)
    rows = []
    for mode in args.modes.split(","):
        for pipeline in args.pipelines.split(","):
            embed = baseline_embedder() if pipeline == "baseline" else svidok_embedder(options)
            cache = _cache_file(args.cache, mode, pipeline, options)
            started = time.perf_counter()
            emb = cached_embeddings(cache, names, embed, degrade=(mode == "video"))
            seconds = time.perf_counter() - started
            dist = distances(pairs, emb)
            accs, thresholds = fold_accuracies(pairs, dist, reported)
            no_face = int((~np.isfinite(dist[[p.fold in reported for p in pairs]])).sum())
            rows.append((mode, pipeline, accs, thresholds, no_face, seconds / len(names)))
            print(f"  {mode} {pipeline}: {np.mean(accs):.2%} ({no_face} pairs without a face)", file=sys.stderr)
    print("| images | pipeline | accuracy (mean of folds) | per fold | thresholds | pairs without a face "
          "| s/image |")
    print("|---|---|---|---|---|---|---|")
    for mode, pipeline, accs, thresholds, no_face, per_image in rows:
        folds = " / ".join(f"{a:.1%}" for a in accs)
        ths = " / ".join(f"{t:.3f}" for t in thresholds)
        print(f"| {mode} | {pipeline} | {np.mean(accs):.2%} | {folds} | {ths} | {no_face} of {n_reported} "
              f"| {per_image:.3f} |")


if __name__ == "__main__":
    main()
