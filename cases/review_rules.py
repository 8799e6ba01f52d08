"""What a reviewer's decision needs, and what the decisions on one sighting add up to.

Pure rules, no database: cases/decisions.py applies them inside the transaction that records a
decision, so a JSON client is held to them exactly as the review UI is.

What a decision needs (`check_decision`; refused with `IncompleteDecision`, HTTP 422, otherwise):

- "same person" (confirm): every feature of the FISWG-style checklist assessed as similar,
  different or not visible ("not visible" is how a reviewer says a feature could not be seen),
  at least one of them seen as similar; a written observation; and `revealed`.
- "not the same person" (reject): a reason, written as the observation.
- "unsure": nothing more.

`revealed` is an attestation by the client, not something the server can see: the review UI
sets it when every comparison image on the page (reference photos, face crops, frames) has been
un-blurred, at least to sharp greyscale. It is stored with the decision, so a "same person" taken
on blurred images cannot pass for one taken on revealed ones; a JSON client that sends it
without showing the images is lying on the record.

What the decisions add up to (`settle`), with C = review.confirmations_needed, R =
review.rejections_needed, N = max(C, R) the blind reviews due on a sighting, and E extra reviews
(review.extra_reviews, 0 by default; `rule_for` reads the three settings): counted are reviewer
verdicts only, and

1. a confirmation and a rejection -> `conflict`, reason `disagreement`;
2. C confirmations -> `confirmed`; R rejections -> `rejected`;
3. N or more decisions and no result reachable within N + E decisions -> `conflict`, reason
   `no-result` (what "unsure" leads to: nothing is left `pending` for ever);
4. otherwise `pending`: the sighting stays in the queue of every reviewer who has not decided.

With the defaults (C = R = 2, E = 0): two unsure, a confirmation and an unsure, or a rejection
and an unsure go to the admin's Conflicts list with their reason. With E = 1 a confirmation (or
rejection) and an unsure wait for a third reviewer; two unsure still go to the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from svidok.foundation.settings import ReviewSettings

FEATURES = ("face_shape", "hairline", "eyebrows", "eyes", "nose", "ears", "mouth", "marks")
ASSESSMENTS = ("similar", "different", "not-visible")
NEEDS = {
    "checklist": "every checklist feature needs an assessment (similar, different or not visible)",
    "similar": "a 'same person' decision needs at least one feature seen as similar",
    "observation": "a 'same person' decision needs a written observation",
    "revealed": "a 'same person' decision needs every comparison image revealed (un-blurred) first",
    "reason": "a 'not the same person' decision needs a reason, written as the observation",
}


class Verdict(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    UNSURE = "unsure"


class DecisionError(ValueError):
    """A decision was refused (already decided, sighting closed, bad input, no right)."""


class IncompleteDecision(DecisionError):
    """A decision lacks what its verdict needs; `missing` holds the keys of `NEEDS`."""

    def __init__(self, missing: list[str], detail: str = "") -> None:
        self.missing = missing
        super().__init__("; ".join(NEEDS[m] + (f" ({detail})" if m == "checklist" and detail else "")
                                   for m in missing))


@dataclass(frozen=True)
class DecisionInput:
    """One reviewer's decision as given: by the review form, the JSON API or a script."""

    verdict: str
    checklist: dict[str, str] = field(default_factory=dict)
    observation: str = ""
    revealed: bool = False          # UI attestation: every comparison image was un-blurred (see above)


def clean_checklist(checklist: dict[str, Any] | None) -> dict[str, str]:
    """Validate a FISWG-style morphological checklist; features left blank are left out."""
    out: dict[str, str] = {}
    for key, value in (checklist or {}).items():
        if key not in FEATURES:
            raise DecisionError(f"unknown checklist feature {key!r}")
        if value in ("", None):
            continue
        if value not in ASSESSMENTS:
            raise DecisionError(f"checklist {key}: {value!r} is not one of {', '.join(ASSESSMENTS)}")
        out[key] = value
    return out


def check_decision(given: DecisionInput) -> DecisionInput:
    """The decision cleaned, or DecisionError (bad input) / IncompleteDecision (evidence missing)."""
    try:
        verdict = Verdict(given.verdict)
    except ValueError:
        raise DecisionError(f"verdict must be one of {', '.join(v.value for v in Verdict)}") from None
    checklist, observation = clean_checklist(given.checklist), (given.observation or "").strip()
    missing, unassessed = [], [f for f in FEATURES if f not in checklist]
    if verdict == Verdict.CONFIRM:
        missing += ["checklist"] if unassessed else []
        missing += [] if "similar" in checklist.values() else ["similar"]
        missing += [] if observation else ["observation"]
        missing += [] if given.revealed is True else ["revealed"]
    elif verdict == Verdict.REJECT and not observation:
        missing.append("reason")
    if missing:
        raise IncompleteDecision(missing, "not assessed: " + ", ".join(unassessed))
    return DecisionInput(verdict.value, checklist, observation, given.revealed is True)


@dataclass(frozen=True)
class ReviewRule:
    confirms_needed: int
    rejects_needed: int
    extra_reviews: int = 0          # reviews beyond max(C, R) a sighting may get before it goes to an admin

    def __post_init__(self) -> None:
        if self.confirms_needed < 1 or self.rejects_needed < 1 or self.extra_reviews < 0:
            raise ValueError("review rule: confirmations_needed and rejections_needed must be 1 or more, "
                             f"extra_reviews 0 or more (got {self.confirms_needed}, {self.rejects_needed}, "
                             f"{self.extra_reviews})")

    @property
    def reviews_due(self) -> int:
        return max(self.confirms_needed, self.rejects_needed)


def rule_for(review: ReviewSettings) -> ReviewRule:
    """The rule the review settings give (review.confirmations_needed, rejections_needed, extra_reviews)."""
    return ReviewRule(review.confirmations_needed, review.rejections_needed, review.extra_reviews)


@dataclass(frozen=True)
class Tally:
    confirms: int = 0
    rejects: int = 0
    unsure: int = 0

    @property
    def decided(self) -> int:
        return self.confirms + self.rejects + self.unsure


def settle(tally: Tally, rule: ReviewRule) -> tuple[str, str | None]:
    """(status, reason) of a sighting with these reviewer decisions; reason only for `conflict`."""
    if tally.confirms and tally.rejects:
        return "conflict", "disagreement"
    if tally.confirms >= rule.confirms_needed:
        return "confirmed", None
    if tally.rejects >= rule.rejects_needed:
        return "rejected", None
    left = rule.reviews_due + rule.extra_reviews - tally.decided
    reachable = (not tally.rejects and tally.confirms + left >= rule.confirms_needed) or \
        (not tally.confirms and tally.rejects + left >= rule.rejects_needed)
    if tally.decided >= rule.reviews_due and not reachable:
        return "conflict", "no-result"
    return "pending", None
