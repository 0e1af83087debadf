"""Checks on uploaded drawings and photos: size, and the type read from the content (the
file name proves nothing)."""

import secrets
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SNIFFED_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/gif"}
# CAD formats are text: recognised by their opening lines.
STEP_MAGIC = b"ISO-10303-21;"


def _cad_type(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(STEP_MAGIC):
        return "model/step"
    lines = [line.strip() for line in text.splitlines()[:4]]
    if len(lines) >= 2 and lines[0] == b"0" and lines[1] == b"SECTION":
        return "image/vnd.dxf"
    return None


def check_attachment(upload) -> str:
    """Return the content type of an acceptable upload, or raise a ValidationError naming
    the `file` field."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The file is larger than %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES >> 20},
                    code="file_too_large",
                )
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": ValidationError(_("The file is empty."), code="file_empty")})
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    content_type = kind.mime if kind and kind.mime in SNIFFED_TYPES else _cad_type(head)
    if content_type is None:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("Only PDF, JPEG, PNG, WebP, GIF, DXF and STEP files are accepted."),
                    code="file_type",
                )
            }
        )
    return content_type


def random_name(original: str) -> str:
    """A stored name that reveals nothing and cannot collide or traverse folders."""
    suffix = PurePath(original).suffix.lower()[:10]
    return f"{secrets.token_hex(16)}{suffix if suffix.isascii() else ''}"
