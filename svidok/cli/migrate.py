"""`svidok migrate-to URL`: copy the workspace's SQLite database into a shared PostgreSQL database."""

from __future__ import annotations

from typing import Any

import click

from svidok.cli.base import CommandContext, common_options, stderr


@click.command("migrate-to")
@click.argument("url")
@common_options
def migrate_to(cc: CommandContext, url: str) -> None:
    """Copy this workspace's SQLite database (svidok.db) into the empty PostgreSQL database at
    URL — every table, the audit log with its hash chain — in one transaction, then check that
    each table holds as many rows as the source and that the copied audit chain verifies and
    ends at the source's tip. The files stay in the workspace folder; afterwards set
    SVIDOK_DATABASE_URL=URL (or `database.url` in the workspace's svidok.toml) for everyone who
    uses the workspace. The source is left as it was. Exits 1 if the copy cannot be made or
    does not check.

    Example:

        svidok migrate-to postgresql://svidok@127.0.0.1:5432/svidok --json
    """
    from svidok.foundation.database import Database, DatabaseError, sqlite_url
    from svidok.foundation.database_copy import copy_database
    from svidok.foundation.schema import migrate
    from svidok.foundation.workspace import DB_NAME

    path = cc.workspace_path / DB_NAME
    if not path.is_file():
        raise click.ClickException(f"no SQLite database at {path} (nothing to copy)")
    source = Database(sqlite_url(path))
    try:
        destination = Database(url)
    except DatabaseError as exc:
        source.close()
        raise click.ClickException(str(exc)) from None
    try:
        migrate(source)
        report = copy_database(source, destination, lambda table, rows: stderr.print(f"{table}: {rows} rows")
                               if not cc.json else None)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        source.close()
        destination.close()
    cc.emit(report.as_dict(), _show)


def _show(data: dict[str, Any]) -> None:
    audit = data["audit"]
    stderr.print(f"copied {sum(data['rows'].values())} rows in {len(data['rows'])} tables to {data['destination']};"
                 f" audit chain verified: {audit['entries']} entries, tip {audit['tip'][:16]}…")
    stderr.print(f"now use it: export SVIDOK_DATABASE_URL='{data['destination']}'")


COMMANDS = [migrate_to]
