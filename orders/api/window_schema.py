"""OpenAPI responses of the application window's actions (extend, close early, decline):
each names the error codes a partner's program can branch on (`errors[].code`)."""

from drf_spectacular.utils import OpenApiResponse

from core.schema import ConflictErrorResponseSerializer, ValidationErrorResponseSerializer
from orders.error_codes import CallErrorCode as C

from .serializers import InquirySerializer, LeadCallSerializer


def _codes(*codes) -> str:
    return ", ".join(f"`{code}`" for code in codes)


def _responses(ok, *, bad: tuple, forbidden: tuple, conflict: tuple) -> dict:
    return {
        200: ok,
        400: OpenApiResponse(
            ValidationErrorResponseSerializer,
            description=f"A rule of the input: {_codes(*bad)} (`attr` names the field).",
        ),
        403: OpenApiResponse(
            description=f"The caller's role may not: {_codes(*forbidden)}. Nothing changed."
        ),
        404: OpenApiResponse(description="Not an inquiry the caller can see."),
        409: OpenApiResponse(
            ConflictErrorResponseSerializer,
            description=f"The inquiry's state does not allow it: {_codes(*conflict)}.",
        ),
    }


EXTEND = _responses(
    InquirySerializer,
    bad=(C.DEADLINE_NOT_EXTENDED, C.REASON_REQUIRED),
    forbidden=(C.NOT_ALLOWED,),
    conflict=(C.WINDOW_CLOSED,),
)
CLOSE = _responses(
    InquirySerializer,
    bad=(C.REASON_REQUIRED,),
    forbidden=(C.NOT_ALLOWED,),
    conflict=(C.NOT_ALL_LEADS_ANSWERED, C.WINDOW_CLOSED),
)
COMMITTEE_CLOSE = _responses(
    InquirySerializer,
    bad=(C.REASON_REQUIRED, C.VOTES_INSUFFICIENT),
    forbidden=(C.NOT_ALLOWED,),
    conflict=(C.WINDOW_CLOSED,),
)
DECLINE = _responses(
    LeadCallSerializer,
    bad=(C.REASON_REQUIRED,),
    forbidden=(C.NOT_ALLOWED, C.NOT_CALLED),
    conflict=(C.ALREADY_APPLIED, C.WINDOW_CLOSED),
)
