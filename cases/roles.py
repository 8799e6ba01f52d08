"""Who may do what: the roles and the one permission table every route checks.

| permission      | analyst | reviewer | case-officer | admin |
|-----------------|---------|----------|--------------|-------|
| queue.view      |   yes   |   yes    |              |  yes  |
| sighting.view   |   yes   |   yes    |     yes      |  yes  |
| sighting.decide |         |   yes    |              |  yes  |
| media.view      |   yes   |   yes    |     yes      |  yes  |
| reference.view  |         |   yes    |     yes      |  yes  |
| case.view       |         |          |     yes      |  yes  |
| case.edit       |         |          |     yes      |       |
| case.export     |         |          |     yes      |       |
| admin           |         |          |              |  yes  |

Analysts watch the pipeline's output but never decide; reviewers decide blind; case
officers turn confirmed sightings into cases and evidence; admins resolve conflicts and read
the audit log. Every logged-in user may change their own display settings.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    CASE_OFFICER = "case-officer"
    ADMIN = "admin"


A, R, C, AD = Role.ANALYST, Role.REVIEWER, Role.CASE_OFFICER, Role.ADMIN

PERMISSIONS: dict[str, frozenset[Role]] = {
    "queue.view": frozenset({A, R, AD}),
    "sighting.view": frozenset({A, R, C, AD}),
    "sighting.decide": frozenset({R, AD}),
    "media.view": frozenset({A, R, C, AD}),
    "reference.view": frozenset({R, C, AD}),
    "case.view": frozenset({C, AD}),
    "case.edit": frozenset({C}),
    "case.export": frozenset({C}),
    "admin": frozenset({AD}),
    "self": frozenset(Role),
}


def allowed(role: str, permission: str) -> bool:
    """True when `role` holds `permission` (unknown permissions are never allowed)."""
    return role in PERMISSIONS.get(permission, frozenset())


def home_for(role: str) -> str:
    """The page a user lands on after logging in."""
    return "/cases" if role == Role.CASE_OFFICER else "/queue"
