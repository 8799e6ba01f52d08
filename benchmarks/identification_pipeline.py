"""1:N identification on LFW (../shared/data/faces/lfw-dev) through Svidok's real code paths
(`eval_identification.py` without `--model` runs this; with `--model` it compares face models).

For a seeded sample of identities with >= 3 images: a person, a consent and ONE enrolled
reference photo (the first that passes the reference checks; `--references N` enrolls up to N,
as a family giving several photos would). Their other photos (probes)
and a sample of single-image identities (distractors) are ingested as archive media,
analyzed by the real `FaceAnalyzer`, then `run_match` queues sightings. Reported per face
threshold (the sightings' stored normalised distance is re-thresholded, which is what a run
at that threshold would queue):

- rank-1 recall: probe photos whose highest-scoring sighting is the right person;
- distractors raising a sighting: share of distractor photos with any sighting;
- queue precision: share of all sightings that name the right person;
- ranked search recall@20: share of probe photos found among the 20 archived faces closest
  to their person's reference (`sightings similar`).

The same is run on a video-grade copy of the archive (each photo 100x100 px, JPEG quality 35;
references stay as the families give them).

    .venv/bin/python benchmarks/eval_identification.py --limit 60 --distractors 300 [--references N] [--face-jitter N]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from svidok.foundation.store import sha256_file  # noqa: E402

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "lfw-dev" / "images"
OFFSETS = (-0.07, -0.03, 0.0, 0.03, 0.08)      # around the active face model's calibrated threshold


def thresholds(gallery: int) -> list[float]:
    """The settings' face model's threshold calibrated for a gallery of that many persons, and its
    neighbours (each model has its own scale; for dlib's 0.517: 0.447, 0.487, 0.517, 0.547, 0.597)."""
    from svidok.analyzers.face_spaces import space_of
    from svidok.analyzers.model_thresholds import thresholds_for
    from svidok.foundation.settings import AnalyzeSettings

    base = thresholds_for(space_of(AnalyzeSettings().face_model).model, gallery).threshold
    return [round(base + offset, 3) for offset in OFFSETS]


@dataclass
class Sample:
    enrolled: dict[str, list[Path]]            # identity -> photos (first usable one is the reference)
    distractors: list[Path]


@dataclass
class Outcome:
    truth: dict[str, str | None] = field(default_factory=dict)     # media sha -> identity (None = distractor)
    sightings: list[tuple[str, str, float, float]] = field(default_factory=list)  # media, identity, score, dist
    ranked: dict[str, list[str]] = field(default_factory=dict)     # identity -> media of its top-20 faces
    enrolled: int = 0
    seconds: float = 0.0


def sample(limit: int, distractors: int, seed: int) -> Sample:
    folders = sorted(p for p in LFW.iterdir() if p.is_dir())
    many = [f for f in folders if len(list(f.glob("*.jpg"))) >= 3]
    single = [f for f in folders if len(list(f.glob("*.jpg"))) == 1]
    rng = random.Random(seed)
    chosen = rng.sample(many, min(limit, len(many)))
    lone = rng.sample(single, min(distractors, len(single)))
    return Sample({f.name: sorted(f.glob("*.jpg")) for f in chosen}, [next(f.glob("*.jpg")) for f in lone])


def degrade(path: Path, folder: Path) -> Path:
    """The video-grade copy: 100x100 px, JPEG quality 35."""
    from PIL import Image

    out = folder / f"{path.stem}.jpg"
    with Image.open(path) as img:
        img.convert("RGB").resize((100, 100), Image.BILINEAR).save(out, "JPEG", quality=35)
    return out


def run(data: Sample, workdir: Path, video_grade: bool, threshold: float, face_jitter: int | None = None,
        references: int = 1) -> Outcome:
    from svidok.analyzers.face_analyzer import FaceAnalyzer
    from svidok.collectors.local_files import LocalFiles
    from svidok.foundation.settings import Settings
    from svidok.foundation.workspace import Workspace
    from svidok.matching.face_matcher import ranked_search
    from svidok.matching.persons import ConsentInput, PersonInput, add_consent, add_person
    from svidok.matching.references import EnrollOptions, enroll
    from svidok.matching.sightings import list_sightings, run_match
    from svidok.pipeline import run_analysis, run_collector

    start, out = time.perf_counter(), Outcome()
    settings = Settings()
    import dataclasses

    settings = dataclasses.replace(settings, match=dataclasses.replace(settings.match, face_threshold=threshold))
    if face_jitter is not None:
        settings = dataclasses.replace(settings, analyze=dataclasses.replace(settings.analyze, face_jitter=face_jitter))
    ws = Workspace.create(workdir / ("video" if video_grade else "photo"), settings)
    copies = workdir / "copies"
    copies.mkdir(exist_ok=True)
    person_of: dict[int, str] = {}
    reference_of: dict[str, int] = {}
    archive: list[Path] = []
    for identity, photos in data.enrolled.items():
        pid = add_person(ws, PersonInput(identity.replace("_", " ")))
        add_consent(ws, ConsentInput(pid, "benchmark", "self", "2024-01-01"))
        person_of[pid] = identity
        taken: list[Path] = []
        for photo in photos:
            if len(taken) == references:
                break
            result = enroll(ws, pid, [photo], EnrollOptions())[0]
            if result.status == "accepted":
                reference_of.setdefault(identity, result.reference_id)
                taken.append(photo)
        rest = [photo for photo in photos if photo not in taken]
        if not taken or not rest:
            continue
        out.enrolled += 1
        for probe in rest:
            path = degrade(probe, copies) if video_grade else probe
            out.truth[sha256_file(path)] = identity
            archive.append(path)
    for lone in data.distractors:
        path = degrade(lone, copies) if video_grade else lone
        out.truth[sha256_file(path)] = None
        archive.append(path)
    run_collector(ws, LocalFiles(archive))
    run_analysis(ws, [FaceAnalyzer(settings.analyze)])
    run_match(ws)
    for s in list_sightings(ws, limit=10**6):
        face = next((r for r in s.reasons if r["kind"] == "face"), None)
        out.sightings.append((s.media_sha256, person_of[s.person_id], s.score, face["distance"] if face else 0.0))
    for identity, ref in reference_of.items():
        out.ranked[identity] = [r["media_sha256"] for r in ranked_search(ws, ref, 20)]
    ws.close()
    out.seconds = time.perf_counter() - start
    return out


def metrics(out: Outcome, threshold: float) -> dict[str, float]:
    per_media: dict[str, list[tuple[float, str]]] = defaultdict(list)
    kept = [(m, who, score) for m, who, score, dist in out.sightings if dist <= threshold]
    for media, who, score in kept:
        per_media[media].append((score, who))
    probes = [m for m, who in out.truth.items() if who is not None]
    distractors = [m for m, who in out.truth.items() if who is None]
    hits = sum(1 for m in probes if per_media.get(m) and max(per_media[m])[1] == out.truth[m])
    false_media = sum(1 for m in distractors if per_media.get(m))
    right = sum(1 for m, who, _ in kept if out.truth.get(m) == who)
    return {"recall": hits / max(1, len(probes)), "distractor_rate": false_media / max(1, len(distractors)),
            "precision": right / max(1, len(kept)), "sightings": len(kept), "probes": len(probes),
            "distractors": len(distractors)}


def ranked_recall(out: Outcome) -> float:
    found = total = 0
    for media, who in out.truth.items():
        if who is None or who not in out.ranked:
            continue
        total += 1
        found += media in out.ranked[who]
    return found / max(1, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60, help="Identities to enroll (of 373 with >= 3 photos).")
    parser.add_argument("--distractors", type=int, default=300, help="Single-image identities as distractors.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-video-grade", action="store_true", help="Skip the 100x100 JPEG q35 copy.")
    parser.add_argument("--references", type=int, default=1,
                        help="Reference photos enrolled per person (the first that pass the checks; the rest are "
                             "probes; ranked search uses the first).")
    parser.add_argument("--face-jitter", type=int, default=None,
                        help="Re-samplings per archived face embedding (analyze.face_jitter; default: the setting's).")
    args = parser.parse_args()
    if not LFW.is_dir():
        sys.exit(f"{LFW} is absent (evaluation data is not part of the repository)")
    data = sample(args.limit, args.distractors, args.seed)
    from svidok.foundation.settings import AnalyzeSettings

    print(f"face model: {AnalyzeSettings().face_model} (the settings' default)", file=sys.stderr)
    print("| archive | threshold | enrolled | probes | distractors | rank-1 recall | distractors raising a "
          "sighting | queue precision | ranked search recall@20 | run time (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for video in ([False] if args.no_video_grade else [False, True]):
        with tempfile.TemporaryDirectory() as tmp:
            out = run(data, Path(tmp), video, max(thresholds(1)), args.face_jitter, args.references)  # the loosest
        for t in thresholds(out.enrolled):
            m = metrics(out, t)
            print(f"| {'video-grade 100px q35' if video else 'photos'} | {t:.3f} | {out.enrolled} | {m['probes']} | "
                  f"{m['distractors']} | {m['recall']:.3f} | {100 * m['distractor_rate']:.1f} % | "
                  f"{m['precision']:.3f} | {ranked_recall(out):.3f} | {out.seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
