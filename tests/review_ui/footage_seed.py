"""One footage posted by several channels, and the family's photo reposted, made by the real pipeline
on the review UI's seeded workspace: real photos archived from several channels, fingerprinted by the
perceptual analyzer, grouped by `update_footage`, the candidates written by `upsert_candidates`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from svidok.analyzers.near_duplicates import PerceptualAnalyzer
from svidok.foundation.archive import Archive, ItemRecord, MediaRecord
from svidok.foundation.clock import utc_now
from svidok.matching.base import Candidate
from svidok.matching.footage import update_footage
from svidok.matching.upsert import upsert_candidates
from svidok.pipeline import run_analysis
from tests.analyzers.near_duplicate_media import crop, jpeg, letterbox, picture, watermark
from tests.review_ui.conftest import EMPTY_EMBEDDING, Seed, insert

# (channel, message id, the post's text)
FIRST = ("rybar_photos", "10", "Полонений, фото з першого каналу")
REPOST = ("z_kanal", "77", "Той самий знімок, інший підпис")
SAME_BYTES = ("third_channel", "5", "Третій канал переслав той самий файл")
SEARCH = ("poisk_plennyh", "6", "Шукаємо сина! Петренко Олександр")


@dataclass
class Footage:
    sighting: int
    first: str            # the media the sighting was raised on
    repost: str           # a near-duplicate attached to it (posted by REPOST and SAME_BYTES)
    family_photo: str     # the family's reference photo, reposted by SEARCH


def url(post: tuple[str, str, str]) -> str:
    return f"https://t.me/{post[0]}/{post[1]}"


def posted_at(post: tuple[str, str, str]) -> str:
    return f"2024-05-{int(post[1]) % 28 + 1:02d}T08:00:00+00:00"


def archive_post(ws, folder: Path, post: tuple[str, str, str], data: bytes) -> str:
    channel, msg, text = post
    path = folder / f"{channel}-{msg}.jpg"
    path.write_bytes(data)
    item = ItemRecord("telegram", f"{channel}/{msg}", text=text, channel=channel, url=url(post),
                      posted_at=posted_at(post), media=[MediaRecord("photo", path=path)])
    return Archive(ws, "telegram", "test").save_item(item).media[0].sha256


def add_reference_photo(ws, person: int, data: bytes) -> int:
    consent = ws.conn.execute("SELECT id FROM consent WHERE person_id = ? ORDER BY id LIMIT 1", (person,)).fetchone()[0]
    stored = ws.references.put_bytes(data, "jpg")
    return insert(ws, "reference", person_id=person, consent_id=consent, photo_sha256=stored.sha256,
                  photo_path=stored.relpath, photo_date="2022-02-02", box=[10, 70, 70, 10], embedding=EMPTY_EMBEDDING,
                  model="dlib_face_recognition_resnet_model_v1", model_version="1", created_at=utc_now())


def face_candidate(person: int, media: str, score: float) -> Candidate:
    reason = {"kind": "face", "distance": 0.4, "score": score, "reference_id": 1, "track_id": None}
    return Candidate(person, media, f"p{person}:m{media}:face", score, [reason], {"faces": "faces 1"}, [1])


def seed_footage(seeded: Seed, folder: Path) -> Footage:
    """A photo posted by one channel, a recompressed, cropped, watermarked copy by another (and the
    copy's very bytes by a third), a candidate sighting of the person on each copy; and the family's
    reference photo, letterboxed and watermarked, posted by a "searching for..." channel."""
    ws, cat, family = seeded.ws, picture("chelsea"), picture("astronaut")
    first = archive_post(ws, folder, FIRST, jpeg(cat, 92))
    repost = archive_post(ws, folder, REPOST, jpeg(watermark(crop(cat)), 60))
    assert archive_post(ws, folder, SAME_BYTES, jpeg(watermark(crop(cat)), 60)) == repost
    add_reference_photo(ws, seeded.person, jpeg(family, 95))
    family_photo = archive_post(ws, folder, SEARCH, jpeg(letterbox(watermark(family)), 70))
    assert run_analysis(ws, [PerceptualAnalyzer()]).failed == 0
    report = update_footage(ws)
    assert (report.linked, report.reposts) == (1, 1)
    candidates = [face_candidate(seeded.person, first, 0.9), face_candidate(seeded.person, repost, 0.8)]
    upserted = upsert_candidates(ws, candidates, "test", [])
    assert (upserted.new, upserted.attached) == (1, 1)
    sid = ws.conn.execute("SELECT id FROM sighting WHERE media_sha256 = ?", (first,)).fetchone()[0]
    return Footage(sid, first, repost, family_photo)
