"""Page-view audit entries committed off the event loop stay one valid, complete hash chain."""

import asyncio

from svidok.foundation.database import Database, DatabaseError, sqlite_url
from svidok.foundation.workspace import Workspace, connect
from svidok.review_ui.audit_writer import AuditWriter


def test_concurrent_views_are_group_committed_into_one_valid_chain(tmp_path):
    with Workspace.create(tmp_path / "ws") as ws:
        writer = AuditWriter(lambda: connect(ws.root, ws.settings))

        async def views():
            first = writer.append("rev0", "sighting.view", "sighting:0")
            ws.audit.append("cli", "user.add", "user:9")            # the workspace's own connection meanwhile
            rest = [writer.append(f"rev{i}", "sighting.view", f"sighting:{i}") for i in range(1, 20)]
            return await asyncio.gather(first, *rest)

        seqs = asyncio.run(views())
        writer.close()
        assert len(set(seqs)) == 20 and seqs == sorted(seqs)
        report = ws.audit.verify()
        assert report.ok and report.entries == 21
        logged = [e["object"] for e in ws.audit.entries(limit=50) if e["action"] == "sighting.view"]
        assert sorted(logged) == sorted(f"sighting:{i}" for i in range(20))


def test_every_waiting_view_gets_the_error_when_the_entry_cannot_be_written(tmp_path):
    writer = AuditWriter(lambda: Database(sqlite_url(tmp_path / "missing" / "svidok.db")))

    async def views():
        return await asyncio.gather(*(writer.append("rev1", "sighting.view", f"sighting:{i}") for i in range(3)),
                                    return_exceptions=True)

    errors = asyncio.run(views())
    assert all(isinstance(r, DatabaseError) and "cannot open the database" in str(r) for r in errors), errors
