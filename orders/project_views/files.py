"""Files: work standards and photos of defects, to those who may see their record."""

from django.db.models import Q
from django.http import FileResponse, Http404

from members.pages import SIGNED_IN, page

from .. import selectors
from ..models import EvidencePhoto


@page(SIGNED_IN, scope=lambda request: selectors.standard_list(viewer=request.user))
def standard_file(request, standard):
    if not standard.file:
        raise Http404
    return FileResponse(
        standard.file.open("rb"),
        as_attachment=True,
        filename=standard.original_name or "standard",
        content_type=standard.content_type or "application/octet-stream",
    )


def visible_photos(request):
    """A photo of a claim is seen by who sees the claim; of an inspection, by who sees the
    delivery inspected."""
    claims = selectors.claim_list(viewer=request.user).values("pk")
    inspections = selectors.delivery_list(viewer=request.user).values("inspection__pk")
    return EvidencePhoto.objects.filter(
        Q(claim__in=claims) | Q(claim__isnull=True, inspection__in=inspections)
    )


@page(SIGNED_IN, scope=visible_photos)
def evidence_photo(request, photo: EvidencePhoto):
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
