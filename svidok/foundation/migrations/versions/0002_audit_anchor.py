"""The audit tip anchored with an RFC 3161 time-stamping authority (cases/audit_anchors.py).

One row per anchor: the audit entry `seq` whose `tip` hash a TSA timestamped at `gen_time` (the
TSA's own time, from the token), the TSA's URL, and the token (the DER TimeStampResp, exactly as
the TSA sent it). Append-only like the audit log: triggers refuse UPDATE and DELETE (TRUNCATE too
on PostgreSQL), the same way 0001 protects `audit`.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT = sa.Text()
BLOB = sa.LargeBinary()                                      # BLOB / bytea
INT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")   # as in 0001: INTEGER keeps SQLite's rowid ids

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END""",
    """CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION svidok_audit_anchor_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit anchors are append-only'; END $$""",
    """CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE OR DELETE ON audit_anchor
FOR EACH ROW EXECUTE FUNCTION svidok_audit_anchor_append_only()""",
    """CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
FOR EACH STATEMENT EXECUTE FUNCTION svidok_audit_anchor_append_only()""",
]


def upgrade() -> None:
    op.create_table('audit_anchor',
    sa.Column('id', INT, nullable=False),
    sa.Column('seq', INT, nullable=False),                   # the audit entry anchored (the tip then)
    sa.Column('tip', TEXT, nullable=False),                  # its hash
    sa.Column('tsa_url', TEXT, nullable=False),
    sa.Column('token', BLOB, nullable=False),                # DER TimeStampResp
    sa.Column('gen_time', TEXT, nullable=False),             # the TSA's time, ISO 8601 UTC
    sa.Column('created_at', TEXT, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq')
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('audit_anchor')                            # its triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION svidok_audit_anchor_append_only()")
