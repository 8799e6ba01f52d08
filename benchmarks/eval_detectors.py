"""Face detectors compared: dlib HOG, dlib CNN, BlazeFace short/full range, and fallbacks.

Each picture goes through `analyzers.faces._working_image` (default FaceOptions) and then:
- hog: `faces._find_boxes` with no fallback (HOG, then its extra upsampling while nothing is found);
- cnn: dlib's CNN alone, as the fallback runs it (upsample 1 below 400 working px) — on a seeded
  sample (`--cnn-sample`), it is slow;
- blazeface_short / blazeface_full: `analyzers.blazeface` on the working picture;
- hog+cnn, hog+blazeface_short, hog+blazeface_full: HOG, and the other one only where HOG finds
  nothing (the fallback is run on every HOG miss, so these are exact on all pictures).

Pictures: lfw-dev (4,100 photos, 150x150) clean and video-grade (`eval_faces.video_grade`:
100x100 bilinear + JPEG q35). Measured: the share of photos whose main face is found (a box
containing the picture's centre; LFW photos are centred on the person), and CPU ms per picture
(process time of the detector call). The clips of ../shared/data/video, sampled as the faces
analyzer samples them (`frames.iter_frames`, default settings): faces found per sampled frame
and CPU ms per frame.

Also fitted, on clean photos where HOG and BlazeFace both find the main face: the mapping from
a BlazeFace box to HOG's box (side ratio, centre offset in BlazeFace sides; medians), pinned in
`analyzers.faces` for the fallback.

Usage: nice -n 10 .venv/bin/python benchmarks/eval_detectors.py [--limit N] [--cnn-sample 300] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from benchmarks.eval_faces import LFW, video_grade  # noqa: E402
from svidok.analyzers import faces  # noqa: E402
from svidok.analyzers.blazeface import DETECTORS, BlazeFaceDetection  # noqa: E402
from svidok.analyzers.frames import FrameOptions, iter_frames, load_image  # noqa: E402
from svidok.foundation.settings import AnalyzeSettings  # noqa: E402

VIDEO = LFW.parents[1] / "video"
Box = tuple[float, float, float, float]            # (top, right, bottom, left), working pixels


@dataclass(frozen=True)
class Found:
    """One detector's boxes on one picture and the CPU seconds it took."""

    boxes: list[Box]
    cpu_s: float


def run_all(work: np.ndarray, options: faces.FaceOptions, model: object, with_cnn: bool) -> dict[str, Found]:
    """Every base detector on one working picture (cnn only when asked, or where HOG finds nothing)."""
    out = {"hog": _timed(lambda: [_rect_box(r) for r in faces._find_boxes(model, work, options)])}
    for name, cls in DETECTORS.items():
        detector = cls.shared()
        out[f"blazeface_{name}"] = _timed(lambda d=detector: [_bf_box(f) for f in d.predict(work)])
    if with_cnn or not out["hog"].boxes:
        upsample = 1 if min(work.shape[:2]) < 400 else 0
        out["cnn"] = _timed(lambda: [_rect_box(d.rect) for d in model.cnn(work, upsample)])
    return out


def _timed(call: Callable[[], list[Box]]) -> Found:
    started = time.process_time()
    boxes = call()
    return Found(boxes, time.process_time() - started)


def _rect_box(rect: object) -> Box:
    return (rect.top(), rect.right() + 1, rect.bottom() + 1, rect.left())


def _bf_box(face: BlazeFaceDetection) -> Box:
    return face.box


def with_fallbacks(found: dict[str, Found]) -> dict[str, Found]:
    """Add hog+X: HOG's boxes, or X's (and its time on top) where HOG has none."""
    out = dict(found)
    hog = found["hog"]
    for name in ("cnn", "blazeface_short", "blazeface_full"):
        if hog.boxes:
            out[f"hog+{name}"] = hog
        elif name in found:
            out[f"hog+{name}"] = Found(found[name].boxes, hog.cpu_s + found[name].cpu_s)
    return out


def centre_box(boxes: list[Box], shape: tuple[int, ...]) -> Box | None:
    """The box containing the picture's centre (the nearest such one), else None."""
    cy, cx = shape[0] / 2, shape[1] / 2
    inside = [b for b in boxes if b[0] <= cy <= b[2] and b[3] <= cx <= b[1]]
    return min(inside, key=lambda b: ((b[0] + b[2]) / 2 - cy) ** 2 + ((b[1] + b[3]) / 2 - cx) ** 2, default=None)


def lfw_photos(limit: int | None) -> list[Path]:
    photos = sorted((LFW / "images").glob("*/*.jpg"))
    if limit:
        photos = sorted(random.Random(1).sample(photos, limit))
    return photos


def measure_lfw(photos: list[Path], degrade: bool, cnn_sample: set[Path], options: faces.FaceOptions
                ) -> tuple[dict[str, list[float]], dict[str, int], list[tuple[Box, Box, Box]]]:
    """Per detector: CPU seconds per photo and photos with the main face; and (hog, short, full)
    centre boxes where all three found the main face (for the box mapping)."""
    model = faces.FaceModels.shared().loaded
    seconds: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    pairs = []
    for i, path in enumerate(photos):
        image = load_image(path)
        image = video_grade(image) if degrade else image
        work, _ = faces._working_image(image, options)
        found = with_fallbacks(run_all(work, options, model, path in cnn_sample))
        centres = {name: centre_box(f.boxes, work.shape) for name, f in found.items()}
        for name, f in found.items():
            if name == "cnn" and path not in cnn_sample:
                continue                                   # cnn alone: the sample only
            seconds.setdefault(name, []).append(f.cpu_s)
            hits[name] = hits.get(name, 0) + (centres[name] is not None)
        if all(centres[n] is not None for n in ("hog", "blazeface_short", "blazeface_full")) and found["hog"].boxes:
            pairs.append((centres["hog"], centres["blazeface_short"], centres["blazeface_full"]))
        if i % 500 == 0:
            print(f"  {'video' if degrade else 'clean'} {i}/{len(photos)}", file=sys.stderr, flush=True)
    return seconds, hits, pairs


def fit_mapping(pairs: list[tuple[Box, Box]]) -> dict[str, float]:
    """Median HOG side / BlazeFace side, and HOG centre − BlazeFace centre in BlazeFace sides."""
    hog = np.array([p[0] for p in pairs], np.float64)
    bf = np.array([p[1] for p in pairs], np.float64)

    def geometry(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        side = ((b[:, 1] - b[:, 3]) + (b[:, 2] - b[:, 0])) / 2
        return side, (b[:, 1] + b[:, 3]) / 2, (b[:, 0] + b[:, 2]) / 2

    h_side, h_x, h_y = geometry(hog)
    b_side, b_x, b_y = geometry(bf)
    return {"side_ratio": float(np.median(h_side / b_side)), "dx": float(np.median((h_x - b_x) / b_side)),
            "dy": float(np.median((h_y - b_y) / b_side)), "n": len(pairs),
            "side_ratio_iqr": [float(np.percentile(h_side / b_side, q)) for q in (25, 75)],
            "dy_iqr": [float(np.percentile((h_y - b_y) / b_side, q)) for q in (25, 75)]}


def measure_clips(options: faces.FaceOptions, cnn_every: int) -> list[dict]:
    """Per clip and detector: sampled frames, faces per frame, CPU ms per frame."""
    model = faces.FaceModels.shared().loaded
    rows = []
    frame_options = FrameOptions.from_settings(AnalyzeSettings())
    for clip in sorted(VIDEO.glob("**/*.mp4")):
        per: dict[str, list[tuple[int, float]]] = {}
        for n, frame in enumerate(iter_frames(clip, "video/mp4", frame_options)):
            work, _ = faces._working_image(frame.image, options)
            found = with_fallbacks(run_all(work, options, model, n % cnn_every == 0))
            for name, f in found.items():
                if name == "cnn" and n % cnn_every:
                    continue
                per.setdefault(name, []).append((len(f.boxes), f.cpu_s))
        for name, values in per.items():
            counts = np.array([v[0] for v in values])
            rows.append({"clip": str(clip.relative_to(VIDEO)), "detector": name, "frames": len(values),
                         "faces_per_frame": float(counts.mean()), "frames_with_face": float((counts > 0).mean()),
                         "cpu_ms": 1000 * float(np.mean([v[1] for v in values]))})
        print(f"  {clip.name} done", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of this many LFW photos")
    parser.add_argument("--cnn-sample", type=int, default=300, help="LFW photos the CNN alone runs on")
    parser.add_argument("--cnn-every", type=int, default=3, help="the CNN alone on every Nth sampled frame")
    parser.add_argument("--out", type=Path, default=None, help="write every result as JSON here")
    args = parser.parse_args()
    options = replace(faces.FaceOptions.from_settings(AnalyzeSettings()), cnn_fallback=False, fallback_detector="none")
    photos = lfw_photos(args.limit)
    cnn_sample = set(random.Random(2).sample(photos, min(args.cnn_sample, len(photos))))
    result: dict = {"photos": len(photos), "cnn_sample": len(cnn_sample), "options": repr(options)}
    for mode in ("clean", "video"):
        started = time.perf_counter()
        seconds, hits, pairs = measure_lfw(photos, mode == "video", cnn_sample, options)
        result[mode] = {name: {"found": hits[name], "of": len(seconds[name]), "cpu_ms": 1000 * float(np.mean(s))}
                        for name, s in seconds.items()}
        result[mode]["wall_s"] = time.perf_counter() - started
        for i, name in ((1, "short"), (2, "full")):
            result[mode][f"mapping_{name}"] = fit_mapping([(p[0], p[i]) for p in pairs])
        print(json.dumps(result[mode], indent=1), file=sys.stderr, flush=True)
    result["clips"] = measure_clips(options, args.cnn_every)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
