"""Full-text search over post texts and transcript segments, finding Russian/Ukrainian word forms.

Neither SQLite FTS5 nor PostgreSQL ships a Ukrainian stemmer (and their Russian ones differ), so
the indexed column holds our own stems, the same on both engines
(`svidok.foundation.text`): lower case, ё→е, ґ→г, apostrophes removed, then the longest common RU/UK inflection ending
stripped (a stem keeps at least 3 letters). A query is stemmed the same way and every word
(stemmed once more, for endings that look like stems) is matched as a prefix (`"плен"*`), so "плен", "в плену" and "пленные" find each other, as do
"Петренко", "Петренка" and "Петренкові". Measured against plain words and the trigram
tokenizer in docs/BENCHMARKS.md (## Speech).

The table `text_index` is an FTS5 table on SQLite (keyed by rowid) and a table with a generated
`tsvector` over the stems and a GIN index on PostgreSQL (keyed by `key`; the `simple` configuration,
since the words arrive stemmed); both are made by the baseline migration
(svidok/foundation/migrations/versions/0001_baseline.py). It is kept in sync in two halves: SQL triggers queue
every new or edited item and transcript segment in `text_index_pending` and delete the index
row of a deleted one; `sync()` stems the queued rows. `search()` syncs first, so callers never
see a stale index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from svidok.foundation.database import Database
from svidok.foundation.text import query_stems, stem, stems, words


@dataclass(frozen=True)
class SearchHit:
    """One post or transcript segment that matches a query."""

    kind: str                      # post, transcript
    item_id: int | None            # the post, or the first item that links the media
    media_sha256: str | None       # transcripts only
    start_s: float | None          # transcripts only
    snippet: str
    score: float                   # lower is better: bm25 (SQLite), minus ts_rank (PostgreSQL)

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "item_id": self.item_id, "media_sha256": self.media_sha256,
                "start_s": self.start_s, "snippet": self.snippet, "score": round(self.score, 4)}


def fts_query(query: str) -> str | None:
    """The FTS5 MATCH expression for a user query: every word's stem as a prefix, all required."""
    terms = [t.replace('"', "") for t in query_stems(query) if t]
    return " ".join(f'"{t}"*' for t in terms) or None


def tsquery(query: str) -> str | None:
    """The PostgreSQL tsquery for a user query: every word's stem as a prefix, all required."""
    terms = [re.sub(r"[^\w]", "", t) for t in query_stems(query)]
    return " & ".join(f"{t}:*" for t in terms if t) or None


def _key_column(conn: Database) -> str:
    return "rowid" if conn.backend == "sqlite" else "key"


def sync(conn: Database) -> int:
    """Stem the queued items and segments into the index; returns how many rows were (re)indexed."""
    keys = [row[0] for row in conn.execute("SELECT key FROM text_index_pending ORDER BY key")]
    if not keys:
        return 0
    with conn.transaction():
        keys = [row[0] for row in conn.execute("SELECT key FROM text_index_pending ORDER BY key")]
        for key in keys:
            _index_one(conn, key)
        conn.executemany("DELETE FROM text_index_pending WHERE key = ?", [(k,) for k in keys])
    return len(keys)


def _index_one(conn: Database, key: int) -> None:
    conn.execute(f"DELETE FROM text_index WHERE {_key_column(conn)} = ?", (key,))
    if key % 2 == 0:
        row = conn.execute("SELECT text, 'post', id, NULL, NULL FROM item WHERE id = ?", (key // 2,)).fetchone()
    else:
        row = conn.execute("SELECT text, 'transcript', NULL, media_sha256, start_s FROM transcript_segment"
                           " WHERE id = ?", (key // 2,)).fetchone()
    if row is None or not row[0].strip():
        return
    conn.execute(f"INSERT INTO text_index ({_key_column(conn)}, stems, text, kind, item_id, media_sha256, start_s)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (key, stems(row[0]), *row))


def rebuild(conn: Database) -> int:
    """Queue and re-stem everything (after the stemming rules change)."""
    conn.execute("INSERT INTO text_index_pending (key) SELECT id * 2 FROM item ON CONFLICT DO NOTHING")
    conn.execute("INSERT INTO text_index_pending (key) SELECT id * 2 + 1 FROM transcript_segment"
                 " ON CONFLICT DO NOTHING")
    return sync(conn)


def search(conn: Database, query: str, limit: int = 20) -> list[SearchHit]:
    """Posts and transcript segments matching every word of `query` in any form, best first."""
    sync(conn)
    if conn.backend == "sqlite":
        expression = fts_query(query)
        sql = ("SELECT text, kind, item_id, media_sha256, start_s, bm25(text_index) AS score FROM text_index"
               " WHERE text_index MATCH ? ORDER BY score LIMIT ?")
    else:
        expression = tsquery(query)
        sql = ("SELECT text, kind, item_id, media_sha256, start_s, -ts_rank(document, q) AS score"
               " FROM text_index, to_tsquery('simple', ?) AS q WHERE document @@ q ORDER BY score, key LIMIT ?")
    if expression is None:
        return []
    rows = conn.execute(sql, (expression, limit)).fetchall()
    prefixes = query_stems(query)
    hits = []
    for text, kind, item_id, sha, start_s, score in rows:
        if kind == "transcript":
            item_id = _linking_item(conn, sha)
        hits.append(SearchHit(kind, item_id, sha, start_s, snippet(text, prefixes), float(score)))
    return hits


def _linking_item(conn: Database, sha256: str) -> int | None:
    row = conn.execute("SELECT item_id FROM item_media WHERE media_sha256 = ? ORDER BY item_id LIMIT 1",
                       (sha256,)).fetchone()
    return row[0] if row else None


def snippet(text: str, prefixes: list[str], context_words: int = 8) -> str:
    """The words around the first match, matches in [brackets]."""
    tokens = text.split()
    marked, first = [], None
    for i, token in enumerate(tokens):
        hit = any(stem(w).startswith(q) for w in words(token) for q in prefixes if q)
        if hit and first is None:
            first = i
        marked.append(f"[{token}]" if hit else token)
    first = first or 0
    start, end = max(0, first - context_words), min(len(tokens), first + context_words + 1)
    return ("… " if start else "") + " ".join(marked[start:end]) + (" …" if end < len(tokens) else "")
