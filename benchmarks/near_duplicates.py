"""Near-duplicate linking: are reposted copies linked to their original, and nothing else?

Originals: the clips in ../shared/data/video (5 talking heads, one stage clip) plus synthetic
interview-like clips, each a still LFW photo filmed with a slow zoom, shake and noise (the hard
case: near-static, centred faces that look alike); photos: one LFW photo per identity. Copies
(`near_duplicate_copies.py`): re-encoded, rescaled, cropped, watermarked, letterboxed, and for
videos trimmed. Data are split by a hash of the identity / clip name: the thresholds are chosen
on the calibration half (`--calibrate` prints the choice: of the grid points linking >= 96 % of
the copies, the one with the fewest false links, then the strictest) and measured on the test half
with the constants in `analyzers/near_duplicates.py`.

Reported per split and kind: recall (copies whose search finds their own original), false
links (copy x other original pairs linked, over all such pairs), time to fingerprint one file
and to search the split's index. Searching uses `matching.footage_index.FingerprintIndex`, the
code path `svidok match` links footage with.

    .venv/bin/python benchmarks/near_duplicates.py --photos 1000 --synthetic 100 [--calibrate]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.near_duplicate_copies import photo_copies, synthetic_clip, video_copies, write_video  # noqa: E402
from svidok.analyzers.near_duplicates import align, image_distances  # noqa: E402
from svidok.analyzers.perceptual import Fingerprint, image_fingerprint, video_fingerprint  # noqa: E402
from svidok.matching.footage_index import FingerprintIndex  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VIDEOS = DATA / "video"
LFW = DATA / "faces" / "lfw-dev" / "images"
RECALL_TARGET = 0.96          # the goal (95 %) plus a point of margin


@dataclass
class Corpus:
    """Fingerprints of originals and copies, each copy knowing its original."""

    originals: dict[str, Fingerprint] = field(default_factory=dict)
    copies: dict[str, tuple[str, str, Fingerprint]] = field(default_factory=dict)   # key -> original, edit, fp
    seconds: list[float] = field(default_factory=list)                             # fingerprinting, per file
    media_seconds: float = 0.0                                                     # video duration done

    def split(self, half: int) -> "Corpus":
        keep = {k for k in self.originals if in_half(k, half)}
        return Corpus({k: v for k, v in self.originals.items() if k in keep},
                      {k: v for k, v in self.copies.items() if v[0] in keep})


def in_half(name: str, half: int) -> bool:
    return hashlib.sha256(name.encode()).digest()[0] % 2 == half


def video_corpus(work: Path, synthetic: int, seed: int) -> Corpus:
    corpus = Corpus()
    originals = {p.relative_to(VIDEOS).as_posix(): p for p in sorted(VIDEOS.rglob("*.mp4"))}
    for name, photo in _synthetic_photos(synthetic, seed):
        path = work / "videos" / name / "original.mp4"
        if not path.is_file():
            write_video(path, synthetic_clip(photo, 6.0, 25.0, seed=len(originals)), 25.0)
        originals[name] = path
    for name, path in originals.items():
        folder = work / "videos" / name.replace("/", "_")
        copies = video_copies(path, folder) if not (folder / "trimmed.mp4").is_file() else \
            {p.stem: p for p in folder.glob("*.mp4") if p.stem != "original"}
        corpus.originals[name] = _timed(corpus, video_fingerprint, path)
        for edit, copy in copies.items():
            corpus.copies[f"{name}#{edit}"] = (name, edit, _timed(corpus, video_fingerprint, copy))
    return corpus


def _synthetic_photos(count: int, seed: int):  # noqa: ANN202 - iterator of (name, RGB)
    from PIL import Image

    folders = sorted(p for p in LFW.iterdir() if p.is_dir())
    for folder in random.Random(seed + 1).sample(folders, min(count, len(folders))):
        photo = max(folder.glob("*.jpg"))
        yield f"synthetic/{folder.name}", np.asarray(Image.open(photo).convert("RGB"))


def photo_corpus(count: int, seed: int) -> Corpus:
    from PIL import Image

    corpus = Corpus()
    folders = sorted(p for p in LFW.iterdir() if p.is_dir())
    for folder in random.Random(seed).sample(folders, min(count, len(folders))):
        path = min(folder.glob("*.jpg"))
        rgb = np.asarray(Image.open(path).convert("RGB"))
        corpus.originals[folder.name] = _timed(corpus, lambda p: image_fingerprint(_decode(p.read_bytes())), path)
        for edit, data in photo_copies(rgb).items():
            corpus.copies[f"{folder.name}#{edit}"] = (folder.name, edit, _timed(corpus, _fingerprint_bytes, data))
    return corpus


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _fingerprint_bytes(data: bytes) -> Fingerprint:
    return image_fingerprint(_decode(data))


def _timed(corpus: Corpus, function, source) -> Fingerprint:  # noqa: ANN001
    started = time.perf_counter()
    fingerprint = function(source)
    corpus.seconds.append(time.perf_counter() - started)
    if fingerprint.times is not None:
        corpus.media_seconds += fingerprint.frames * 0.5
    return fingerprint


@dataclass
class Result:
    copies: int = 0
    linked: int = 0
    pairs: int = 0
    false_links: list[tuple[str, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    per_edit: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    search_s: float = 0.0


def evaluate(corpus: Corpus) -> Result:
    """Search each copy in an index of the split's originals, as `svidok match` does."""
    index = FingerprintIndex()
    for key, fp in corpus.originals.items():
        index.add(key, fp)
    result = Result()
    for key, (original, edit, fp) in corpus.copies.items():
        started = time.perf_counter()
        found = {m.key for m in index.search(fp)}
        result.search_s += time.perf_counter() - started
        result.copies += 1
        result.pairs += len(corpus.originals) - 1
        result.per_edit[edit][1] += 1
        if original in found:
            result.linked += 1
            result.per_edit[edit][0] += 1
        else:
            result.missed.append(key)
        result.false_links += [(key, other) for other in sorted(found - {original})]
    return result


def calibrate_photos(corpus: Corpus) -> None:
    """Print the IMAGE_MAX_BITS with the best recall at <= 0.05 % false links."""
    keys = [k for k, fp in corpus.originals.items() if fp.informative]
    matrix = np.stack([corpus.originals[k].hashes for k in keys])
    truth, dists = [], []
    for original, _, fp in corpus.copies.values():
        if fp.informative:
            truth.extend(k == original for k in keys)
            dists.append(image_distances(fp.hashes, matrix))
    truth_a, d = np.array(truth), np.concatenate(dists)
    grid = []
    for bits in range(2, 25):
        hit = d <= bits
        grid.append(((bits,), hit[truth_a].mean(), hit[~truth_a].mean()))
    pick("photos", ("IMAGE_MAX_BITS",), grid)


def calibrate_videos(corpus: Corpus) -> None:
    """Print the (frame bits, median bits, min frames) with the best recall at <= 0.05 % false links."""
    rows = []
    for frame_bits in (8, 10, 12, 14):
        for original, _, fp in corpus.copies.values():
            for key, other in corpus.originals.items():
                found = align(fp, other, frame_bits)
                rows.append((frame_bits, key == original, found.frames if found else 0,
                             found.distance if found else 64.0))
    data, grid = np.array(rows, dtype=np.float64), []
    for frame_bits in (8, 10, 12, 14):
        part = data[data[:, 0] == frame_bits]
        truth = part[:, 1] == 1
        for median in range(2, frame_bits + 1):
            for min_frames in (8, 6, 5, 4, 3):
                hit = (part[:, 2] >= min_frames) & (part[:, 3] <= median)
                grid.append(((frame_bits, median, min_frames), hit[truth].mean(), hit[~truth].mean()))
    pick("videos", ("FRAME_MAX_BITS", "MEDIAN_MAX_BITS", "MIN_FRAMES"), grid)


def pick(kind: str, names: tuple[str, ...], grid: list[tuple[tuple[int, ...], float, float]]) -> None:
    """The rule: of the settings linking >= RECALL_TARGET of the calibration copies, the one with
    the fewest false links, then the strictest (grid order); else the best recall."""
    meeting = [g for g in grid if g[1] >= RECALL_TARGET]
    values, recall, false = min(meeting, key=lambda g: g[2]) if meeting else max(grid, key=lambda g: g[1])
    chosen = " ".join(f"{n}={v}" for n, v in zip(names, values))
    print(f"{kind}, calibration half: {chosen}: recall {recall:.2%}, false links {false:.4%}")


def report(kind: str, split: str, corpus: Corpus, result: Result) -> None:
    false_rate = len(result.false_links) / max(1, result.pairs)
    print(f"\n### {kind}, {split}: {len(corpus.originals)} originals, {result.copies} copies")
    print(f"linked {result.linked}/{result.copies} = {result.linked / max(1, result.copies):.2%}; "
          f"false links {len(result.false_links)}/{result.pairs} pairs = {false_rate:.4%}; "
          f"search {1000 * result.search_s / max(1, result.copies):.2f} ms per copy")
    print("| edit | linked |\n|---|---|")
    for edit, (linked, total) in sorted(result.per_edit.items()):
        print(f"| {edit} | {linked}/{total} ({linked / total:.1%}) |")
    for key in result.missed[:10]:
        print(f"missed: {key}")
    for key, other in result.false_links[:10]:
        print(f"false link: {key} -> {other}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000, help="LFW identities (one photo each)")
    parser.add_argument("--synthetic", type=int, default=100, help="synthetic interview clips from LFW photos")
    parser.add_argument("--work", type=Path, default=Path("/tmp/svidok-near-duplicates"), help="copies (cached)")
    parser.add_argument("--calibrate", action="store_true", help="print the thresholds the calibration half picks")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not (VIDEOS.is_dir() and LFW.is_dir()):
        print(f"skipped: evaluation data absent ({VIDEOS} and {LFW} are needed)")
        return
    for kind, build in (("photos", lambda: photo_corpus(args.photos, args.seed)),
                        ("videos", lambda: video_corpus(args.work, args.synthetic, args.seed))):
        corpus = build()
        timing = f"fingerprint {1000 * np.mean(corpus.seconds):.1f} ms per file (mean of {len(corpus.seconds)})"
        if corpus.media_seconds:
            timing += f", {sum(corpus.seconds) / corpus.media_seconds * 1000:.1f} ms per second of video"
        print(f"\n## {kind}: {timing}")
        if args.calibrate:
            (calibrate_photos if kind == "photos" else calibrate_videos)(corpus.split(0))
        for half, split in ((0, "calibration half"), (1, "test half")):
            part = corpus.split(half)
            report(kind, split, part, evaluate(part))


if __name__ == "__main__":
    main()
