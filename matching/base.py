"""The matcher interface: the third stage of the flow.

    archive ──analyzers/──▶ faces, tracks, transcripts ──matching/──▶ candidate sightings ──▶ review

A `Matcher` looks at what the analyzers derived and proposes `Candidate`s: "this face track /
this spoken or written name may be this missing person", with its reasons. It never writes;
`matching.sightings.run_match` merges the candidates of all matchers (a name mention joins the
face candidate of the same person and media) and upserts them as `pending` sightings, each
found by what it is about (person x media x where, `matching.upsert`), without touching
sightings a reviewer already decided. Only persons with an active
identification consent are given to matchers. A candidate is a possible match for a human to
check, never an identification.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from svidok.foundation.workspace import Workspace
    from svidok.matching.persons import Person


@dataclass
class Candidate:
    """One possible sighting: person x media x (where a face is seen | name mentions)."""

    person_id: int
    media_sha256: str
    key: str                                   # person x media x names / face place; never a row id
    score: float                               # 0-1, higher = more likely the same person
    reasons: list[dict[str, Any]]              # {"kind": face|name|unit|place|birth-year|detention-site, ...}
    model_versions: dict[str, str]
    reference_ids: list[int] = field(default_factory=list)
    track_id: int | None = None
    span_start_s: float | None = None
    span_end_s: float | None = None
    item_id: int | None = None
    other_media: tuple[str, ...] = ()          # a post's other media a name mention may join

    @property
    def kind(self) -> str:
        return "face" if self.track_id is not None or any(r["kind"] == "face" for r in self.reasons) else "name"


class Matcher(ABC):
    """Proposes candidate sightings for the given persons from the analyzed archive."""

    name: ClassVar[str]
    version: ClassVar[str]

    @abstractmethod
    def propose(self, workspace: "Workspace", persons: Sequence["Person"]) -> Iterator[Candidate]:
        """Yield candidates; may read the workspace, never writes it."""
