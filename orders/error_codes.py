"""Codes of the order flow's domain errors: the API returns them (`errors[].code`) so a
partner's program can branch on them. Generic ones (`rule_violation`, `invalid_transition`,
`permission_denied`, `conflict`) come from core.errors."""

from enum import StrEnum


class CallErrorCode(StrEnum):
    """The application window of a published call: its deadline, the leads' answers and an
    early close."""

    # 400: a deadline may only move later than the current one.
    DEADLINE_NOT_EXTENDED = "deadline_not_extended"
    # 400: a deadline at publication sooner than the network's shortest window.
    DEADLINE_TOO_SOON = "deadline_too_soon"
    # 400: extending, declining and closing early each need a written reason.
    REASON_REQUIRED = "reason_required"
    # 400: a committee decision needs more votes for than against.
    VOTES_INSUFFICIENT = "votes_insufficient"
    # 409: the deadline has passed (or the window was closed): nothing can change any more.
    WINDOW_CLOSED = "window_closed"
    # 409: closing early while a called lead has neither applied nor declined.
    NOT_ALL_LEADS_ANSWERED = "not_all_leads_answered"
    # 409: declining while one's application is active (withdraw it first).
    ALREADY_APPLIED = "already_applied"
    # 403: the company was not called to this inquiry.
    NOT_CALLED = "not_called"
    # 403: the actor's role may not do this.
    NOT_ALLOWED = "not_allowed"
    # 409: the committee opens the prices only after the leads were told of the early close.
    LEADS_NOT_YET_TOLD = "leads_not_yet_told"
