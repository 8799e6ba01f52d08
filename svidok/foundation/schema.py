"""The archive's database schema and its forward migrations.

Since Alembic (svidok/foundation/migrations/), the schema is its revisions, applied by
`migrate()` whenever a workspace is opened, on SQLite and PostgreSQL alike; the first revision
(0001) is the schema as legacy version 8 left it. Add a change as a new revision
(`alembic -c <config> revision`, see DEVELOPERS.md); never edit a released one.

Before Alembic the version lived in SQLite's `user_version` and each step was one of the frozen
SQL scripts below; they stay only to bring such older workspaces to version 8, which is then
stamped as revision 0001. The comments in these scripts are the columns' documentation.

Tables follow ../shared/DESIGN.md: the archive (item, item_version, media, item_media,
artifact), analysis (analysis, face, track, transcript_segment, text_index), matching
(person, consent, reference, sighting), review (decision, case, case_sighting, app_user,
login_session) and the hash-chained audit log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import sqlite_utils
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from svidok.foundation.database import Database, DatabaseError, describe

ARCHIVE = """
CREATE TABLE item (
    id INTEGER PRIMARY KEY,
    source_kind TEXT NOT NULL,            -- tdesktop, files, telegram, telegram-web, video
    source_id TEXT NOT NULL,              -- channel/message id, URL, or file path key
    channel TEXT,
    url TEXT,
    posted_at TEXT,                       -- ISO 8601 UTC
    collected_at TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    author TEXT,
    forwarded_from TEXT,
    views INTEGER,
    language TEXT,                        -- ru/uk when the source says so
    kind TEXT NOT NULL DEFAULT 'post',    -- post, service, file, page
    deleted_at TEXT,                      -- noticed deleted at the source (never applied)
    raw TEXT NOT NULL DEFAULT '{}',       -- the collector's raw record, JSON
    collector TEXT NOT NULL,
    collector_version TEXT NOT NULL,
    UNIQUE (source_kind, source_id)
);
CREATE TABLE item_version (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES item(id),
    seen_at TEXT NOT NULL,
    edited_at TEXT,
    text TEXT NOT NULL,
    raw TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL,           -- sha256 of text + raw, to notice real changes only
    event TEXT NOT NULL DEFAULT 'seen'    -- seen, edited, deleted
);
CREATE INDEX item_version_item ON item_version(item_id);
CREATE TABLE media (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    ext TEXT NOT NULL,
    original_name TEXT,
    first_seen TEXT NOT NULL,
    path TEXT NOT NULL                    -- relative to the workspace
);
CREATE TABLE item_media (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES item(id),
    position INTEGER NOT NULL DEFAULT 0,
    media_sha256 TEXT REFERENCES media(sha256),
    status TEXT NOT NULL,                 -- stored, missing, not-in-preview
    role TEXT NOT NULL DEFAULT 'attachment', -- photo, video, round_video, voice, file, ...
    source_ref TEXT,                      -- relative path or URL the bytes came from
    note TEXT,
    UNIQUE (item_id, position)
);
CREATE INDEX item_media_media ON item_media(media_sha256);
CREATE TABLE artifact (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                   -- frame, crop, screenshot, html, audio, subtitles
    source_sha256 TEXT NOT NULL,          -- the media or artifact it was derived from
    time_s REAL,
    mime TEXT NOT NULL,
    path TEXT NOT NULL,
    producer TEXT NOT NULL,               -- analyzer/collector name and version
    created_at TEXT NOT NULL
);
CREATE INDEX artifact_source ON artifact(source_sha256);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE source_state (
    source_key TEXT PRIMARY KEY,          -- e.g. telegram:channelname
    checkpoint TEXT,                      -- collector-defined resume point (JSON)
    last_run_at TEXT,
    last_status TEXT,
    items_total INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]'
);
"""

ANALYSIS = """
CREATE TABLE analysis (
    id INTEGER PRIMARY KEY,
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),
    analyzer TEXT NOT NULL,
    version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,                 -- done, failed
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (media_sha256, analyzer, version)
);
CREATE TABLE track (
    id INTEGER PRIMARY KEY,
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),
    start_s REAL,
    end_s REAL,
    n_faces INTEGER NOT NULL,
    embedding BLOB NOT NULL,              -- representative float32[128]
    best_face_ids TEXT NOT NULL DEFAULT '[]',
    analyzer TEXT NOT NULL,
    analyzer_version TEXT NOT NULL
);
CREATE INDEX track_media ON track(media_sha256);
CREATE TABLE face (
    id INTEGER PRIMARY KEY,
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),
    time_s REAL,                          -- null for photos
    box TEXT NOT NULL,                    -- [top, right, bottom, left] in original pixels
    quality TEXT NOT NULL DEFAULT '{}',   -- size, sharpness, frontalness, score
    embedding BLOB NOT NULL,              -- float32[128]
    crop_sha256 TEXT REFERENCES artifact(sha256),
    frame_sha256 TEXT REFERENCES artifact(sha256),
    track_id INTEGER REFERENCES track(id),
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX face_media ON face(media_sha256);
CREATE INDEX face_track ON face(track_id);
CREATE TABLE transcript_segment (
    id INTEGER PRIMARY KEY,
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL,
    words TEXT NOT NULL DEFAULT '[]',     -- [{start, end, word, probability}]
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX transcript_media ON transcript_segment(media_sha256);
"""

MATCHING = """
CREATE TABLE person (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_variants TEXT NOT NULL DEFAULT '[]',
    born TEXT,
    category TEXT,                        -- serviceman, civilian, child
    unit TEXT,
    disappeared_on TEXT,
    disappeared_at TEXT,
    register_number TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE consent (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    given_by TEXT NOT NULL,
    relation TEXT NOT NULL,
    given_on TEXT NOT NULL,
    scopes TEXT NOT NULL,                 -- JSON list: identification, court, share-icrc, ...
    document_ref TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE reference (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    consent_id INTEGER NOT NULL REFERENCES consent(id),
    photo_sha256 TEXT NOT NULL,           -- stored under references/, not in media/
    photo_path TEXT NOT NULL,
    photo_date TEXT,
    box TEXT NOT NULL,
    quality TEXT NOT NULL DEFAULT '{}',
    embedding BLOB NOT NULL,
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX reference_person ON reference(person_id);
CREATE TABLE sighting (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),
    item_id INTEGER REFERENCES item(id),
    track_id INTEGER REFERENCES track(id),
    span_start_s REAL,
    span_end_s REAL,
    key TEXT NOT NULL UNIQUE,             -- person x media x track/span: no duplicates
    score REAL NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    reference_ids TEXT NOT NULL DEFAULT '[]',
    model_versions TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending', -- pending, confirmed, rejected, withdrawn, conflict
    evidence_note TEXT,                   -- e.g. "reference consent revoked on ..."
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sighting_status_score ON sighting(status, score DESC);
CREATE INDEX sighting_person ON sighting(person_id);
"""

REVIEW = """
CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE login_session (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE decision (
    id INTEGER PRIMARY KEY,
    sighting_id INTEGER NOT NULL REFERENCES sighting(id),
    reviewer_id INTEGER NOT NULL REFERENCES app_user(id),
    verdict TEXT NOT NULL,                -- confirm, reject, unsure
    checklist TEXT NOT NULL DEFAULT '{}',
    observation TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX decision_sighting ON decision(sighting_id);
CREATE TABLE "case" (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL UNIQUE REFERENCES person(id),
    officer_id INTEGER REFERENCES app_user(id),
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE case_sighting (
    case_id INTEGER NOT NULL REFERENCES "case"(id),
    sighting_id INTEGER NOT NULL REFERENCES sighting(id),
    attached_by INTEGER REFERENCES app_user(id),
    attached_at TEXT NOT NULL,
    PRIMARY KEY (case_id, sighting_id)
);
"""


TEXT_INDEX = """
CREATE VIRTUAL TABLE text_index USING fts5(
    stems,                                -- normalised word stems (analyzers/text_index.py)
    text UNINDEXED, kind UNINDEXED, item_id UNINDEXED, media_sha256 UNINDEXED, start_s UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);
-- rowid = item.id * 2 for posts, transcript_segment.id * 2 + 1 for transcript segments
CREATE TABLE text_index_pending (key INTEGER PRIMARY KEY);
CREATE TRIGGER text_index_item_insert AFTER INSERT ON item
BEGIN INSERT OR IGNORE INTO text_index_pending (key) VALUES (new.id * 2); END;
CREATE TRIGGER text_index_item_update AFTER UPDATE OF text ON item
BEGIN INSERT OR IGNORE INTO text_index_pending (key) VALUES (new.id * 2); END;
CREATE TRIGGER text_index_item_delete AFTER DELETE ON item
BEGIN DELETE FROM text_index WHERE rowid = old.id * 2; END;
CREATE TRIGGER text_index_segment_insert AFTER INSERT ON transcript_segment
BEGIN INSERT OR IGNORE INTO text_index_pending (key) VALUES (new.id * 2 + 1); END;
CREATE TRIGGER text_index_segment_update AFTER UPDATE OF text ON transcript_segment
BEGIN INSERT OR IGNORE INTO text_index_pending (key) VALUES (new.id * 2 + 1); END;
CREATE TRIGGER text_index_segment_delete AFTER DELETE ON transcript_segment
BEGIN DELETE FROM text_index WHERE rowid = old.id * 2 + 1; DELETE FROM text_index_pending WHERE key = old.id * 2 + 1; END;
INSERT OR IGNORE INTO text_index_pending (key) SELECT id * 2 FROM item;
INSERT OR IGNORE INTO text_index_pending (key) SELECT id * 2 + 1 FROM transcript_segment;
"""


def _script(sql: str) -> Callable[[sqlite_utils.Database], None]:
    def apply(db: sqlite_utils.Database) -> None:
        for statement in _statements(sql):
            db.execute(statement)

    return apply


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies stay whole)."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    return [s for s in statements if s.strip()]


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _script(ARCHIVE),
    _script(ANALYSIS),
    _script(MATCHING),
    _script(REVIEW),
    _script(TEXT_INDEX),                  # full-text search over posts and transcripts
    # a person's status after confirmation (svidok.cases.person_status, liaison, places): reports
    # to the ICRC/Coordination HQ/ombudsman, the family-liaison log, the confirmed place of detention
    _script("""
CREATE TABLE person_report (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    recipient TEXT NOT NULL,              -- icrc, coordination-hq, ombudsman
    reported_on TEXT NOT NULL,            -- YYYY-MM-DD
    reference TEXT NOT NULL DEFAULT '',   -- the recipient's reference number
    sighting_ids TEXT NOT NULL DEFAULT '[]',
    by_whom TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL, audit_seq INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX person_report_person ON person_report(person_id);
CREATE TABLE family_contact (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    kind TEXT NOT NULL,                   -- contact, consent, informed
    contacted_on TEXT NOT NULL,           -- YYYY-MM-DD
    by_whom TEXT NOT NULL,                -- who spoke for the organisation
    family_member TEXT NOT NULL,
    relation TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,                -- in-person, phone, video-call, messenger, letter, email
    summary TEXT NOT NULL DEFAULT '',     -- what was said; officers and admins only
    follow_up_on TEXT,
    actor TEXT NOT NULL, audit_seq INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX family_contact_person ON family_contact(person_id, kind);
CREATE TABLE person_place (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES person(id),
    site_key TEXT,                        -- configs/detention_sites.toml, or NULL for a place not listed
    place TEXT NOT NULL,
    seen_on TEXT NOT NULL,                -- YYYY-MM-DD the person was known to be there
    sighting_ids TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL, audit_seq INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX person_place_person ON person_place(person_id);
"""),
    # deliberate, amendable review decisions (cases/decisions.py, cases/review_rules.py): the reviewer's
    # attestation that the images were revealed, the last amendment, why a sighting went to an admin
    _script("""
ALTER TABLE decision ADD COLUMN revealed INTEGER NOT NULL DEFAULT 0;  -- UI attestation: images un-blurred
ALTER TABLE decision ADD COLUMN amended_at TEXT;                      -- previous values: audit decision.amend
ALTER TABLE sighting ADD COLUMN conflict_reason TEXT;                 -- disagreement, no-result
CREATE INDEX decision_reviewer ON decision(reviewer_id, sighting_id);
"""),
    # one footage, many posts (analyzers/near_duplicates.py, matching/footage.py, matching/upsert.py):
    # perceptual hashes, near-duplicate groups, a sighting's other media, reposted family photos
    _script("""
CREATE TABLE media_phash (
    media_sha256 TEXT PRIMARY KEY REFERENCES media(sha256),
    kind TEXT NOT NULL,                   -- image, video
    hashes BLOB NOT NULL,                 -- uint64 little-endian (analyzers/perceptual.py Fingerprint)
    times BLOB,                           -- float32 seconds of each video window
    frames INTEGER NOT NULL,
    analyzer TEXT NOT NULL,
    analyzer_version TEXT NOT NULL
);
CREATE TABLE footage_member (
    media_sha256 TEXT PRIMARY KEY REFERENCES media(sha256),
    footage_id INTEGER NOT NULL,          -- near-duplicate media share it
    linked_at TEXT NOT NULL
);
CREATE INDEX footage_member_group ON footage_member(footage_id);
CREATE TABLE footage_link (
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),   -- linked when it was grouped
    other_sha256 TEXT NOT NULL REFERENCES media(sha256),   -- a near-duplicate grouped before it
    method TEXT NOT NULL,                 -- image, video
    distance REAL NOT NULL,               -- Hamming bits of 64 (video: median of the matched windows)
    offset_s REAL,                        -- video: time in other = time in media + offset_s
    start_s REAL,                         -- video: the matched stretch, in media's time
    end_s REAL,
    frames INTEGER,                       -- video: windows matched
    linker TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    rejected_at TEXT,                     -- a reviewer said: not the same footage (the link is not followed)
    rejected_by TEXT,
    PRIMARY KEY (media_sha256, other_sha256)
);
CREATE INDEX footage_link_other ON footage_link(other_sha256);
CREATE TABLE sighting_media (
    sighting_id INTEGER NOT NULL REFERENCES sighting(id),
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),   -- the same footage, posted elsewhere
    via_sha256 TEXT NOT NULL,             -- the media it was linked through
    track_id INTEGER,                     -- no foreign key: re-analysis replaces tracks
    span_start_s REAL,
    span_end_s REAL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    reference_ids TEXT NOT NULL DEFAULT '[]',
    attached_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sighting_id, media_sha256)
);
CREATE INDEX sighting_media_media ON sighting_media(media_sha256);
ALTER TABLE reference ADD COLUMN phash BLOB;   -- the photo's fingerprint and its mirror's (empty: flat photo)
CREATE TABLE reference_repost (
    reference_id INTEGER NOT NULL REFERENCES reference(id) ON DELETE CASCADE,
    media_sha256 TEXT NOT NULL REFERENCES media(sha256),   -- an archived photo that is that reference photo
    distance INTEGER NOT NULL,
    mirrored INTEGER NOT NULL DEFAULT 0,
    found_at TEXT NOT NULL,
    PRIMARY KEY (reference_id, media_sha256)
);
CREATE INDEX reference_repost_media ON reference_repost(media_sha256);
"""),
]


LEGACY_VERSION = len(MIGRATIONS)   # 8: the last schema version kept in SQLite's user_version
ALEMBIC_ERA = LEGACY_VERSION + 1   # user_version of a SQLite database that Alembic manages (an older Svidok refuses it)
BASELINE = "0001"                  # the Alembic revision equal to legacy version 8
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def schema_version(db: sqlite_utils.Database | sqlite3.Connection) -> int:
    """A pre-Alembic SQLite database's legacy version (PRAGMA user_version)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate_legacy(db: sqlite_utils.Database | sqlite3.Connection, target: int = LEGACY_VERSION) -> int:
    """Bring a pre-Alembic SQLite database to legacy `target` (8); returns the version reached.

    Runs inside the caller's transaction when one is open, else one transaction per step."""
    version = schema_version(db)
    if version > LEGACY_VERSION:
        raise RuntimeError(
            f"workspace schema version {version} is newer than this Svidok ({LEGACY_VERSION}); upgrade Svidok"
        )
    conn = db.conn if isinstance(db, sqlite_utils.Database) else db
    for number, migration in enumerate(MIGRATIONS[version:target], start=version + 1):
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN IMMEDIATE")
        migration(db)
        conn.execute(f"PRAGMA user_version = {number}")
        if own:
            conn.execute("COMMIT")
    return max(version, target)


def migrate(db: Database) -> str:
    """Bring the database to the newest schema (Alembic's head); returns that revision.

    Safe with several processes at once: the upgrade runs in one write transaction, and the
    version is read again once the write turn is ours."""
    head = _head_revision()
    if _current_revision(db) == head:
        return head
    with db.transaction():
        current = _current_revision(db)
        if current == head:
            return head
        if current is not None and current not in _known_revisions():
            raise DatabaseError(f"{describe(db.url)}: schema revision {current} is newer than this Svidok;"
                                " upgrade Svidok")
        config = _alembic_config(db)
        if current is None and db.backend == "sqlite":
            legacy = db.execute("PRAGMA user_version").scalar_one()
            if legacy > LEGACY_VERSION:
                raise DatabaseError(f"{describe(db.url)}: schema version {legacy} is newer than this Svidok;"
                                    " upgrade Svidok")
            if legacy:
                migrate_legacy(db.sqlalchemy_connection.connection.driver_connection)
                command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        if db.backend == "sqlite":
            db.execute(f"PRAGMA user_version = {ALEMBIC_ERA}")
    return head


def _current_revision(db: Database) -> str | None:
    if db.backend == "sqlite":
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").first()
    else:
        exists = db.execute("SELECT to_regclass('alembic_version')").scalar_one()
    if not exists:
        return None
    return db.execute("SELECT version_num FROM alembic_version").scalar()


def _alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = db.sqlalchemy_connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def _head_revision() -> str:
    return _scripts().get_current_head() or BASELINE


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}
