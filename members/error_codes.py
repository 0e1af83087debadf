"""Codes of the members app's domain errors (`errors[].code` in the API). Generic ones come
from core.errors.ErrorCode."""

from enum import StrEnum


class AccountErrorCode(StrEnum):
    """Signing in and the account's own settings."""

    # 400: the authenticator's (or a backup) code is wrong or too old.
    OTP_INVALID = "otp_invalid"
    # 401: HTTP Basic for an account that signs in with two factors (use an API key).
    TWO_FACTOR_REQUIRED = "two_factor_required"
