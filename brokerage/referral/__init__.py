"""Referral (紹介) of what the network cannot serve: never decline in silence.

When an inquiry moves to `referral` (the secretariat refers it with a category, or nobody
applied by the deadline) its referral is opened (`referral_open`, a reaction to the
`inquiry.referral` event, see core.events): candidates are ranked in SQL — consenting
non-member companies of the network's directory that can do every process of the inquiry on
its material, and partner networks whose members cover the processes ours lack — and the
first is offered at once (network rule `referral_auto_send`) or when the secretariat
confirms. Offers go out one at a time, each with a signed response link (no account needed)
and `referral_response_hours` to answer; a decline or no answer moves on to the next
candidate, until one accepts (the buyer is told whom to contact) or none is left (the
secretariat is asked to act, and may add a candidate by hand).

The package's modules: `ranking` (the candidates), `services` (the moves, one transaction
each), `emails` (the signed link and the target's e-mail), `selectors` (the reads). This
module is their public surface: callers write `from brokerage import referral`.
"""

from .emails import (
    RESPONSE_SALT,
    enqueue_offer_emails,
    offer_context,
    referral_emails_relay,
    referral_offer_email_failed,
    referral_offer_email_send,
    referral_offer_from_token,
    referral_response_token,
    referral_response_url,
)
from .ranking import (
    REASON_LABELS,
    Candidate,
    directory_candidates,
    partner_candidates,
    rank_candidates,
    reason_labels,
)
from .selectors import OUTCOMES, referral_list, referral_outcomes
from .services import (
    referral_add_candidate,
    referral_buyer_agree,
    referral_confirm,
    referral_offer_expire,
    referral_open,
    referral_respond,
    referrals_expire_due,
    referrals_open_missing,
)

__all__ = [
    "OUTCOMES",
    "REASON_LABELS",
    "RESPONSE_SALT",
    "Candidate",
    "directory_candidates",
    "enqueue_offer_emails",
    "offer_context",
    "partner_candidates",
    "rank_candidates",
    "reason_labels",
    "referral_add_candidate",
    "referral_buyer_agree",
    "referral_confirm",
    "referral_emails_relay",
    "referral_list",
    "referral_offer_email_failed",
    "referral_offer_email_send",
    "referral_offer_expire",
    "referral_offer_from_token",
    "referral_open",
    "referral_outcomes",
    "referral_respond",
    "referral_response_token",
    "referral_response_url",
    "referrals_expire_due",
    "referrals_open_missing",
]
