"""Names in transcripts and post text: "Петренко Александр, 72-я бригада" → a candidate.

For each searched person the first names and surnames of every name variant become keys
(`matching.names`). A text word matches a surname when its key equals the surname stem plus
a case ending, or is within `match.name_threshold` similarity (typos, ASR slips). Scores:

- surname and first name within `NEAR` words of each other: 0.60 + 0.35 x similarity;
- surname alone: 0.45 x similarity (common words such as Коваль/коваль stay below the bar);
- supporting reasons found in the same text add: unit number +0.15, place of disappearance
  +0.10, year of birth +0.10.

A name candidate is raised from `match.name_min_score` (default 0.6): a full name always, a
surname alone only with a supporting reason. A first name alone never raises anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from svidok.foundation.text import NAME_WORD, name_key
from svidok.matching.base import Candidate, Matcher
from svidok.matching.names import NameParts, merge_parts, split_name, word_similarity

if TYPE_CHECKING:
    from svidok.foundation.settings import MatchSettings
    from svidok.foundation.workspace import Workspace
    from svidok.matching.persons import Person

NEAR = 3
FULL_BASE, FULL_GAIN, SURNAME_ONLY = 0.60, 0.35, 0.45
SUPPORT = {"unit": 0.15, "place": 0.10, "birth-year": 0.10}


@dataclass(frozen=True)
class Token:
    word: str
    key: str
    time: float | None


@dataclass(frozen=True)
class Text:
    """One searchable text: a media file's whole transcript, or a post."""

    media_sha256: str
    field: str                         # transcript | post
    tokens: list[Token]
    raw: str
    model_version: str
    item_id: int | None = None
    other_media: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonNames:
    person_id: int
    parts: NameParts
    variant: str
    units: tuple[str, ...]
    place_keys: frozenset[str]
    birth_year: str | None

    @property
    def prefixes(self) -> frozenset[str]:
        """First two letters of each surname key: a text without them cannot mention the person."""
        return frozenset(k[:2] for k in self.parts.surname)


def person_names(person: "Person") -> PersonNames:
    parts = merge_parts([split_name(n) for n in person.all_names])
    units = tuple(u for u in re.findall(r"[A-ZА-ЯЁЄІЇҐ]?\d{2,5}", person.unit or "", re.I))
    places = frozenset(name_key(w) for w in NAME_WORD.findall(person.disappeared_at or "") if len(w) >= 4)
    year = person.born[:4] if person.born else None
    return PersonNames(person.id, parts, person.name, units, places, year)


def tokenize(text: str, time: float | None = None) -> list[Token]:
    return [Token(m.group(0), name_key(m.group(0)), time) for m in NAME_WORD.finditer(text)]


class NameMatcher(Matcher):
    """Person names spoken in transcripts or written in posts."""

    name = "names"
    version = "1"

    def __init__(self, settings: "MatchSettings") -> None:
        self.settings = settings

    def propose(self, workspace: "Workspace", persons: Sequence["Person"]) -> Iterator[Candidate]:
        names = [person_names(p) for p in persons]
        names = [n for n in names if n.parts.surname]
        if not names:
            return
        for text in iter_texts(workspace):
            present = {t.key[:2] for t in text.tokens}
            for person in (n for n in names if n.prefixes & present):
                candidate = self._match_text(person, text)
                if candidate is not None:
                    yield candidate

    def _match_text(self, person: PersonNames, text: Text) -> Candidate | None:
        mentions = find_mentions(person, text.tokens, self.settings.name_threshold)
        if not mentions:
            return None
        support = supporting_reasons(person, text)
        bonus = sum(SUPPORT[r["kind"]] for r in support)
        best = max(m["score"] for m in mentions)
        score = min(0.99, best + bonus)
        if score < self.settings.name_min_score:
            return None
        reasons = [{**m, "field": text.field, "variant": person.variant} for m in mentions] + support
        times = [m["time"] for m in mentions if m["time"] is not None]
        key = f"p{person.person_id}:m{text.media_sha256}:names"
        return Candidate(person.person_id, text.media_sha256, key, round(score, 4), reasons,
                         {"names": f"{self.name} {self.version}", text.field: text.model_version},
                         span_start_s=min(times) if times else None, span_end_s=max(times) if times else None,
                         item_id=text.item_id, other_media=text.other_media)


def find_mentions(person: PersonNames, tokens: list[Token], min_similarity: float) -> list[dict]:
    """Every surname mention, scored higher when a first name stands near it."""
    mentions = []
    for i, token in enumerate(tokens):
        if len(token.key) < 3:
            continue
        sur = word_similarity(token.key, person.parts.surname, min_similarity)
        if not sur:
            continue
        near = tokens[max(0, i - NEAR): i] + tokens[i + 1: i + 1 + NEAR]
        first = max((word_similarity(t.key, person.parts.first, min_similarity) for t in near), default=0.0)
        if first:
            score = FULL_BASE + FULL_GAIN * min(sur, first)
            lo, hi = max(0, i - NEAR), i + 1 + NEAR
            window = [t for t in tokens[lo:hi] if t is token or word_similarity(t.key, person.parts.first,
                                                                                  min_similarity)]
            text = " ".join(t.word for t in window)
        else:
            score, text = SURNAME_ONLY * sur, token.word
        mentions.append({"kind": "name", "text": text, "time": token.time, "similarity": round(min(sur, first or sur), 3),
                         "score": round(score, 4), "full_name": bool(first)})
    return mentions


def supporting_reasons(person: PersonNames, text: Text) -> list[dict]:
    reasons = []
    numbers = set(re.findall(r"[A-ZА-ЯЁЄІЇҐ]?\d{2,5}", text.raw, re.I))
    for unit in person.units:
        if unit in numbers or unit.upper() in {n.upper() for n in numbers}:
            reasons.append({"kind": "unit", "text": unit, "field": text.field})
            break
    if person.birth_year and person.birth_year in numbers:
        reasons.append({"kind": "birth-year", "text": person.birth_year, "field": text.field})
    for token in text.tokens:
        if person.place_keys and word_similarity(token.key, person.place_keys, 0.9):
            reasons.append({"kind": "place", "text": token.word, "time": token.time, "field": text.field})
            break
    return reasons


def iter_texts(ws: "Workspace") -> Iterator[Text]:
    """Each media file's transcript (all segments, word times kept) and each post with media."""
    current, tokens, raw, version = None, [], [], ""
    rows = ws.conn.execute("SELECT media_sha256, start_s, text, words, model, model_version FROM transcript_segment"
                           " ORDER BY media_sha256, start_s")
    for sha, start, seg_text, words_json, model, model_version in rows:
        if sha != current and current is not None:
            yield Text(current, "transcript", tokens, " ".join(raw), version)
            tokens, raw = [], []
        current, version = sha, f"{model} {model_version}"
        tokens.extend(_segment_tokens(seg_text, start, words_json))
        raw.append(seg_text)
    if current is not None:
        yield Text(current, "transcript", tokens, " ".join(raw), version)
    yield from _post_texts(ws)


def _segment_tokens(text: str, start: float, words_json: str) -> list[Token]:
    words = json.loads(words_json or "[]")
    if not words:
        return tokenize(text, round(start, 2))
    out: list[Token] = []
    for word in words:
        out.extend(tokenize(word.get("word", ""), round(float(word.get("start", start)), 2)))
    return out


def _post_texts(ws: "Workspace") -> Iterator[Text]:
    rows = ws.conn.execute(
        f"SELECT item.id, item.text, {ws.db.string_agg('item_media.media_sha256', ',')} FROM item"
        " JOIN item_media ON item_media.item_id = item.id AND item_media.media_sha256 IS NOT NULL"
        " WHERE item.text != '' GROUP BY item.id ORDER BY item.id")
    for item_id, text, media in rows:
        shas = tuple(dict.fromkeys(media.split(",")))
        yield Text(shas[0], "post", tokenize(text), text, "item text", item_id, shas[1:])
