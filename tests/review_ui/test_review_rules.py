"""The pure rules of cases/review_rules.py: what a decision needs, and what decisions add up to."""

from __future__ import annotations

import pytest

from svidok.cases.review_rules import (
    DecisionError,
    DecisionInput,
    IncompleteDecision,
    ReviewRule,
    Tally,
    check_decision,
    settle,
)
from tests.review_ui.conftest import CHECKLIST

DEFAULT = ReviewRule(confirms_needed=2, rejects_needed=2)
THIRD_REVIEWER = ReviewRule(confirms_needed=2, rejects_needed=2, extra_reviews=1)


@pytest.mark.parametrize("tally, rule, expected", [
    (Tally(), DEFAULT, ("pending", None)),
    (Tally(confirms=1), DEFAULT, ("pending", None)),
    (Tally(unsure=1), DEFAULT, ("pending", None)),                       # the second blind review is still due
    (Tally(confirms=2), DEFAULT, ("confirmed", None)),
    (Tally(rejects=2), DEFAULT, ("rejected", None)),
    (Tally(confirms=1, rejects=1), DEFAULT, ("conflict", "disagreement")),
    (Tally(unsure=2), DEFAULT, ("conflict", "no-result")),               # was: pending for ever
    (Tally(confirms=1, unsure=1), DEFAULT, ("conflict", "no-result")),
    (Tally(rejects=1, unsure=1), DEFAULT, ("conflict", "no-result")),
    (Tally(confirms=1, unsure=1), THIRD_REVIEWER, ("pending", None)),    # waits for a third reviewer
    (Tally(confirms=2, unsure=1), THIRD_REVIEWER, ("confirmed", None)),
    (Tally(confirms=1, unsure=2), THIRD_REVIEWER, ("conflict", "no-result")),
    (Tally(unsure=2), THIRD_REVIEWER, ("conflict", "no-result")),        # a third cannot make two confirmations
    (Tally(confirms=1, rejects=1), THIRD_REVIEWER, ("conflict", "disagreement")),
    (Tally(rejects=2), ReviewRule(2, 3), ("pending", None)),             # three rejections due
    (Tally(rejects=3), ReviewRule(2, 3), ("rejected", None)),
    (Tally(rejects=2, unsure=1), ReviewRule(2, 3), ("conflict", "no-result")),
    (Tally(confirms=1), ReviewRule(1, 2), ("confirmed", None)),
])
def test_what_decisions_add_up_to(tally, rule, expected):
    assert settle(tally, rule) == expected


def test_no_sighting_stays_pending_once_the_reviews_allowed_are_in():
    for rule in (DEFAULT, THIRD_REVIEWER, ReviewRule(2, 3), ReviewRule(3, 1, 2)):
        most = rule.reviews_due + rule.extra_reviews
        for confirms in range(most + 1):
            for rejects in range(most + 1 - confirms):
                tally = Tally(confirms, rejects, most - confirms - rejects)
                assert settle(tally, rule)[0] != "pending", (rule, tally)


def test_same_person_needs_the_full_checklist_one_similar_an_observation_and_the_images_revealed():
    with pytest.raises(IncompleteDecision) as refused:
        check_decision(DecisionInput("confirm"))
    assert refused.value.missing == ["checklist", "similar", "observation", "revealed"]
    with pytest.raises(IncompleteDecision, match="not assessed: ears, mouth") as refused:
        check_decision(DecisionInput("confirm", {k: v for k, v in CHECKLIST.items() if k not in ("ears", "mouth")},
                                     "same scar", True))
    assert refused.value.missing == ["checklist"]
    with pytest.raises(IncompleteDecision) as refused:
        check_decision(DecisionInput("confirm", dict.fromkeys(CHECKLIST, "not-visible"), "too dark", True))
    assert refused.value.missing == ["similar"]
    with pytest.raises(IncompleteDecision) as refused:
        check_decision(DecisionInput("confirm", CHECKLIST, "  ", "yes"))      # only True attests the reveal
    assert refused.value.missing == ["observation", "revealed"]
    assert check_decision(DecisionInput("confirm", CHECKLIST, " scar ", True)) == \
        DecisionInput("confirm", CHECKLIST, "scar", True)


def test_not_the_same_person_needs_a_reason_and_unsure_nothing():
    with pytest.raises(IncompleteDecision) as refused:
        check_decision(DecisionInput("reject", {}, "", True))
    assert refused.value.missing == ["reason"] and "reason" in str(refused.value)
    assert check_decision(DecisionInput("reject", {}, "ears differ")).verdict == "reject"
    assert check_decision(DecisionInput("unsure")).verdict == "unsure"
    with pytest.raises(DecisionError, match="verdict must be"):
        check_decision(DecisionInput("identified"))
