"""Who an evidence package may go to, and which consent scope each recipient needs.

| recipient        | needs consent scope      | reference photos leave when                      |
|------------------|--------------------------|--------------------------------------------------|
| icrc             | share-icrc               | the photo's own consent grants share-icrc        |
| coordination-hq  | share-coordination-hq    | the photo's own consent grants that scope        |
| ombudsman        | share-ombudsman          | the photo's own consent grants that scope        |
| court            | court                    | the photo's own consent grants court             |
| prosecutor       | court                    | the photo's own consent grants court             |
| internal         | identification           | never (identification-only: photos stay home)    |

Rules: (1) if no active (unrevoked) consent of the person grants the recipient's scope, the
export is refused and nothing is written; (2) only confirmed sightings attached to the case
go in (withdrawn ones never); (3) reference photos go in only under rule above, so an
identification-only consent never lets a family photo leave; (4) the consent records the
package relies on (those granting the recipient's scope) go in whole — who gave it, relation,
date, scopes, document reference — so the recipient can check what it receives material
under; a consent that does not grant the scope is not sent at all, neither its giver nor its photos.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    key: str
    scope: str
    description: str

    @property
    def references_allowed(self) -> bool:
        return self.scope != "identification"


RECIPIENTS: dict[str, Recipient] = {r.key: r for r in (
    Recipient("icrc", "share-icrc", "International Committee of the Red Cross, Central Tracing Agency"),
    Recipient("coordination-hq", "share-coordination-hq",
              "Coordination Headquarters for the Treatment of Prisoners of War"),
    Recipient("ombudsman", "share-ombudsman", "Ukrainian Parliament Commissioner for Human Rights"),
    Recipient("court", "court", "A court"),
    Recipient("prosecutor", "court", "A prosecutor's office"),
    Recipient("internal", "identification", "This organisation's own case file"),
)}


class RecipientError(ValueError):
    """Unknown recipient, or consent does not allow sharing with it."""


def recipient(name: str) -> Recipient:
    """Look a recipient up by key (case-insensitive; 'icrc:Geneva CTA' also works)."""
    key = name.split(":", 1)[0].strip().lower()
    if key not in RECIPIENTS:
        raise RecipientError(f"unknown recipient {name!r} (one of: {', '.join(RECIPIENTS)})")
    return RECIPIENTS[key]
