"""The archive and the work at a glance: what `svidok status` and the admin status page show.

`archive_status(ws)`: media (total, analyzed, failed, pending for the current analyzers),
sightings per status, persons per step (missing → candidate → confirmed → reported → informed).
The task queue's part is `queue_status.py` (only where a broker is configured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace


def archive_status(ws: Workspace) -> dict[str, Any]:
    from svidok.cases.person_status import step_counts

    return {**media_counts(ws), "sightings": sighting_counts(ws), "persons": step_counts(ws)}


def media_counts(ws: Workspace) -> dict[str, int]:
    """media; analyzed (nothing left for the current analyzers); analysis_failed; analysis_pending."""
    try:
        from svidok.analyzers.registry import default_analyzers
        from svidok.pipeline.analyze import pending_media

        analyzers = default_analyzers()
    except ImportError:                     # analysis extras not installed: judge by the analysis table alone
        analyzers = []
    total = ws.conn.execute("SELECT COUNT(*) FROM media").fetchone()[0]
    if analyzers:
        current = " OR ".join("(analyzer = ? AND version = ?)" for _ in analyzers)
        args = [x for a in analyzers for x in (a.name, a.version)]
        failed = {r[0] for r in ws.conn.execute(
            f"SELECT DISTINCT media_sha256 FROM analysis WHERE status = 'failed' AND ({current})", args)}
        pending = {m.sha256 for a in analyzers for m in pending_media(ws, a)} - failed
    else:
        failed = {r[0] for r in ws.conn.execute("SELECT DISTINCT media_sha256 FROM analysis WHERE status = 'failed'")}
        pending = {r[0] for r in ws.conn.execute(
            "SELECT sha256 FROM media m WHERE NOT EXISTS (SELECT 1 FROM analysis a WHERE a.media_sha256 = m.sha256)")}
    return {"media": total, "analyzed": total - len(failed) - len(pending), "analysis_failed": len(failed),
            "analysis_pending": len(pending)}


def sighting_counts(ws: Workspace) -> dict[str, int]:
    from svidok.matching.sightings import STATUSES

    counts = dict.fromkeys(STATUSES, 0)
    for status, n in ws.conn.execute("SELECT status, COUNT(*) FROM sighting GROUP BY status"):
        counts[status] = n
    return counts
