"""Display helpers for the inquiry-flow pages: yen, finishes, check marks, status badges."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from members.models import FinishKind
from members.templatetags.members_tags import local_name

register = template.Library()

STATUS_BADGES = {
    "submitted": "attention",
    "question": "warn",
    "committee": "warn",
    "open": "ok",
    "evaluation": "attention",
    "awarded": "ok",
    "rejected": "muted",
    "referral": "muted",
    "withdrawn": "muted",
}


@register.filter
def yen(value) -> str:
    """1200000 → ¥1,200,000."""
    if value is None or value == "":
        return "—"
    try:
        return f"¥{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def status_badge(inquiry) -> str:
    return format_html(
        '<span class="badge status-{} {}">{}</span>',
        inquiry.status,
        STATUS_BADGES.get(inquiry.status, ""),
        inquiry.get_status_display(),
    )


@register.filter
def finish_wanted(inquiry) -> str:
    """The finish as the buyer asked for it: #400, mirror, Ra 0.1 µm, or no requirement."""
    if inquiry.finish_kind == FinishKind.GRIT and inquiry.finish_grit:
        return f"#{inquiry.finish_grit}"
    if inquiry.finish_kind == FinishKind.RA and inquiry.finish_ra_input is not None:
        return f"Ra {inquiry.finish_ra_input.normalize():f} µm"
    if inquiry.finish_kind:
        return inquiry.get_finish_kind_display()
    return _("No particular requirement")


@register.filter
def process_names(inquiry) -> str:
    return "、".join(local_name(p) for p in inquiry.processes.all())


@register.filter
def check(value) -> str:
    """✓ or ✗, with words for screen readers."""
    if value:
        return format_html(
            '<span class="ok-mark" title="{0}">✓<span class="visually-hidden">{0}</span></span>',
            _("yes"),
        )
    return format_html(
        '<span class="no-mark" title="{0}">✗<span class="visually-hidden">{0}</span></span>',
        _("no"),
    )


@register.filter
def deadline_passed(inquiry) -> bool:
    return bool(inquiry.application_deadline and inquiry.application_deadline <= timezone.now())


@register.filter
def dims(inquiry) -> str:
    return f"{inquiry.length_mm:,} × {inquiry.width_mm:,} × {inquiry.height_mm:,} mm"


@register.filter
def kg(value) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f} kg" if hasattr(value, "normalize") else f"{value} kg"


@register.filter
def score(value) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}"


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def widget_kind(bound_field) -> str:
    """How the field is laid out: a group of choices, a single tick box, or a plain input."""
    from django import forms

    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "group"
    if isinstance(widget, forms.CheckboxInput):
        return "check"
    return "input"
