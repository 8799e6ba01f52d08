"""What a drained archive must look like: every file analyzed by every analyzer that wants it,
once, and nothing derived twice."""

from __future__ import annotations

from pathlib import Path

from svidok.foundation.workspace import Workspace


def expected_analyses(ws: Workspace) -> set[tuple[str, str]]:
    from svidok.analyzers.registry import default_analyzers
    from svidok.pipeline.analyze import media_file

    shas = [r[0] for r in ws.conn.execute("SELECT sha256 FROM media")]
    return {(sha, a.name) for a in default_analyzers() for sha in shas if a.wants(media_file(ws, sha))}


def analyses(ws: Workspace) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in ws.conn.execute("SELECT media_sha256, analyzer, status FROM analysis")]


def duplicates(ws: Workspace) -> dict[str, list]:
    """Rows derived twice: faces (media, time, box), transcript segments, sightings (person x media x key)."""
    return {
        "faces": ws.conn.execute("SELECT media_sha256, time_s, box, COUNT(*) FROM face"
                                 " GROUP BY media_sha256, time_s, box HAVING COUNT(*) > 1").fetchall(),
        "transcripts": ws.conn.execute("SELECT media_sha256, start_s, text, COUNT(*) FROM transcript_segment"
                                       " GROUP BY media_sha256, start_s, text HAVING COUNT(*) > 1").fetchall(),
        "tracks": ws.conn.execute("SELECT media_sha256, start_s, end_s, COUNT(*) FROM track"
                                  " GROUP BY media_sha256, start_s, end_s HAVING COUNT(*) > 1").fetchall(),
        "sightings": ws.conn.execute("SELECT person_id, media_sha256, key, COUNT(*) FROM sighting"
                                     " GROUP BY person_id, media_sha256, key HAVING COUNT(*) > 1").fetchall(),
    }


def drained(workspace: Path) -> bool:
    with Workspace.open(workspace) as ws:
        done = {(sha, name) for sha, name, status in analyses(ws) if status in ("done", "failed")}
        return expected_analyses(ws) <= done


def analyzed_by(log: str, sha256: str) -> int:
    """How many times a worker's log says it started analyzing this file."""
    return log.count(f"analyzing {sha256}")
