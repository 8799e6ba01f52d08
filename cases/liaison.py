"""The family-liaison log: contacts with a person's family, consent conversations, and telling
the family what was found (the `informed` step of `cases.person_status`).

Each entry says who spoke for the organisation, to whom (name and relation), when, how
(`CHANNELS`), what was said, and when to follow up. Kinds:

- `contact`  — any conversation with the family (news asked for, support, a question);
- `consent`  — a conversation about consent (given, widened, withdrawn: the consent itself
  is recorded with `svidok consent add/revoke`);
- `informed` — the family was told the person was seen in captivity; refused before a
  sighting of the person is confirmed, like every recorded step.

The log is for case officers and admins only (`LIAISON_PERMISSION`; `liaison_log` checks it).
Its audit entries (object `family:<person id>`) record the kind, date, channel, relation and
who spoke — never the family member's name nor what was said, so the audit log and the
evidence packages that quote it carry nothing of the conversation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING

from svidok.cases.person_status import StatusError, check_day, person_name, record, require_confirmed
from svidok.cases.roles import allowed
from svidok.foundation.workspace import Workspace

if TYPE_CHECKING:
    from svidok.cases.users import User

KINDS = ("contact", "consent", "informed")
CHANNELS = ("in-person", "phone", "video-call", "messenger", "letter", "email")
# case officers and admins; the lead may replace it with a dedicated "liaison.view" permission
LIAISON_PERMISSION = "case.view"


class LiaisonError(StatusError):
    """A liaison entry was refused, or the log was asked for without the right."""


@dataclass(frozen=True)
class ContactInput:
    """What `person contact` / `person inform` record."""

    person_id: int
    kind: str
    contacted_on: str               # YYYY-MM-DD
    by_whom: str                    # who spoke for the organisation
    family_member: str              # who was spoken to
    channel: str
    summary: str                    # what was said / what they were told
    relation: str = ""
    follow_up_on: str | None = None


@dataclass(frozen=True)
class Contact(ContactInput):
    id: int = 0
    actor: str = ""
    audit_seq: int = 0
    created_at: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def may_read(role: str) -> bool:
    """Whether a role may read the liaison log."""
    return allowed(role, LIAISON_PERMISSION)


def _check(data: ContactInput) -> tuple[str, str | None]:
    if data.kind not in KINDS:
        raise LiaisonError(f"kind must be one of {', '.join(KINDS)}, not {data.kind!r}")
    if data.channel not in CHANNELS:
        raise LiaisonError(f"how: one of {', '.join(CHANNELS)}, not {data.channel!r}")
    for value, what in ((data.by_whom, "who spoke"), (data.family_member, "whom they spoke to"),
                        (data.summary, "what was said")):
        if not value.strip():
            raise LiaisonError(f"a liaison entry needs {what}")
    on = check_day(data.contacted_on, "contact date")
    follow = None
    if data.follow_up_on:
        try:
            follow = date.fromisoformat(data.follow_up_on).isoformat()
        except ValueError:
            raise LiaisonError(f"follow-up: expected a date YYYY-MM-DD, got {data.follow_up_on!r}") from None
        if follow < on:
            raise LiaisonError(f"follow-up {follow} is before the contact ({on})")
    return on, follow


def record_contact(ws: Workspace, data: ContactInput, actor: str) -> int:
    """Add an entry to the liaison log; an `informed` entry only after confirmation."""
    on, follow = _check(data)
    with ws.transaction():
        person_name(ws, data.person_id)
        if data.kind == "informed":
            require_confirmed(ws, data.person_id, on, "telling the family")
        details = {"person": data.person_id, "kind": data.kind, "contacted_on": on, "channel": data.channel,
                   "relation": data.relation.strip(), "by": data.by_whom.strip(), "follow_up_on": follow}
        action = "family.inform" if data.kind == "informed" else "family.contact"
        values = {**asdict(data), "contacted_on": on, "follow_up_on": follow, "by_whom": data.by_whom.strip(),
                  "family_member": data.family_member.strip(), "summary": data.summary.strip(),
                  "relation": data.relation.strip()}
        return record(ws, "family_contact", values, (actor, action, f"family:{data.person_id}", details))


def contacts(ws: Workspace, person_id: int, kinds: tuple[str, ...] = KINDS) -> list[Contact]:
    """The person's liaison entries, oldest first. Callers showing them check `may_read` first."""
    rows = ws.db.query(
        f"SELECT * FROM family_contact WHERE person_id = ? AND kind IN ({', '.join('?' * len(kinds))})"
        " ORDER BY contacted_on, id", [person_id, *kinds])
    return [Contact(**r) for r in rows]


def liaison_log(ws: Workspace, user: User, person_id: int) -> list[Contact]:
    """The log for a user allowed to read it (case officers, admins); refused for anyone else."""
    if not may_read(user.role):
        raise LiaisonError(f"role {user.role} may not read the family-liaison log")
    person_name(ws, person_id)
    return contacts(ws, person_id)
