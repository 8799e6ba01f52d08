"""Baseline: the archive as schema version 8 left it, on SQLite or PostgreSQL.

Workspaces made before Alembic (SQLite `user_version` 1-8) are brought to version 8 by the
frozen scripts in svidok/foundation/schema.py and then stamped with this revision; new
databases are created by it. What each table holds: svidok/foundation/schema.py and
../shared/DESIGN.md. Differences between the engines are only in the last part: full-text
search (FTS5 / tsvector) and the triggers (append-only audit log, text-index bookkeeping).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT = sa.Text()
REAL = sa.Double()                                       # 8-byte floats on both (PostgreSQL's REAL is 4)
BLOB = sa.LargeBinary()                                  # BLOB / bytea
INT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")   # 64-bit on both; INTEGER keeps SQLite's rowid ids


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_extras()
    else:
        _postgresql_extras()


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone; restore a backup instead")


def _tables() -> None:
    op.create_table('app_user',
    sa.Column('id', INT, nullable=False),
    sa.Column('name', TEXT, nullable=False),
    sa.Column('role', TEXT, nullable=False),
    sa.Column('password_hash', TEXT, nullable=False),
    sa.Column('settings', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('failed_logins', INT, server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', TEXT, nullable=True),
    sa.Column('created_at', TEXT, nullable=False),
    sa.Column('disabled', INT, server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('artifact',
    sa.Column('sha256', TEXT, nullable=False),
    sa.Column('kind', TEXT, nullable=False),
    sa.Column('source_sha256', TEXT, nullable=False),
    sa.Column('time_s', REAL, nullable=True),
    sa.Column('mime', TEXT, nullable=False),
    sa.Column('path', TEXT, nullable=False),
    sa.Column('producer', TEXT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_index('artifact_source', 'artifact', ['source_sha256'], unique=False)
    op.create_table('audit',
    sa.Column('seq', INT, nullable=False),
    sa.Column('at', TEXT, nullable=False),
    sa.Column('actor', TEXT, nullable=False),
    sa.Column('action', TEXT, nullable=False),
    sa.Column('object', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('details', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('prev_hash', TEXT, nullable=False),
    sa.Column('hash', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('item',
    sa.Column('id', INT, nullable=False),
    sa.Column('source_kind', TEXT, nullable=False),
    sa.Column('source_id', TEXT, nullable=False),
    sa.Column('channel', TEXT, nullable=True),
    sa.Column('url', TEXT, nullable=True),
    sa.Column('posted_at', TEXT, nullable=True),
    sa.Column('collected_at', TEXT, nullable=False),
    sa.Column('text', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('author', TEXT, nullable=True),
    sa.Column('forwarded_from', TEXT, nullable=True),
    sa.Column('views', INT, nullable=True),
    sa.Column('language', TEXT, nullable=True),
    sa.Column('kind', TEXT, server_default=sa.text("'post'"), nullable=False),
    sa.Column('deleted_at', TEXT, nullable=True),
    sa.Column('raw', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('collector', TEXT, nullable=False),
    sa.Column('collector_version', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_kind', 'source_id')
    )
    op.create_table('media',
    sa.Column('sha256', TEXT, nullable=False),
    sa.Column('size', INT, nullable=False),
    sa.Column('mime', TEXT, nullable=False),
    sa.Column('ext', TEXT, nullable=False),
    sa.Column('original_name', TEXT, nullable=True),
    sa.Column('first_seen', TEXT, nullable=False),
    sa.Column('path', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('person',
    sa.Column('id', INT, nullable=False),
    sa.Column('name', TEXT, nullable=False),
    sa.Column('name_variants', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('born', TEXT, nullable=True),
    sa.Column('category', TEXT, nullable=True),
    sa.Column('unit', TEXT, nullable=True),
    sa.Column('disappeared_on', TEXT, nullable=True),
    sa.Column('disappeared_at', TEXT, nullable=True),
    sa.Column('register_number', TEXT, nullable=True),
    sa.Column('notes', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('source_state',
    sa.Column('source_key', TEXT, nullable=False),
    sa.Column('checkpoint', TEXT, nullable=True),
    sa.Column('last_run_at', TEXT, nullable=True),
    sa.Column('last_status', TEXT, nullable=True),
    sa.Column('items_total', INT, server_default=sa.text('0'), nullable=False),
    sa.Column('errors', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.PrimaryKeyConstraint('source_key')
    )
    op.create_table('text_index_pending',
    sa.Column('key', INT, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('analysis',
    sa.Column('id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('analyzer', TEXT, nullable=False),
    sa.Column('version', TEXT, nullable=False),
    sa.Column('params', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', TEXT, nullable=False),
    sa.Column('error', TEXT, nullable=True),
    sa.Column('started_at', TEXT, nullable=False),
    sa.Column('finished_at', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('media_sha256', 'analyzer', 'version')
    )
    op.create_table('case',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('officer_id', INT, nullable=True),
    sa.Column('notes', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id')
    )
    op.create_table('consent',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('given_by', TEXT, nullable=False),
    sa.Column('relation', TEXT, nullable=False),
    sa.Column('given_on', TEXT, nullable=False),
    sa.Column('scopes', TEXT, nullable=False),
    sa.Column('document_ref', TEXT, nullable=True),
    sa.Column('created_at', TEXT, nullable=False),
    sa.Column('revoked_at', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('family_contact',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('kind', TEXT, nullable=False),
    sa.Column('contacted_on', TEXT, nullable=False),
    sa.Column('by_whom', TEXT, nullable=False),
    sa.Column('family_member', TEXT, nullable=False),
    sa.Column('relation', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('channel', TEXT, nullable=False),
    sa.Column('summary', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('follow_up_on', TEXT, nullable=True),
    sa.Column('actor', TEXT, nullable=False),
    sa.Column('audit_seq', INT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('family_contact_person', 'family_contact', ['person_id', 'kind'], unique=False)
    op.create_table('footage_link',
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('other_sha256', TEXT, nullable=False),
    sa.Column('method', TEXT, nullable=False),
    sa.Column('distance', REAL, nullable=False),
    sa.Column('offset_s', REAL, nullable=True),
    sa.Column('start_s', REAL, nullable=True),
    sa.Column('end_s', REAL, nullable=True),
    sa.Column('frames', INT, nullable=True),
    sa.Column('linker', TEXT, nullable=False),
    sa.Column('linked_at', TEXT, nullable=False),
    sa.Column('rejected_at', TEXT, nullable=True),
    sa.Column('rejected_by', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.ForeignKeyConstraint(['other_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('media_sha256', 'other_sha256')
    )
    op.create_index('footage_link_other', 'footage_link', ['other_sha256'], unique=False)
    op.create_table('footage_member',
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('footage_id', INT, nullable=False),
    sa.Column('linked_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('media_sha256')
    )
    op.create_index('footage_member_group', 'footage_member', ['footage_id'], unique=False)
    op.create_table('item_media',
    sa.Column('id', INT, nullable=False),
    sa.Column('item_id', INT, nullable=False),
    sa.Column('position', INT, server_default=sa.text('0'), nullable=False),
    sa.Column('media_sha256', TEXT, nullable=True),
    sa.Column('status', TEXT, nullable=False),
    sa.Column('role', TEXT, server_default=sa.text("'attachment'"), nullable=False),
    sa.Column('source_ref', TEXT, nullable=True),
    sa.Column('note', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'position')
    )
    op.create_index('item_media_media', 'item_media', ['media_sha256'], unique=False)
    op.create_table('item_version',
    sa.Column('id', INT, nullable=False),
    sa.Column('item_id', INT, nullable=False),
    sa.Column('seen_at', TEXT, nullable=False),
    sa.Column('edited_at', TEXT, nullable=True),
    sa.Column('text', TEXT, nullable=False),
    sa.Column('raw', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('content_hash', TEXT, nullable=False),
    sa.Column('event', TEXT, server_default=sa.text("'seen'"), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('item_version_item', 'item_version', ['item_id'], unique=False)
    op.create_table('login_session',
    sa.Column('token_hash', TEXT, nullable=False),
    sa.Column('user_id', INT, nullable=False),
    sa.Column('csrf_token', TEXT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.Column('expires_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('media_phash',
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('kind', TEXT, nullable=False),
    sa.Column('hashes', BLOB, nullable=False),
    sa.Column('times', BLOB, nullable=True),
    sa.Column('frames', INT, nullable=False),
    sa.Column('analyzer', TEXT, nullable=False),
    sa.Column('analyzer_version', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('media_sha256')
    )
    op.create_table('person_place',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('site_key', TEXT, nullable=True),
    sa.Column('place', TEXT, nullable=False),
    sa.Column('seen_on', TEXT, nullable=False),
    sa.Column('sighting_ids', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('note', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('actor', TEXT, nullable=False),
    sa.Column('audit_seq', INT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('person_place_person', 'person_place', ['person_id'], unique=False)
    op.create_table('person_report',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('recipient', TEXT, nullable=False),
    sa.Column('reported_on', TEXT, nullable=False),
    sa.Column('reference', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('sighting_ids', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('by_whom', TEXT, nullable=False),
    sa.Column('note', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('actor', TEXT, nullable=False),
    sa.Column('audit_seq', INT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('person_report_person', 'person_report', ['person_id'], unique=False)
    op.create_table('track',
    sa.Column('id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('start_s', REAL, nullable=True),
    sa.Column('end_s', REAL, nullable=True),
    sa.Column('n_faces', INT, nullable=False),
    sa.Column('embedding', BLOB, nullable=False),
    sa.Column('best_face_ids', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('analyzer', TEXT, nullable=False),
    sa.Column('analyzer_version', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('track_media', 'track', ['media_sha256'], unique=False)
    op.create_table('transcript_segment',
    sa.Column('id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('start_s', REAL, nullable=False),
    sa.Column('end_s', REAL, nullable=False),
    sa.Column('text', TEXT, nullable=False),
    sa.Column('language', TEXT, nullable=False),
    sa.Column('words', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('model', TEXT, nullable=False),
    sa.Column('model_version', TEXT, nullable=False),
    sa.Column('params', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('transcript_media', 'transcript_segment', ['media_sha256'], unique=False)
    op.create_table('face',
    sa.Column('id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('time_s', REAL, nullable=True),
    sa.Column('box', TEXT, nullable=False),
    sa.Column('quality', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('embedding', BLOB, nullable=False),
    sa.Column('crop_sha256', TEXT, nullable=True),
    sa.Column('frame_sha256', TEXT, nullable=True),
    sa.Column('track_id', INT, nullable=True),
    sa.Column('model', TEXT, nullable=False),
    sa.Column('model_version', TEXT, nullable=False),
    sa.Column('params', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.ForeignKeyConstraint(['crop_sha256'], ['artifact.sha256'], ),
    sa.ForeignKeyConstraint(['frame_sha256'], ['artifact.sha256'], ),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('face_media', 'face', ['media_sha256'], unique=False)
    op.create_index('face_track', 'face', ['track_id'], unique=False)
    op.create_table('reference',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('consent_id', INT, nullable=False),
    sa.Column('photo_sha256', TEXT, nullable=False),
    sa.Column('photo_path', TEXT, nullable=False),
    sa.Column('photo_date', TEXT, nullable=True),
    sa.Column('box', TEXT, nullable=False),
    sa.Column('quality', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('embedding', BLOB, nullable=False),
    sa.Column('model', TEXT, nullable=False),
    sa.Column('model_version', TEXT, nullable=False),
    sa.Column('created_at', TEXT, nullable=False),
    sa.Column('phash', BLOB, nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('reference_person', 'reference', ['person_id'], unique=False)
    op.create_table('sighting',
    sa.Column('id', INT, nullable=False),
    sa.Column('person_id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('item_id', INT, nullable=True),
    sa.Column('track_id', INT, nullable=True),
    sa.Column('span_start_s', REAL, nullable=True),
    sa.Column('span_end_s', REAL, nullable=True),
    sa.Column('key', TEXT, nullable=False),
    sa.Column('score', REAL, nullable=False),
    sa.Column('reasons', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('reference_ids', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('model_versions', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', TEXT, server_default=sa.text("'pending'"), nullable=False),
    sa.Column('evidence_note', TEXT, nullable=True),
    sa.Column('created_at', TEXT, nullable=False),
    sa.Column('updated_at', TEXT, nullable=False),
    sa.Column('conflict_reason', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index('sighting_person', 'sighting', ['person_id'], unique=False)
    op.create_index('sighting_status_score', 'sighting', ['status', sa.text('score DESC')], unique=False)
    op.create_table('case_sighting',
    sa.Column('case_id', INT, nullable=False),
    sa.Column('sighting_id', INT, nullable=False),
    sa.Column('attached_by', INT, nullable=True),
    sa.Column('attached_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['attached_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['sighting_id'], ['sighting.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'sighting_id')
    )
    op.create_table('decision',
    sa.Column('id', INT, nullable=False),
    sa.Column('sighting_id', INT, nullable=False),
    sa.Column('reviewer_id', INT, nullable=False),
    sa.Column('verdict', TEXT, nullable=False),
    sa.Column('checklist', TEXT, server_default=sa.text("'{}'"), nullable=False),
    sa.Column('observation', TEXT, server_default=sa.text("''"), nullable=False),
    sa.Column('at', TEXT, nullable=False),
    sa.Column('revealed', INT, server_default=sa.text('0'), nullable=False),
    sa.Column('amended_at', TEXT, nullable=True),
    sa.ForeignKeyConstraint(['reviewer_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['sighting_id'], ['sighting.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('decision_reviewer', 'decision', ['reviewer_id', 'sighting_id'], unique=False)
    op.create_index('decision_sighting', 'decision', ['sighting_id'], unique=False)
    op.create_table('reference_repost',
    sa.Column('reference_id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('distance', INT, nullable=False),
    sa.Column('mirrored', INT, server_default=sa.text('0'), nullable=False),
    sa.Column('found_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.ForeignKeyConstraint(['reference_id'], ['reference.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reference_id', 'media_sha256')
    )
    op.create_index('reference_repost_media', 'reference_repost', ['media_sha256'], unique=False)
    op.create_table('sighting_media',
    sa.Column('sighting_id', INT, nullable=False),
    sa.Column('media_sha256', TEXT, nullable=False),
    sa.Column('via_sha256', TEXT, nullable=False),
    sa.Column('track_id', INT, nullable=True),
    sa.Column('span_start_s', REAL, nullable=True),
    sa.Column('span_end_s', REAL, nullable=True),
    sa.Column('score', REAL, nullable=False),
    sa.Column('reasons', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('reference_ids', TEXT, server_default=sa.text("'[]'"), nullable=False),
    sa.Column('attached_at', TEXT, nullable=False),
    sa.Column('updated_at', TEXT, nullable=False),
    sa.ForeignKeyConstraint(['media_sha256'], ['media.sha256'], ),
    sa.ForeignKeyConstraint(['sighting_id'], ['sighting.id'], ),
    sa.PrimaryKeyConstraint('sighting_id', 'media_sha256')
    )
    op.create_index('sighting_media_media', 'sighting_media', ['media_sha256'], unique=False)

SQLITE_EXTRAS = [
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    # rowid = item.id * 2 for posts, transcript_segment.id * 2 + 1 for transcript segments
    """CREATE VIRTUAL TABLE text_index USING fts5(
    stems,
    text UNINDEXED, kind UNINDEXED, item_id UNINDEXED, media_sha256 UNINDEXED, start_s UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
)""",
    """CREATE TRIGGER text_index_item_insert AFTER INSERT ON item
BEGIN INSERT INTO text_index_pending (key) VALUES (new.id * 2) ON CONFLICT DO NOTHING; END""",
    """CREATE TRIGGER text_index_item_update AFTER UPDATE OF text ON item
BEGIN INSERT INTO text_index_pending (key) VALUES (new.id * 2) ON CONFLICT DO NOTHING; END""",
    """CREATE TRIGGER text_index_item_delete AFTER DELETE ON item
BEGIN DELETE FROM text_index WHERE rowid = old.id * 2; END""",
    """CREATE TRIGGER text_index_segment_insert AFTER INSERT ON transcript_segment
BEGIN INSERT INTO text_index_pending (key) VALUES (new.id * 2 + 1) ON CONFLICT DO NOTHING; END""",
    """CREATE TRIGGER text_index_segment_update AFTER UPDATE OF text ON transcript_segment
BEGIN INSERT INTO text_index_pending (key) VALUES (new.id * 2 + 1) ON CONFLICT DO NOTHING; END""",
    """CREATE TRIGGER text_index_segment_delete AFTER DELETE ON transcript_segment
BEGIN DELETE FROM text_index WHERE rowid = old.id * 2 + 1; DELETE FROM text_index_pending WHERE key = old.id * 2 + 1; END""",
]

# PostgreSQL: the audit table refuses UPDATE, DELETE and TRUNCATE for every role but a superuser
# who drops the triggers (which `svidok verify`/`audit verify` then notice in the chain); the text
# index is a table with a generated tsvector over the same stems FTS5 indexes on SQLite (stems
# come from svidok/foundation/text.py, Russian and Ukrainian alike, so both engines find the same).
POSTGRESQL_EXTRAS = [
    """CREATE FUNCTION svidok_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$""",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION svidok_audit_append_only()""",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION svidok_audit_append_only()""",
    """CREATE TABLE text_index (
    key BIGINT PRIMARY KEY,
    stems TEXT NOT NULL,
    text TEXT, kind TEXT, item_id BIGINT, media_sha256 TEXT, start_s DOUBLE PRECISION,
    document tsvector GENERATED ALWAYS AS (to_tsvector('simple', stems)) STORED
)""",
    "CREATE INDEX text_index_document ON text_index USING GIN (document)",
    """CREATE FUNCTION svidok_text_index_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM text_index WHERE key = OLD.id * 2 + TG_ARGV[0]::int;
        DELETE FROM text_index_pending WHERE key = OLD.id * 2 + TG_ARGV[0]::int;
        RETURN OLD;
    END IF;
    INSERT INTO text_index_pending (key) VALUES (NEW.id * 2 + TG_ARGV[0]::int) ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$""",
    """CREATE TRIGGER text_index_item AFTER INSERT OR UPDATE OF text OR DELETE ON item
FOR EACH ROW EXECUTE FUNCTION svidok_text_index_pending(0)""",
    """CREATE TRIGGER text_index_segment AFTER INSERT OR UPDATE OF text OR DELETE ON transcript_segment
FOR EACH ROW EXECUTE FUNCTION svidok_text_index_pending(1)""",
]


def _sqlite_extras() -> None:
    for statement in SQLITE_EXTRAS:
        op.execute(statement)


def _postgresql_extras() -> None:
    for statement in POSTGRESQL_EXTRAS:
        op.execute(statement)
