"""Files: work standards and photos of defects, to those who may see their record."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from .. import selectors
from ..models import EvidencePhoto


@login_required
def standard_file(request, pk: int):
    standard = get_object_or_404(selectors.standard_list(viewer=request.user), pk=pk)
    if not standard.file:
        raise Http404
    return FileResponse(
        standard.file.open("rb"),
        as_attachment=True,
        filename=standard.original_name or "standard",
        content_type=standard.content_type or "application/octet-stream",
    )


@login_required
def evidence_photo(request, pk: int):
    photo = get_object_or_404(EvidencePhoto, pk=pk)
    if photo.claim_id:
        visible = selectors.claim_list(viewer=request.user).filter(pk=photo.claim_id).exists()
    else:
        visible = (
            selectors.delivery_list(viewer=request.user)
            .filter(inspection__pk=photo.inspection_id)
            .exists()
        )
    if not visible:
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
