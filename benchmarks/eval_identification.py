"""1:N identification at register scale, per face model, on lfw-dev (../shared/data/faces/lfw-dev).

    .venv/bin/python benchmarks/eval_identification.py --model dlib|mobilefacenet|fr_feature|fusion \\
        [--sizes 60,250,1000,all] [--padding 750] [--galleries 5] [--workers 2] [--no-video-grade]

Without `--model` it runs the end-to-end pipeline benchmark as before
(`benchmarks/identification_pipeline.py`: enroll, ingest, analyze, match in a workspace).

With `--model`: every photo is embedded once by `analyzers.faces.detect_faces` with the
settings' defaults and that face model (`analyze.face_*`: HOG on a picture enlarged to 200 px,
one extra upsampling when nothing is found, faces under 40 px dropped, mirror-averaged
embeddings), cached in `--cache`. Then, as in shared/FACE-MODELS.md:
1. enrolled with probes: identities with >= 2 photos whose first photo (the reference) has
   exactly one face of >= 45 px (60 px as HOG sees it, on the picture enlarged to 200 px); its
   best face is the reference; probes: their other photos;
2. enrolled without probes (`--padding`): a register holds many persons nobody's footage shows.
   `--padding` single-photo identities are drawn with the seed; those whose photo passes the
   reference rule are enrolled with it, the others are dropped; the undrawn single-photo
   identities are the distractors (so a photo is never both, and the distractors stay a
   random sample of the single-photo identities);
3. a photo's score for a person: the best similarity of any of its faces to the person's
   reference (cosine; dlib: minus the Euclidean distance); a photo without faces scores nothing;
4. for a gallery of N enrolled persons (`--galleries` nested random draws: the persons with
   probes first, then the padding, so N <= 746 holds only persons with probes and N = all
   holds everyone): the threshold at which <= 5 % (and <= 1 %) of distractor photos raise a
   candidate for anyone; rank-1 recall = probes whose best person is right and above it;
5. the threshold chosen at the smallest size, kept as the gallery grows: the share of
   distractor photos it lets raise a candidate, and the recall, at every size (second table).
Video-grade: probes and distractors resized to 100x100 (bilinear), JPEG quality 35; references
stay clean. `--check-curve 100,400,...` also reports, at those gallery sizes, the false rate and
recall at the thresholds the matcher would use (`analyzers.model_thresholds.thresholds_for`,
interpolated in the calibrated curve; in-sample: the curve was calibrated on these photos).
`fusion` needs the mobilefacenet and fr_feature caches: the mean of their cosines,
each z-normalised with the impostor statistics pinned in `analyzers/fusion_embedder.py`
(`--zstats` prints them as measured on the pairs of all single-photo identities).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "lfw-dev" / "images"
REFERENCE_MIN_FACE = 45      # original px: 60 px on the 200 px working picture of a 150 px lfw-dev photo
RATES = (0.05, 0.01)
FUSED = ("mobilefacenet", "fr_feature")


@dataclass
class Faces:
    """Per photo: sizes (px) and embeddings of its faces."""

    sizes: list[np.ndarray]
    vectors: list[np.ndarray]


@dataclass
class Design:
    """Who is enrolled, with which reference photo, and which photos are probes and distractors."""

    references: list[Path | None]           # persons with probes, in identity order (None: not used)
    probes: list[tuple[Path, int]]          # photo, identity index
    distractors: list[Path]
    padding: list[Path | None]              # persons without probes (single-photo identities), after `references`
    singles: list[Path]                     # every single-photo identity, distractor or not

    @property
    def enrolled(self) -> list[Path | None]:
        """Every enrolled person's reference photo: index = person index (probed persons first)."""
        return self.references + self.padding


def usable_reference(face_sizes: np.ndarray | list) -> bool:
    """A reference photo holds exactly one face of >= REFERENCE_MIN_FACE px."""
    return int((np.asarray(face_sizes) >= REFERENCE_MIN_FACE).sum()) == 1


def design(reference_faces: dict[Path, np.ndarray], padding: int = 0, seed: int = 1) -> Design:
    """The split (module docstring, steps 1-2); `reference_faces`: face sizes per photo."""
    folders = sorted(p for p in LFW.iterdir() if p.is_dir())
    references, probes, singles = [], [], []
    for folder in folders:
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) == 1:
            singles.append(photos[0])
        elif usable_reference(reference_faces.get(photos[0], [])):
            probes.extend((photo, len(references)) for photo in photos[1:])
            references.append(photos[0])
    drawn = set(np.random.default_rng(seed + 1000).permutation(len(singles))[:padding].tolist())
    padded = [singles[i] for i in sorted(drawn) if usable_reference(reference_faces.get(singles[i], []))]
    distractors = [photo for i, photo in enumerate(singles) if i not in drawn]
    return Design(references, probes, distractors, padded, singles)


def gallery_orders(plan: Design, draws: int, seed: int) -> list[np.ndarray]:
    """Nested galleries, one person order per draw: the persons with probes in a random order,
    then the padding in another (the first N persons of an order are the gallery of size N)."""
    orders = []
    for draw in range(draws):
        rng = np.random.default_rng(seed + draw)
        probed = rng.permutation(len(plan.references))
        orders.append(np.concatenate([probed, len(plan.references) + rng.permutation(len(plan.padding))]))
    return orders


def video_grade(path: Path) -> np.ndarray:
    from PIL import Image

    out = io.BytesIO()
    with Image.open(path) as img:
        img.convert("RGB").resize((100, 100), Image.BILINEAR).save(out, "JPEG", quality=35)
    with Image.open(io.BytesIO(out.getvalue())) as img:
        return np.asarray(img.convert("RGB"))


def _embed_one(job: tuple[str, tuple[str, ...], bool]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from svidok.analyzers.faces import FaceOptions, faces_by_model, load_image
    from svidok.foundation.settings import AnalyzeSettings

    path, models, degraded = job
    image = video_grade(Path(path)) if degraded else load_image(Path(path))
    options = FaceOptions.from_settings(AnalyzeSettings())
    out = {}
    for model, faces in faces_by_model(image, options, models).items():
        sizes = np.array([f.quality.size_px for f in faces], np.float32)
        out[model] = (sizes, np.stack([f.embedding for f in faces]).astype(np.float32) if faces
                      else np.zeros((0, 1), np.float32))
    return out


def embed(models: list[str], paths: list[Path], degraded: bool, cache: Path, workers: int) -> dict[str, Faces]:
    """Faces of every photo per model (one detection for all models), from the cache files or
    computed (and then cached, one file per model and grade)."""
    names = [str(p.relative_to(LFW)) for p in paths]
    files = {m: cache / f"{m}-{'video' if degraded else 'clean'}-{len(names)}.npz" for m in models}
    out = {m: _load(f, names) for m, f in files.items()}
    missing = tuple(m for m, faces in out.items() if faces is None)
    if missing:
        started = time.perf_counter()
        jobs = [(str(p), missing, degraded) for p in paths]
        if workers > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_embed_one, jobs, chunksize=8)
        else:
            results = [_embed_one(job) for job in jobs]
        print(f"# {'+'.join(missing)} {'video' if degraded else 'clean'}: {len(paths)} photos embedded in "
              f"{time.perf_counter() - started:.0f} s ({workers} workers)", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        for m in missing:
            _save(files[m], names, [r[m] for r in results])
            out[m] = _load(files[m], names)
    return out


def _save(file: Path, names: list[str], results: list[tuple[np.ndarray, np.ndarray]]) -> None:
    counts = np.array([len(s) for s, _ in results])
    dim = max((v.shape[1] for s, v in results if len(s)), default=1)
    vectors = np.concatenate([v for s, v in results if len(s)] or [np.zeros((0, dim), np.float32)])
    np.savez(file, names=np.array(names), counts=counts, sizes=np.concatenate([s for s, _ in results]), vectors=vectors)


def _load(file: Path, names: list[str]) -> Faces | None:
    if not file.is_file():
        return None
    stored = np.load(file, allow_pickle=False)
    return _unpack(stored) if list(stored["names"]) == names else None


def _unpack(stored: np.lib.npyio.NpzFile) -> Faces:
    bounds = np.concatenate([[0], np.cumsum(stored["counts"])])
    sizes, vectors = stored["sizes"], stored["vectors"]
    return Faces([sizes[a:b] for a, b in pairwise(bounds)], [vectors[a:b] for a, b in pairwise(bounds)])


def similarity(model: str, faces: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(faces, references) similarities, higher = more alike."""
    if model == "dlib":
        d2 = (faces ** 2).sum(1)[:, None] + (references ** 2).sum(1)[None, :] - 2 * faces @ references.T
        return -np.sqrt(np.maximum(d2, 0))
    return faces @ references.T


def photo_scores(model: str, photos: Faces, references: np.ndarray) -> np.ndarray:
    """(photos, persons): the best similarity of any face of the photo; -inf for a photo without faces."""
    out = np.full((len(photos.vectors), len(references)), -np.inf, np.float32)
    for i, vectors in enumerate(photos.vectors):
        if len(vectors):
            out[i] = similarity(model, vectors, references).max(axis=0)
    return out


def fused(photos: list[Faces], stats: tuple[tuple[float, float], ...]) -> Faces:
    """One unit vector per face whose cosine is the mean z-normalised cosine of the parts, up to a
    fixed scale and offset: [a / sqrt(2 sigma_a), b / sqrt(2 sigma_b)] scaled to length 1, as
    `analyzers.fusion_embedder` builds it."""
    vectors = []
    for parts in zip(*(p.vectors for p in photos)):
        joined = np.hstack([v / np.sqrt(len(parts) * sd) for v, (_, sd) in zip(parts, stats)])
        vectors.append(joined / np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-12))
    return Faces(photos[0].sizes, vectors)


def impostor_stats(distractors: Faces) -> tuple[float, float]:
    """Mean and standard deviation of the cosine between the best faces of distinct distractor photos."""
    first = np.stack([v[0] for v in distractors.vectors if len(v)])
    cos = first @ first.T
    upper = cos[np.triu_indices(len(first), 1)]
    return float(upper.mean()), float(upper.std())


def threshold_at(distractors: np.ndarray, gallery: np.ndarray, rate: float) -> float:
    """The score a candidate must exceed so that <= rate of the distractor photos raise one for
    anyone in the gallery."""
    best_false = np.sort(distractors[:, gallery].max(axis=1))[::-1]
    return float(best_false[int(np.floor(rate * len(best_false)))])


def false_rate(distractors: np.ndarray, gallery: np.ndarray, threshold: float) -> float:
    """The share of distractor photos that raise a candidate for someone in the gallery."""
    return float((distractors[:, gallery].max(axis=1) > threshold).mean())


def recall_at(probes: np.ndarray, truth: np.ndarray, gallery: np.ndarray, threshold: float) -> tuple[float, int]:
    """Rank-1 recall of the probes of the gallery's persons at a threshold, and their number."""
    enrolled = np.isin(truth, gallery)
    scores = probes[enrolled][:, gallery]
    named = gallery[scores.argmax(axis=1)]
    hits = (named == truth[enrolled]) & (scores.max(axis=1) > threshold)
    return float(hits.mean()), int(enrolled.sum())


def recall(probes: np.ndarray, truth: np.ndarray, distractors: np.ndarray, gallery: np.ndarray,
           rate: float) -> tuple[float, int, float]:
    """Rank-1 recall, the number of probes, and the threshold (a candidate needs a score above it)
    at which <= rate of the distractor photos raise a candidate for anyone in the gallery."""
    threshold = threshold_at(distractors, gallery, rate)
    return (*recall_at(probes, truth, gallery, threshold), threshold)


def _spread(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(set(values)) > 1 else f"{values[0]:.3f}"


def report(model: str, grade: str, probes: np.ndarray, truth: np.ndarray, distractors: np.ndarray,
           sizes: list[int], orders: list[np.ndarray], probed: int) -> list[str]:
    """Prints the rows of the main table; returns those of the kept-threshold table (step 5)."""
    sizes = sorted({min(size, len(orders[0])) for size in sizes})
    first = {rate: [threshold_at(distractors, order[:sizes[0]], rate) for order in orders] for rate in RATES}
    kept = []
    for n in sizes:
        cells, thresholds, n_probes, kept_cells = [], [], 0, []
        for rate in RATES:
            got = [recall(probes, truth, distractors, order[:n], rate) for order in orders]
            cells.append(_spread([r for r, _, _ in got]))
            thresholds.append(f"{np.mean([t for _, _, t in got]):.3f}")
            n_probes = round(np.mean([k for _, k, _ in got]))
            at_first = [(false_rate(distractors, order[:n], t), recall_at(probes, truth, order[:n], t)[0])
                        for order, t in zip(orders, first[rate])]
            kept_cells += [f"{np.mean([f for f, _ in at_first]) * 100:.1f} %", _spread([r for _, r in at_first])]
        print(f"| {model} | {grade} | {n} | {min(n, probed)} | {n_probes} | {len(distractors)} | {cells[0]} | "
              f"{cells[1]} | {' / '.join(thresholds)} |", flush=True)
        kept.append(f"| {model} | {grade} | {n} | {' | '.join(kept_cells)} |")
    return kept


def curve_rows(model: str, grade: str, probes: np.ndarray, truth: np.ndarray, distractors: np.ndarray,
               sizes: list[int], orders: list[np.ndarray]) -> list[str]:
    """Rows: the false rate and recall (means over the draws) at the matcher's calibrated threshold
    for each gallery size (a distance, as a score: cosine 1 - d²/2; dlib: -d)."""
    from svidok.analyzers.face_spaces import space_of
    from svidok.analyzers.model_thresholds import thresholds_for

    rows = []
    for n in sizes:
        distance = thresholds_for(space_of(model).model, n).threshold
        score = -distance if model == "dlib" else 1 - distance ** 2 / 2
        got = [(false_rate(distractors, order[:n], score), recall_at(probes, truth, order[:n], score)[0])
               for order in orders]
        rows.append(f"| {model} | {grade} | {n} | {distance:.4f} | {np.mean([f for f, _ in got]) * 100:.1f} % | "
                    f"{np.mean([r for _, r in got]):.3f} |")
    return rows


def main() -> None:
    if "--model" not in sys.argv:
        from identification_pipeline import main as pipeline_main

        return pipeline_main()
    args = _arguments()
    if not LFW.is_dir():
        print(f"{LFW} is absent (evaluation data is not part of the repository); nothing measured")
        return None
    sizes = [10 ** 9 if s == "all" else int(s) for s in args.sizes.split(",")]
    scored = list(FUSED) if args.model == "fusion" else [args.model]
    models = scored + [m for m in args.also.split(",") if m and m not in scored]      # embedded in the same pass
    every = sorted(LFW.glob("*/*.jpg"))
    first = embed([args.design_from] if args.design_from else models, every, False, args.cache, args.workers)
    plan = design({p: faces for p, (faces, _) in zip(every, _split(next(iter(first.values()))))},
                  args.padding, args.seed)
    orders = gallery_orders(plan, args.galleries, args.seed)
    if args.design_from:
        plan = _used_only(plan, orders, max(sizes))
    photos = [p for p in plan.enrolled if p is not None] + [p for p, _ in plan.probes] + plan.distractors
    photos = photos if args.design_from else every
    clean = {m: dict(zip(photos, _split(faces))) for m, faces in
             embed(models, photos, False, args.cache, args.workers).items()}
    if args.zstats:
        for m in scored:
            print(m, impostor_stats(_faces([clean[m][p] for p in plan.singles])))
        return None
    print(f"# enrolled: {len(plan.references)} with probes + {len(plan.padding)} without (padding drawn from "
          f"{args.padding} single-photo identities); {len(plan.probes)} probes; {len(plan.distractors)} distractors")
    print("| model | photos | enrolled | of them with probes | probes | distractors | rank-1 recall, ≤ 5 % false "
          "| rank-1 recall, ≤ 1 % false | thresholds (5 % / 1 %) |")
    print("|---|---|---|---|---|---|---|---|---|")
    kept, curve = [], []
    for grade in ["clean"] + ([] if args.no_video_grade else ["video-grade"]):
        pool = plan.distractors if args.design_from else plan.singles      # all singles: one cache for any draw
        probes, distractors, references = grade_faces(args.model, models, clean, plan, grade,
                                                      Embedding(args.cache, args.workers, pool))
        kind = "dlib" if args.model == "dlib" else "cosine"
        ref_matrix = np.stack([v[0] for v in references.vectors])
        truth = np.array([i for _, i in plan.probes])
        kept += report(args.model, grade, photo_scores(kind, probes, ref_matrix), truth,
                       photo_scores(kind, distractors, ref_matrix), sizes, orders, len(plan.references))
        if args.check_curve:
            curve += curve_rows(args.model, grade, photo_scores(kind, probes, ref_matrix), truth,
                                photo_scores(kind, distractors, ref_matrix), args.check_curve, orders)
    if curve:
        print("\nAt the matcher's thresholds (the calibrated curve, interpolated):\n")
        print("| model | photos | enrolled | threshold (distance) | distractors raising a candidate | rank-1 recall |")
        print("|---|---|---|---|---|---|")
        print("\n".join(curve))
    print(f"\nThe thresholds chosen at N = {min(sizes)} kept as the gallery grows:\n")
    print("| model | photos | enrolled | distractors raising a candidate (5 % threshold) | rank-1 recall "
          "| distractors raising a candidate (1 % threshold) | rank-1 recall |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(kept))
    return None


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, choices=["dlib", "mobilefacenet", "fr_feature", "fusion"])
    parser.add_argument("--sizes", default="60,250,1000,all", help="Gallery sizes, comma-separated ('all' = every "
                                                                   "enrolled person).")
    parser.add_argument("--padding", type=int, default=750, help="Single-photo identities drawn to be enrolled "
                                                                 "without probes (0: the old design).")
    parser.add_argument("--galleries", type=int, default=5, help="Random nested galleries per size.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="Processes that embed photos.")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "svidok" / "eval-identification")
    parser.add_argument("--no-video-grade", action="store_true")
    parser.add_argument("--also", default="", help="Other models to embed (and cache) in the same pass, e.g. dlib.")
    parser.add_argument("--check-curve", type=lambda v: [int(x) for x in v.split(",")], default=[],
                        metavar="N,N", help="Gallery sizes at which to measure the matcher's calibrated thresholds.")
    parser.add_argument("--zstats", action="store_true", help="Print the impostor cosine statistics and stop.")
    parser.add_argument("--design-from", default=None, metavar="MODEL",
                        help="Take the split from MODEL's clean cache (detections are the same for every model) "
                             "and embed only the photos the galleries use: references and probes of the persons "
                             "in the largest gallery of each draw, and the distractors (for slow models).")
    return parser.parse_args()


def _used_only(plan: Design, orders: list[np.ndarray], largest: int) -> Design:
    """The design with the persons no gallery uses blanked out (their photos need no embedding)."""
    used = set(np.concatenate([order[:largest] for order in orders]).tolist())
    probed = len(plan.references)
    return Design([p if i in used else None for i, p in enumerate(plan.references)],
                  [(p, i) for p, i in plan.probes if i in used], plan.distractors,
                  [p if probed + j in used else None for j, p in enumerate(plan.padding)], plan.singles)


@dataclass(frozen=True)
class Embedding:
    """Where embeddings are cached, how many processes make them, and which photos are embedded
    video-grade as distractors (all single-photo identities keep one cache file for any draw)."""

    cache: Path
    workers: int
    video_pool: list[Path]


def grade_faces(model: str, models: list[str], clean: dict[str, dict[Path, tuple]], plan: Design, grade: str,
                how: Embedding) -> tuple[Faces, Faces, Faces]:
    """Probes, distractors and references (one face each, every enrolled person in person order;
    zeros for a person no gallery uses) of `model` at one grade; the fusion's fused from its parts.
    `clean`: the clean faces per part model and photo; `models`: every model embedded in one pass."""
    scored = list(FUSED) if model == "fusion" else [model]
    probe_paths = [p for p, _ in plan.probes]
    per_model = []
    for m in scored:
        if grade == "clean":
            probes = _faces([clean[m][p] for p in probe_paths])
            distractors = _faces([clean[m][p] for p in plan.distractors])
        else:
            probes = embed(models, probe_paths, True, how.cache, how.workers)[m] if probe_paths else Faces([], [])
            degraded = dict(zip(how.video_pool, _split(embed(models, how.video_pool, True, how.cache, how.workers)[m])))
            distractors = _faces([degraded[p] for p in plan.distractors])
        known = next(_reference(*clean[m][p]) for p in plan.enrolled if p is not None)
        references = np.stack([_reference(*clean[m][p]) if p is not None else np.zeros_like(known)
                               for p in plan.enrolled])             # zeros: never in a gallery
        per_model.append((probes, distractors, _faces([(np.ones(1), r[None]) for r in references])))
    if model == "fusion":
        from svidok.analyzers.fusion_embedder import IMPOSTOR_STATS

        stats = tuple(IMPOSTOR_STATS[m] for m in scored)
        per_model = [tuple(fused([pm[k] for pm in per_model], stats) for k in range(3))]
    return per_model[0]


def _reference(sizes: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    return vectors[int(np.flatnonzero(sizes >= REFERENCE_MIN_FACE)[0])]


def _split(faces: Faces) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(zip(faces.sizes, faces.vectors))


def _faces(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Faces:
    return Faces([s for s, _ in pairs], [v for _, v in pairs])


if __name__ == "__main__":
    main()
