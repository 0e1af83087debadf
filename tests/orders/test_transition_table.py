import itertools

import pytest

from core.errors import InvalidTransition
from core.transitions import history, transition
from orders.models import INQUIRY_OUTCOMES, INQUIRY_TRANSITIONS, Inquiry, InquiryStatus

S = InquiryStatus
ALL = list(S)


@pytest.mark.parametrize(("start", "target"), list(itertools.product(ALL, ALL)))
def test_every_move_is_allowed_or_refused_by_the_table(submitted, start, target):
    Inquiry.objects.filter(pk=submitted.pk).update(status=start)
    submitted.refresh_from_db()
    before = len(history(submitted))
    if start == target:
        assert transition(submitted, to=target, allowed=INQUIRY_TRANSITIONS) is False
    elif target in INQUIRY_TRANSITIONS[start]:
        assert transition(submitted, to=target, allowed=INQUIRY_TRANSITIONS) is True
        assert history(submitted).last().from_status == start
        assert len(history(submitted)) == before + 1
    else:
        with pytest.raises(InvalidTransition):
            transition(submitted, to=target, allowed=INQUIRY_TRANSITIONS)
        submitted.refresh_from_db()
        assert submitted.status == start
        assert len(history(submitted)) == before


def test_outcomes_are_final_and_every_other_status_can_reach_one():
    for status in INQUIRY_OUTCOMES:
        assert INQUIRY_TRANSITIONS[status] == set()
    for status in set(ALL) - INQUIRY_OUTCOMES:
        reachable, frontier = set(), {status}
        while frontier:
            nxt = set().union(*(INQUIRY_TRANSITIONS[s] for s in frontier)) - reachable
            reachable |= nxt
            frontier = nxt
        assert reachable & INQUIRY_OUTCOMES, status
