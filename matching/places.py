"""Places of detention named in a sighting's post text and transcript: supporting reasons.

The gazetteer (`configs/detention_sites.toml`) lists publicly documented colonies, SIZOs and
camps with their name variants (Ukrainian, Russian, Latin), region, coordinates when public
and the source of each entry. A site is *mentioned* in a text when one of its `toponyms`
(the distinctive word of its place name) appears in any case form — name keys from
`svidok.foundation.text`, so "в Оленовке", "в Оленівці" and "Olenivka" all count — and, for a
site marked `needs_facility_word`, a facility word (СИЗО, колония, ...) stands within
`NEAR` words of it, so a bare city name ("Курск") proposes nothing.

`add_site_reasons` gives each candidate sighting the sites its media's post text and
transcript mention, as reasons of kind `detention-site`. They support a reviewer and a case
officer; they never change a candidate's score, and the place of detention is only ever
*confirmed* by a case officer (`svidok.cases.places`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svidok.foundation.text import CASE_ENDINGS, NAME_WORD, name_key, name_stem, stem

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace
    from svidok.matching.base import Candidate

GAZETTEER = Path("configs") / "detention_sites.toml"
NEAR = 6                     # words between a toponym and a facility word
MIN_KEY = 5                  # shorter toponym keys are too ambiguous to match on
# Ukrainian locatives alternate the stem's last consonant: Оленівка → в Оленівці, Таганрог → у Таганрозі
ALTERNATIONS = (("k", "ci"), ("h", "zi"))


class GazetteerError(ValueError):
    """The gazetteer file is missing a field or has a wrong value."""


@dataclass(frozen=True)
class Site:
    """One place of detention, as the gazetteer lists it."""

    key: str
    kind: str                                    # colony, sizo, camp, ...
    name: str                                    # English name shown to people
    names: tuple[str, ...]                       # official and common names, uk/ru/Latin
    toponyms: tuple[str, ...]                    # single words matched in text, any case form
    region: str
    source: str                                  # where the entry comes from (public reporting)
    needs_facility_word: bool = True
    coordinates: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "name": self.name, "names": list(self.names),
                "region": self.region, "coordinates": list(self.coordinates) if self.coordinates else None,
                "source": self.source}


@dataclass(frozen=True)
class Gazetteer:
    sites: tuple[Site, ...]
    facility_stems: frozenset[str]

    def get(self, key: str) -> Site | None:
        return next((s for s in self.sites if s.key == key), None)


@dataclass(frozen=True)
class SiteMention:
    """A site named in one text: the words around the mention, and where they are."""

    site: Site
    text: str
    field: str                                   # post | transcript
    time: float | None
    facility_word: bool

    def as_reason(self) -> dict[str, Any]:
        return {"kind": "detention-site", "site": self.site.key, "name": self.site.name, "text": self.text,
                "field": self.field, "time": self.time, "facility_word": self.facility_word}


def default_path() -> Path:
    """`configs/detention_sites.toml` in the current folder, else the one in Svidok's source tree."""
    if GAZETTEER.is_file():
        return GAZETTEER
    return Path(__file__).resolve().parents[1] / GAZETTEER


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Read the gazetteer; an absent default file gives an empty one (nothing is proposed)."""
    path = path or default_path()
    if not path.is_file():
        return Gazetteer((), frozenset())
    return _load(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Gazetteer:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GazetteerError(f"{path}: {exc}") from None
    sites = tuple(_site(path, entry) for entry in data.get("site", []))
    keys = [s.key for s in sites]
    if len(set(keys)) != len(keys):
        raise GazetteerError(f"{path}: a site key is used twice")
    return Gazetteer(sites, frozenset(_facility_stem(w) for w in data.get("facility_words", [])))


def _site(path: Path, entry: dict[str, Any]) -> Site:
    missing = [f for f in ("key", "kind", "name", "names", "toponyms", "region", "source") if not entry.get(f)]
    if missing:
        raise GazetteerError(f"{path}: site {entry.get('key', '?')!r} lacks {', '.join(missing)}")
    coords = entry.get("coordinates")
    if coords is not None and (len(coords) != 2 or not all(isinstance(c, (int, float)) for c in coords)):
        raise GazetteerError(f"{path}: site {entry['key']!r}: coordinates are [latitude, longitude]")
    return Site(entry["key"], entry["kind"], entry["name"], tuple(entry["names"]), tuple(entry["toponyms"]),
                entry["region"], entry["source"], bool(entry.get("needs_facility_word", True)),
                tuple(coords) if coords else None)


def _facility_stem(word: str) -> str:
    """Stemmed twice, so колонии, колонія and колонию share "колон"."""
    return stem(stem(word))


def toponym_forms(word: str) -> frozenset[str]:
    """Name keys of the case forms of one place-name word (see `ALTERNATIONS`)."""
    key = name_key(word)
    if len(key) < MIN_KEY:
        return frozenset()
    base = name_stem(key)
    bases = {key, base} | ({base[:-1]} if base.endswith("i") and len(base) >= MIN_KEY else set())
    forms = {b + ending for b in bases for ending in CASE_ENDINGS}
    forms.update(base[: -len(old)] + new for old, new in ALTERNATIONS if base.endswith(old))
    return frozenset(forms)


@lru_cache(maxsize=256)
def _site_forms(site: Site) -> frozenset[str]:
    return frozenset().union(*(toponym_forms(w) for w in site.toponyms))


def find_sites(gazetteer: Gazetteer, text: str, field: str, time: float | None = None) -> list[SiteMention]:
    """The sites a text mentions, each once (its first mention; one with a facility word preferred)."""
    spans = [(m.start(), m.end()) for m in NAME_WORD.finditer(text)]
    words = [text[a:b] for a, b in spans]
    keys = [name_key(w) for w in words]
    facility = [_facility_stem(w) in gazetteer.facility_stems for w in words]
    found: dict[str, SiteMention] = {}
    for i, key in enumerate(keys):
        for site in gazetteer.sites:
            if key not in _site_forms(site):
                continue
            near = any(facility[max(0, i - NEAR): i + NEAR + 1])
            if site.needs_facility_word and not near:
                continue
            snippet = text[spans[max(0, i - 3)][0]: spans[min(len(spans) - 1, i + 3)][1]]
            known = found.get(site.key)
            if known is None or (near and not known.facility_word):
                found[site.key] = SiteMention(site, snippet, field, time, near)
    return list(found.values())


def media_texts(ws: Workspace, media_sha256: str) -> Iterator[tuple[str, str, float | None]]:
    """(field, text, time) of the posts carrying a media file and of its transcript segments."""
    for (text,) in ws.conn.execute(
            "SELECT DISTINCT i.text FROM item i JOIN item_media im ON im.item_id = i.id"
            " WHERE im.media_sha256 = ? AND i.text != ''", (media_sha256,)):
        yield "post", text, None
    for start, text in ws.conn.execute(
            "SELECT start_s, text FROM transcript_segment WHERE media_sha256 = ? ORDER BY start_s", (media_sha256,)):
        yield "transcript", text, round(start, 2)


def sites_for_media(ws: Workspace, gazetteer: Gazetteer, media_sha256: str) -> list[SiteMention]:
    """The sites a media file's post text and transcript mention, once per site and field."""
    mentions: dict[tuple[str, str], SiteMention] = {}
    for field, text, time in media_texts(ws, media_sha256):
        for mention in find_sites(gazetteer, text, field, time):
            mentions.setdefault((mention.site.key, field), mention)
    return list(mentions.values())


def add_site_reasons(ws: Workspace, candidates: Iterable[Candidate], gazetteer: Gazetteer | None = None) -> None:
    """Append `detention-site` reasons to each candidate whose media's texts name a site."""
    gazetteer = gazetteer or load_gazetteer()
    if not gazetteer.sites:
        return
    cache: dict[str, list[dict[str, Any]]] = {}
    for cand in candidates:
        if cand.media_sha256 not in cache:
            cache[cand.media_sha256] = [m.as_reason() for m in sites_for_media(ws, gazetteer, cand.media_sha256)]
        cand.reasons.extend(r for r in cache[cand.media_sha256] if r not in cand.reasons)
