"""A workspace seeded with what the review UI works on: persons with consents and reference
photos, a Telegram post with a real MP4 and a real JPEG, a face track with crop/frame artifacts,
a transcript, candidate sightings, and one user per role — written with small SQL helpers
(the matching stage that normally creates these is tested on its own)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from svidok.cases.users import add_user
from svidok.foundation.clock import utc_now
from svidok.foundation.workspace import Workspace
from tests.factories import CHECKLIST, OBSERVATION, evidence, jpeg_bytes, mp4_bytes  # noqa: F401 - re-exported

PASSWORD = "correct horse battery staple"
ROLES = {"analyst": "analyst", "rev1": "reviewer", "rev2": "reviewer", "rev3": "reviewer",
         "officer": "case-officer", "admin": "admin"}
EMPTY_EMBEDDING = bytes(512)
FACE_REASON = {"kind": "face", "distance": 0.41, "score": 0.8, "frames": 5, "reference_id": 1, "track_id": 1}
NAME_REASON = {"kind": "name", "text": "Петренко Олександр", "time": 3.2, "field": "transcript"}


@dataclass
class Seed:
    ws: Workspace
    person: int
    other_person: int
    video_sha: str
    photo_sha: str
    sightings: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    references: dict[str, int] = field(default_factory=dict)


def insert(ws: Workspace, table: str, **values) -> int:
    cols = ", ".join(f'"{k}"' for k in values)
    cur = ws.conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(values))}) RETURNING *',
                          [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                           for v in values.values()])
    return cur.first()[0]


def add_person(ws: Workspace, name: str, born: str | None = None) -> int:
    return insert(ws, "person", name=name, name_variants=[], born=born, created_at=utc_now())


def add_consent(ws: Workspace, person: int, scopes: list[str], relation: str = "mother") -> int:
    return insert(ws, "consent", person_id=person, given_by="Марія Петренко", relation=relation,
                  given_on="2024-01-10", scopes=scopes, created_at=utc_now())


def add_reference(ws: Workspace, person: int, consent: int, seed: int, photo_date: str) -> int:
    stored = ws.references.put_bytes(jpeg_bytes(seed, (80, 80)), "jpg")
    return insert(ws, "reference", person_id=person, consent_id=consent, photo_sha256=stored.sha256,
                  photo_path=stored.relpath, photo_date=photo_date, box=[10, 70, 70, 10], embedding=EMPTY_EMBEDDING,
                  model="dlib_face_recognition_resnet_model_v1", model_version="1", created_at=utc_now())


def add_media(ws: Workspace, data: bytes, ext: str, item: int, position: int = 0) -> str:
    stored = ws.media.put_bytes(data, ext)
    ws.conn.execute("INSERT INTO media (sha256, size, mime, ext, original_name, first_seen, path)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (stored.sha256, stored.size, stored.mime, stored.ext,
                                                      f"file.{ext}", utc_now(), stored.relpath))
    insert(ws, "item_media", item_id=item, position=position, media_sha256=stored.sha256, status="stored",
           role="video" if ext == "mp4" else "photo", source_ref=f"video_files/file.{ext}")
    return stored.sha256


def add_artifact(ws: Workspace, source: str, kind: str, seed: int, time_s: float) -> str:
    stored = ws.derived.put_bytes(jpeg_bytes(seed, (40, 40) if kind == "crop" else (64, 48)), "jpg")
    ws.conn.execute("INSERT INTO artifact (sha256, kind, source_sha256, time_s, mime, path, producer,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (stored.sha256, kind, source, time_s,
                    stored.mime, stored.relpath, "analyzers.faces 1.0", utc_now()))
    return stored.sha256


def add_item(ws: Workspace, source_id: str, posted_at: str, text: str, channel: str = "rybar") -> int:
    return insert(ws, "item", source_kind="telegram", source_id=source_id, channel=channel,
                  url=f"https://t.me/{channel}/{source_id}", posted_at=posted_at, collected_at=utc_now(),
                  text=text, collector="collectors.telethon_channel", collector_version="1.0")


def add_sighting(ws: Workspace, person: int, media: str, item: int | None, score: float, key: str,
                 track: int | None = None, reasons: list | None = None, status: str = "pending") -> int:
    now = utc_now()
    return insert(ws, "sighting", person_id=person, media_sha256=media, item_id=item, track_id=track, key=key,
                  score=score, reasons=reasons or [FACE_REASON], reference_ids=[1], model_versions={},
                  status=status, created_at=now, updated_at=now)


def add_track(ws: Workspace, media: str) -> int:
    track = insert(ws, "track", media_sha256=media, start_s=2.0, end_s=4.0, n_faces=2, embedding=EMPTY_EMBEDDING,
                   best_face_ids=[], analyzer="analyzers.faces", analyzer_version="1.0")
    faces = []
    for i, t in enumerate((2.0, 3.5)):
        faces.append(insert(ws, "face", media_sha256=media, time_s=t, box=[5, 40, 40, 5], embedding=EMPTY_EMBEDDING,
                            crop_sha256=add_artifact(ws, media, "crop", 100 + i, t),
                            frame_sha256=add_artifact(ws, media, "frame", 200 + i, t), track_id=track,
                            model="dlib", model_version="1"))
    ws.conn.execute("UPDATE track SET best_face_ids = ? WHERE id = ?", (json.dumps(faces[::-1]), track))
    return track


def seed_workspace(ws: Workspace) -> Seed:
    person = add_person(ws, "Петренко Олександр Іванович", "1990-05-01")
    other = add_person(ws, "Коваленко Іван", "1985-02-02")
    share = add_consent(ws, person, ["identification", "share-icrc", "court"])
    ident_only = add_consent(ws, person, ["identification"], relation="brother")
    add_consent(ws, other, ["identification"])
    item = add_item(ws, "123", "2024-03-01T09:00:00+00:00", "Пленные рассказали о себе. Петренко Олександр")
    item2 = add_item(ws, "124", "2024-04-15T10:00:00+00:00", "Ещё одно видео", channel="other_channel")
    video = add_media(ws, mp4_bytes(seed=3, frames=60), "mp4", item)
    photo = add_media(ws, jpeg_bytes(7, (120, 90)), "jpg", item2)
    track = add_track(ws, video)
    insert(ws, "transcript_segment", media_sha256=video, start_s=1.0, end_s=5.0, language="uk",
           text="Мене звати Петренко Олександр, я з Києва", model="faster-whisper base", model_version="1.0")
    seed = Seed(ws, person, other, video, photo)
    seed.references = {"share": add_reference(ws, person, share, 11, "2021-06-01"),
                       "ident_only": add_reference(ws, person, ident_only, 12, "2019-08-20")}
    seed.sightings = {
        "video": add_sighting(ws, person, video, item, 0.9, "a", track, [FACE_REASON, NAME_REASON]),
        "photo": add_sighting(ws, person, photo, item2, 0.7, "b"),
        "other": add_sighting(ws, other, photo, item2, 0.5, "c"),
        "low": add_sighting(ws, person, photo, item2, 0.2, "d"),
    }
    seed.users = {name: add_user(ws, name, role, PASSWORD) for name, role in ROLES.items()}
    return seed




@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch):
    """Real argon2id hashes with test-sized cost parameters (the defaults take ~0.5 s per hash here)."""
    from argon2 import PasswordHasher

    import svidok.cases.users

    monkeypatch.setattr(svidok.cases.users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    svidok.cases.users._dummy_hash.cache_clear()


@pytest.fixture
def seeded(fresh_workspace) -> Seed:
    return seed_workspace(fresh_workspace)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def login(client, name: str, password: str = PASSWORD):
    """Log `client` in through the form; returns the response of the login POST."""
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


def csrf_of(client) -> str:
    return CSRF.search(client.get("/settings").text).group(1)


@pytest.fixture
def app(seeded):
    from svidok.review_ui.app import create_app

    app = create_app(seeded.ws)
    yield app
    app.state.audit_writer.close()
    app.state.db.close()


@pytest.fixture
def client_for(app):
    """A logged-in TestClient per user name (None = anonymous), created on demand."""
    from starlette.testclient import TestClient

    clients = []

    def make(name: str | None):
        client = TestClient(app, base_url="http://127.0.0.1:8765")
        clients.append(client)
        if name is not None:
            assert login(client, name).status_code == 303
            client.csrf = csrf_of(client)
        return client

    yield make
    for c in clients:
        c.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def server(app):
    """The app served on 127.0.0.1 (tests/conftest.py `serving`); yields its base URL."""
    from tests.conftest import serving

    with serving(app) as url:
        yield url


@pytest.fixture
def browser():
    """Debian Chromium driven by Playwright (skipped when /usr/bin/chromium is absent)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def browser_login(browser, base: str, name: str, requests: list[str] | None = None, **context):
    """A new browser context logged in as `name`; returns its page (requests made go to `requests`)."""
    page = browser.new_context(**context).new_page()
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()
    return page


def same_person_in_browser(page, observation: str = OBSERVATION) -> None:
    """On a sighting page: reveal every image (greyscale), fill the checklist and the observation,
    open the "same person" step with the `c` key and record it."""
    page.locator("h1").click()
    page.keyboard.press("g")
    for feature, assessment in CHECKLIST.items():
        page.check(f"input[name=cl_{feature}][value={assessment}]")
    page.fill("#observation", observation)
    page.locator("h1").click()
    if not page.locator("#confirm-step").evaluate("step => step.open"):
        page.keyboard.press("c")
    page.click("#confirm")
