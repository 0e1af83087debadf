"""Small display helpers for the member pages: names in the reader's language."""

from django import template
from django.utils.translation import get_language

from members.models import FinishKind
from members.prefectures import PREFECTURES

register = template.Library()

_PREFECTURE_NAMES = {code: (ja, en) for code, ja, en in PREFECTURES}


def is_japanese() -> bool:
    return (get_language() or "ja").startswith("ja")


def local_name(obj) -> str:
    """A catalogue entry's or network's name in the active language (Japanese first)."""
    if obj is None:
        return ""
    if hasattr(obj, "name_ja"):
        return obj.name_ja if is_japanese() or not obj.name_en else obj.name_en
    name = getattr(obj, "name", None) or getattr(obj, "legal_name", "")
    if not is_japanese() and getattr(obj, "name_en", ""):
        return obj.name_en
    return name


def prefecture_name(code: str) -> str:
    names = _PREFECTURE_NAMES.get(code or "")
    if names is None:
        return ""
    return names[0] if is_japanese() else names[1]


register.filter("local_name", local_name)
register.filter("prefecture_name", prefecture_name)


@register.filter
def thousands(value) -> str:
    """1234567 → 1,234,567 (Japanese and English both group by thousands)."""
    if value is None or value == "":
        return ""
    try:
        return f"{value:,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def finish_display(capability) -> str:
    """The finish as the company entered it: #400, mirror, Ra 0.1 µm."""
    if capability.finish_kind == FinishKind.GRIT and capability.finish_grit:
        return f"#{capability.finish_grit}"
    if capability.finish_kind == FinishKind.RA and capability.finish_ra_input is not None:
        return f"Ra {capability.finish_ra_input.normalize():f} µm"
    return capability.get_finish_kind_display()
