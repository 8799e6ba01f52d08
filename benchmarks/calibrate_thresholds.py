"""Calibrate each face model's match thresholds on lfw-dev and write analyzers/model_thresholds.toml.

    .venv/bin/python benchmarks/calibrate_thresholds.py [--models dlib,mobilefacenet,fr_feature,fusion]
        [--gallery 60] [--distractors 300] [--seed 1] [--workers 1] [--out analyzers/model_thresholds.toml]

The protocol and code of `benchmarks/eval_identification.py --model` on a sample small enough
for a shared machine (the thresholds are chosen on distractors, which are single photos, so a
few hundred suffice for the 5 % point; the 1 % point is rougher):
1. `--gallery` identities with >= 2 photos (seeded random order) whose first photo has exactly
   one face of >= 45 px: that face is the person's reference; their other photos are probes;
   `--distractors` single-photo identities are the distractors;
2. every photo goes once through `analyzers.faces` with the settings' defaults and each model
   (`faces_by_model`: one detection, every model embeds the same boxes), clean and video-grade
   (100x100 bilinear, JPEG quality 35; references stay clean);
3. a photo's distance to a person: the smallest Euclidean distance of any of its faces to the
   reference, as the matcher measures (so the fusion's and the ArcFace models' unit vectors give
   sqrt(2 - 2 cos));
4. per model and grade, the distance at which <= 5 % (`threshold`) and <= 1 % (`strict`) of the
   distractor photos come within it of anyone in the gallery, rounded down to 3 decimals (the
   matcher raises a candidate at <= the threshold); the stricter grade's value is kept.
The file records the sample, the seed, the date and this command. Without ../shared/data
it prints why and writes nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_identification as ident  # noqa: E402  (its sample design, embedding cache and recall)

OUT = Path(__file__).resolve().parents[1] / "analyzers" / "model_thresholds.toml"
RATES = {"threshold": 0.05, "strict": 0.01}


def sample(gallery: int, distractors: int, seed: int, models: list[str], cache: Path,
           workers: int) -> tuple[list[Path], list[tuple[Path, int]], list[Path], dict]:
    """References (one per person), probes (photo, person index) and distractors, as eval_identification
    designs them, on a seeded random subset; with the clean faces of the references."""
    rng = np.random.default_rng(seed)
    folders = sorted(p for p in ident.LFW.iterdir() if p.is_dir())
    albums = [sorted(f.glob("*.jpg")) for f in folders]
    multi = [a for a in albums if len(a) >= 2]
    singles = [a[0] for a in albums if len(a) == 1]
    tried = [multi[i] for i in rng.permutation(len(multi))[:math.ceil(gallery * 1.6)]]
    firsts = ident.embed(models, [a[0] for a in tried], False, cache, workers)
    first_faces = {m: dict(zip((a[0] for a in tried), ident._split(f))) for m, f in firsts.items()}
    references, probes = [], []
    for album in tried:
        sizes = first_faces[models[0]][album[0]][0]
        if (np.asarray(sizes) >= ident.REFERENCE_MIN_FACE).sum() == 1 and len(references) < gallery:
            probes.extend((photo, len(references)) for photo in album[1:])
            references.append(album[0])
    chosen = [singles[i] for i in sorted(rng.permutation(len(singles))[:distractors])]
    return references, probes, chosen, first_faces


def distances(photos: ident.Faces, references: np.ndarray) -> np.ndarray:
    """(photos, persons) smallest Euclidean distance of any face of the photo; inf without faces."""
    return -ident.photo_scores("dlib", photos, references)


def calibrate(probe_d: np.ndarray, truth: np.ndarray, distractor_d: np.ndarray) -> dict[str, float]:
    gallery = np.arange(probe_d.shape[1])
    out: dict[str, float] = {}
    for key, rate in RATES.items():
        recall, _, score = ident.recall(-probe_d, truth, -distractor_d, gallery, rate)
        out[key] = math.floor((-score - 1e-9) * 1000) / 1000
        out[f"recall_{key}"] = round(recall, 3)
    return out


def main() -> None:
    from svidok.analyzers.face_spaces import space_of
    from svidok.analyzers.models import face_model_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(face_model_names()))
    parser.add_argument("--gallery", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "svidok" / "calibrate-thresholds")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not ident.LFW.is_dir():
        print(f"{ident.LFW} is absent (evaluation data is not part of the repository); nothing calibrated")
        return
    models = args.models.split(",")
    unknown = set(models) - set(face_model_names())
    if unknown:
        parser.error(f"unknown model(s) {', '.join(sorted(unknown))}; known: {', '.join(face_model_names())}")
    started = time.perf_counter()
    references, probes, distractors, first = sample(args.gallery, args.distractors, args.seed, models, args.cache,
                                                    args.workers)
    probe_paths, truth = [p for p, _ in probes], np.array([i for _, i in probes])
    grades = {}
    for grade, degraded in (("clean", False), ("video-grade", True)):
        grades[grade] = (ident.embed(models, probe_paths, degraded, args.cache, args.workers),
                         ident.embed(models, distractors, degraded, args.cache, args.workers))
    entries = {}
    for model in models:
        ref_matrix = np.stack([ident._reference(*first[model][p]) for p in references])
        per_grade = {g: calibrate(distances(pr[model], ref_matrix), truth, distances(di[model], ref_matrix))
                     for g, (pr, di) in grades.items()}
        space = space_of(model)
        entries[space.model] = {"face_model": model, "version": space.version,
                                "threshold": min(v["threshold"] for v in per_grade.values()),
                                "strict": min(v["strict"] for v in per_grade.values()), "grades": per_grade}
        print(f"{model}: {per_grade}", file=sys.stderr)
    meta = {"gallery": len(references), "probes": len(probes), "distractors": len(distractors), "seed": args.seed,
            "data": "lfw-dev (../shared/data/faces/lfw-dev)", "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "command": " ".join(["benchmarks/calibrate_thresholds.py", *sys.argv[1:]]),
            "seconds": round(time.perf_counter() - started)}
    write(args.out, meta, entries)
    print(f"wrote {args.out} ({len(entries)} models, {meta['seconds']} s)")


def write(path: Path, meta: dict, entries: dict) -> None:
    """The TOML file, written whole (temporary file, then renamed)."""
    lines = ["# Face-match thresholds per face model, calibrated on dev data.",
             "# Written by benchmarks/calibrate_thresholds.py: do not edit by hand, run it again.",
             "# Distances are Euclidean between stored embeddings (as matching/face_matcher.py measures);",
             "# threshold: <= 5 % of distractor photos raise a candidate for anyone in the gallery;",
             "# strict: <= 1 % (the stricter of clean and video-grade photos). Score 0.5 at threshold, 0.9 at strict.",
             "", "[calibration]"]
    lines += [f"{k} = {_toml(v)}" for k, v in meta.items()]
    for name, entry in entries.items():
        lines += ["", f"[models.{name}]"]
        lines += [f"{k} = {_toml(v)}" for k, v in entry.items() if k != "grades"]
        for grade, values in entry["grades"].items():
            lines += [f"{grade.replace('-', '_')} = {{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in values.items())
                      + " }"]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


if __name__ == "__main__":
    main()
