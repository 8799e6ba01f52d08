"""Calibrate each face model's match thresholds over the gallery size; write analyzers/model_thresholds.toml.

    .venv/bin/python benchmarks/calibrate_thresholds.py [--models dlib,mobilefacenet,fr_feature,fusion]
        [--sizes 60,250,1000,all] [--padding 750] [--galleries 5] [--seed 1] [--workers 1]
        [--thresholds-only] [--design-from MODEL] [--out analyzers/model_thresholds.toml]

The design, embeddings (and their cache) and code of `benchmarks/eval_identification.py --model`:
1. enrolled: the 746 lfw-dev identities with >= 2 photos whose first photo has exactly one face
   of >= 45 px (that face is the reference, their other photos the probes), then `--padding`
   single-photo identities drawn with the seed and enrolled with their one photo (a register
   holds many persons nobody's footage shows); the undrawn single-photo identities are the
   distractors (~756: the 1 % point rests on >= 7 photos);
2. every photo goes once through `analyzers.faces` with the settings' defaults (all models on
   the same detections), clean and video-grade (100x100 bilinear, JPEG quality 35; references
   stay clean);
3. a photo's distance to a person: the smallest Euclidean distance of any of its faces to the
   reference, as the matcher measures (the plug-ins' and the fusion's unit vectors give
   sqrt(2 - 2 cos));
4. per model, gallery size (`--galleries` nested random galleries, persons with probes first)
   and grade: the distance at which <= 5 % (`threshold`) and <= 1 % (`strict`) of the distractor
   photos come within it of anyone in the gallery, averaged over the galleries and rounded down
   to 3 decimals (the matcher raises a candidate at <= the threshold); the stricter grade's
   value is kept, and a larger gallery never keeps a looser value than a smaller one.
`--thresholds-only` skips the probes (no recall; for dlib, ~0.5 s of CPU per photo), and
`--design-from MODEL` takes the split from MODEL's cache and embeds only the photos the
galleries use. Models not named in `--models` keep their entries in the file. Each entry records
its sample, seed, date and this command. Without ../shared/data it prints why and writes nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_identification as ident  # noqa: E402  (its design, embedding cache and recall)

OUT = Path(__file__).resolve().parents[1] / "analyzers" / "model_thresholds.toml"
RATES = {"threshold": 0.05, "strict": 0.01}
HEADER = """# Face-match thresholds per face model and gallery size, calibrated on dev data.
# Written by benchmarks/calibrate_thresholds.py: do not edit by hand, run it again.
# Distances are Euclidean between stored embeddings (as matching/face_matcher.py measures).
# Per model, `curve` holds one point per measured gallery size (enrolled persons):
# threshold: <= 5 % of distractor photos raise a candidate for anyone in the gallery;
# strict: <= 1 % (the stricter of clean and video-grade photos). Score 0.5 at threshold, 0.9 at strict.
# analyzers/model_thresholds.py interpolates in log(gallery) and clamps at the ends."""


def distances(photos: ident.Faces, references: np.ndarray) -> np.ndarray:
    """(photos, persons) smallest Euclidean distance of any face of the photo; inf without faces."""
    return -ident.photo_scores("dlib", photos, references)


def calibrate(probe_d: np.ndarray, truth: np.ndarray, distractor_d: np.ndarray,
              galleries: list[np.ndarray]) -> dict[str, float]:
    """Step 4 for one gallery size and grade: the distances (mean over the galleries, rounded
    down) and, with probes, the mean rank-1 recall at each gallery's own threshold."""
    out: dict[str, float] = {}
    for key, rate in RATES.items():
        scores = [ident.threshold_at(-distractor_d, gallery, rate) for gallery in galleries]
        out[key] = math.floor((-np.mean(scores) - 1e-9) * 1000) / 1000
        if len(truth):
            hits = [ident.recall_at(-probe_d, truth, gallery, score)[0] for gallery, score in zip(galleries, scores)]
            out[f"recall_{key}"] = round(float(np.mean(hits)), 3)
    return out


def curve(per_size: dict[int, dict[str, dict[str, float]]]) -> list[dict]:
    """The points of a model: per size the stricter grade's values, never looser than a smaller size's."""
    points, ceiling = [], {key: math.inf for key in RATES}
    for size, grades in sorted(per_size.items()):
        point: dict = {"gallery": size}
        for key in RATES:
            ceiling[key] = min(ceiling[key], *(values[key] for values in grades.values()))
            point[key] = ceiling[key]
        point.update({grade.replace("-", "_"): values for grade, values in grades.items()})
        points.append(point)
    return points


def main() -> None:
    from svidok.analyzers.face_spaces import space_of
    from svidok.analyzers.models import face_model_names

    args = _arguments(face_model_names())
    if not ident.LFW.is_dir():
        print(f"{ident.LFW} is absent (evaluation data is not part of the repository); nothing calibrated")
        return
    started = time.perf_counter()
    models = args.models.split(",")
    parts = list(dict.fromkeys(p for m in models for p in (ident.FUSED if m == "fusion" else (m,))))
    every = sorted(ident.LFW.glob("*/*.jpg"))
    first = ident.embed([args.design_from] if args.design_from else parts, every, False, args.cache, args.workers)
    plan = ident.design({p: faces for p, (faces, _) in zip(every, ident._split(next(iter(first.values()))))},
                        args.padding, args.seed)
    orders = ident.gallery_orders(plan, args.galleries, args.seed)
    sizes = sorted({min(10 ** 9 if s == "all" else int(s), len(plan.enrolled)) for s in args.sizes.split(",")})
    if args.design_from or args.thresholds_only:
        plan = ident._used_only(plan, orders, sizes[-1])
    if args.thresholds_only:
        plan = ident.Design(plan.references, [], plan.distractors, plan.padding, plan.singles)
    photos = [p for p in plan.enrolled if p is not None] + [p for p, _ in plan.probes] + plan.distractors
    photos = photos if args.design_from or args.thresholds_only else every
    clean = {m: dict(zip(photos, ident._split(f))) for m, f in
             ident.embed(parts, photos, False, args.cache, args.workers).items()}
    pool = plan.distractors if args.design_from or args.thresholds_only else plan.singles     # as eval_identification
    how = ident.Embedding(args.cache, args.workers, pool)
    truth = np.array([i for _, i in plan.probes], dtype=int)
    meta = {"enrolled": sum(p is not None for p in plan.enrolled), "probes": len(plan.probes),
            "with_probes": sum(p is not None for p in plan.references) if plan.probes else 0,
            "distractors": len(plan.distractors), "galleries": args.galleries, "seed": args.seed,
            "data": "lfw-dev (../shared/data/faces/lfw-dev)", "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "command": " ".join(["benchmarks/calibrate_thresholds.py", *sys.argv[1:]])}
    entries = {}
    for model in models:
        per_size: dict[int, dict[str, dict[str, float]]] = {size: {} for size in sizes}
        for grade in ("clean", "video-grade"):
            probes, distractors, references = ident.grade_faces(model, parts, clean, plan, grade, how)
            ref_matrix = np.stack([v[0] for v in references.vectors])
            probe_d, distractor_d = distances(probes, ref_matrix), distances(distractors, ref_matrix)
            for size in sizes:
                per_size[size][grade] = calibrate(probe_d, truth, distractor_d, [o[:size] for o in orders])
        space = space_of(model)
        entries[space.model] = {"face_model": model, "version": space.version, **meta, "curve": curve(per_size)}
        print(f"{model}: {per_size}", file=sys.stderr)
    seconds = round(time.perf_counter() - started)          # the whole run, embedding included
    entries = {name: {**entry, "seconds": seconds} for name, entry in entries.items()}
    write(args.out, entries)
    print(f"wrote {args.out} ({', '.join(models)}; {seconds} s)")


def _arguments(known: tuple[str, ...] | list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(known))
    parser.add_argument("--sizes", default="60,250,1000,all", help="Gallery sizes ('all' = every enrolled person).")
    parser.add_argument("--padding", type=int, default=750, help="Single-photo identities drawn to be enrolled.")
    parser.add_argument("--galleries", type=int, default=5, help="Random nested galleries per size.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "svidok" / "eval-identification")
    parser.add_argument("--thresholds-only", action="store_true", help="Skip the probes (no recall).")
    parser.add_argument("--design-from", default=None, metavar="MODEL",
                        help="Take the split from MODEL's clean cache; embed only the photos the galleries use.")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    unknown = set(args.models.split(",")) - set(known)
    if unknown:
        parser.error(f"unknown model(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    return args


def write(path: Path, entries: dict[str, dict]) -> None:
    """The TOML file, written whole (temporary file, then renamed); the entries of models not
    calibrated now are kept as they were."""
    kept = tomllib.loads(path.read_text(encoding="utf-8")).get("models", {}) if path.is_file() else {}
    models = {**kept, **entries}
    lines = [HEADER]
    for name, entry in models.items():
        lines += ["", f"[models.{name}]"]
        lines += [f"{k} = {_toml(v)}" for k, v in entry.items() if k != "curve"]
        for point in entry.get("curve", []):
            lines += ["", f"[[models.{name}.curve]]"] + [f"{k} = {_toml(v)}" for k, v in point.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


if __name__ == "__main__":
    main()
