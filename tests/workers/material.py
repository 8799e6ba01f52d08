"""Small real media for worker tests: plain JPEGs, photos with a real face, tiny videos, a longer clip."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.factories import jpeg_bytes, mp4_bytes


def face_photo(seed: int) -> bytes:
    """A JPEG with a real face (scikit-image's astronaut, public domain), cropped and sized per seed."""
    import io

    from svidok.demo.material import astronaut

    left, size = 40 + 7 * (seed % 6), 320 + 11 * (seed % 5)
    image = astronaut().crop((left, 0, left + 340, 340)).resize((size, size))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85 + seed % 10)
    return out.getvalue()


def write_media(folder: Path, plain: int, faces: int, videos: int, first_seed: int = 1000) -> dict[str, str]:
    """Write the files into `folder` (plain JPEGs differ by seed); returns {sha256: kind}."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {**{f"plain_{i}.jpg": jpeg_bytes(first_seed + i, (96, 72)) for i in range(plain)},
             **{f"face_{i}.jpg": face_photo(i) for i in range(faces)},
             **{f"clip_{i}.mp4": mp4_bytes(seed=50 + i, frames=12) for i in range(videos)}}
    kinds = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        kinds[hashlib.sha256(data).hexdigest()] = name.split("_")[0]
    return kinds


def long_clip(folder: Path) -> tuple[Path, str]:
    """The demo's clip of the enrolled person saying his name, with long silences: a file that takes a
    while to analyze (faces in every sampled frame, speech)."""
    from svidok.demo.material import astronaut, make_clip, speech_asset

    folder.mkdir(parents=True, exist_ok=True)
    path = make_clip(folder / "long_clip.mp4", astronaut().crop((60, 0, 400, 340)), speech_asset("captive_ru"),
                     seed=11, lead_in_s=6.0)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()
