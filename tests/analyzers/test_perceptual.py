"""Perceptual hashes on real photos and real H.264 clips: copies match, different pictures do not."""

from __future__ import annotations

import numpy as np
import pytest

from svidok.analyzers.near_duplicates import align, same_footage, same_image
from svidok.analyzers.perceptual import Fingerprint, image_fingerprint, video_fingerprint
from tests.analyzers.near_duplicate_media import (
    crop,
    decode,
    jpeg,
    letterbox,
    pan,
    picture,
    watermark,
    write_clip,
)


def _fp(image: np.ndarray, quality: int = 85) -> Fingerprint:
    return image_fingerprint(decode(jpeg(image, quality)))


@pytest.mark.parametrize("edit", ["reencoded", "half size", "cropped", "watermarked", "letterboxed", "all at once"])
def test_a_reposted_photo_is_the_same_picture(edit: str) -> None:
    import cv2

    original = picture("astronaut")
    copy = {"reencoded": lambda im: decode(jpeg(im, 30)),
            "half size": lambda im: cv2.resize(im, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
            "cropped": crop, "watermarked": watermark, "letterboxed": letterbox,
            "all at once": lambda im: letterbox(watermark(cv2.resize(crop(im, 0.04), (300, 300))))}[edit](original)
    assert same_image(_fp(original), _fp(copy)) is not None


def test_different_photos_are_not_the_same_picture() -> None:
    names = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry"]
    prints = {name: _fp(picture(name)) for name in names}
    for a in names:
        for b in names:
            assert (same_image(prints[a], prints[b]) is not None) == (a == b), (a, b)


def test_a_flat_photo_has_no_fingerprint_and_matches_nothing() -> None:
    blank = np.full((200, 300, 3), 128, np.uint8)
    grey = np.full((200, 300, 3), 90, np.uint8)
    assert not image_fingerprint(blank).informative
    assert same_image(image_fingerprint(blank), image_fingerprint(grey)) is None


def test_fingerprints_survive_the_database_round_trip(tmp_path) -> None:
    clip = video_fingerprint(write_clip(tmp_path / "a.mp4", pan(picture("astronaut"), 2.0)))
    back = Fingerprint.from_blobs(clip.kind, clip.hashes_blob(), clip.times_blob(), clip.frames)
    assert back.hashes.shape == clip.hashes.shape and (back.hashes == clip.hashes).all()
    assert np.allclose(back.times, clip.times)
    photo = _fp(picture("coffee"))
    assert (Fingerprint.from_blobs("image", photo.hashes_blob(), None, 1).hashes == photo.hashes).all()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Fingerprint]:
    """A 6-second moving clip, copies a channel would make of it, and other footage."""
    import cv2

    folder = tmp_path_factory.mktemp("clips")
    frames = pan(picture("astronaut"), 6.0)
    made = {
        "original": write_clip(folder / "original.mp4", frames),
        "reencoded": write_clip(folder / "reencoded.mp4", frames[::2], fps=12, crf=38),
        "smaller, letterboxed": write_clip(folder / "small.mp4", [letterbox(cv2.resize(f, (160, 120)))
                                                                 for f in frames]),
        "cropped, watermarked": write_clip(folder / "cw.mp4", [watermark(crop(f)) for f in frames]),
        "trimmed": write_clip(folder / "trimmed.mp4", frames[int(1.7 * 25):int(4.6 * 25)]),
        "other footage": write_clip(folder / "other.mp4", pan(picture("coffee"), 6.0)),
        "same place, other take": write_clip(folder / "take2.mp4", pan(picture("astronaut")[::-1].copy(), 6.0)),
    }
    return {name: video_fingerprint(path) for name, path in made.items()}


@pytest.mark.parametrize("copy", ["reencoded", "smaller, letterboxed", "cropped, watermarked", "trimmed"])
def test_a_reposted_clip_is_the_same_footage(clips, copy: str) -> None:
    found = align(clips[copy], clips["original"])
    assert same_footage(found), found
    assert same_footage(align(clips["original"], clips[copy]))


def test_a_trimmed_clip_is_found_where_it_was_cut_from(clips) -> None:
    found = align(clips["trimmed"], clips["original"])
    assert abs(found.offset_s - 1.7) <= 0.5                      # trimmed t=0 is the original's 1.7 s
    assert found.end_s - found.start_s >= 2.0


@pytest.mark.parametrize("other", ["other footage", "same place, other take"])
def test_different_footage_is_not_linked(clips, other: str) -> None:
    for copy in ("original", "reencoded", "trimmed", "cropped, watermarked"):
        assert not same_footage(align(clips[copy], clips[other])), (copy, other)


def test_a_black_clip_has_no_informative_windows(tmp_path) -> None:
    black = video_fingerprint(write_clip(tmp_path / "black.mp4", [np.zeros((120, 160, 3), np.uint8)] * 50))
    assert black.frames >= 3 and not black.informative
