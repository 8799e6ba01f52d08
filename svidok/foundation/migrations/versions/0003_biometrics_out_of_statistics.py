"""Face embeddings and photo fingerprints stay out of PostgreSQL's planner statistics.

ANALYZE (run by autovacuum on its own) copies sample values of each column into the catalog
`pg_statistic`; for a column of 512-byte embeddings that would be copies of reference
embeddings, which no revocation deletes. A statistics target of 0 makes ANALYZE skip the
column (nothing is ever planned on these columns). SQLite keeps statistics only of index keys
(none of these is indexed): nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIOMETRIC_COLUMNS = [("reference", "embedding"), ("reference", "phash"), ("face", "embedding"),
                     ("track", "embedding")]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in BIOMETRIC_COLUMNS:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS 0')
    op.execute("ANALYZE reference")          # samples taken before this revision are replaced without them


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in BIOMETRIC_COLUMNS:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS -1')
