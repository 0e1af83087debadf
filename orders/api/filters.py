import django_filters

from orders.models import Inquiry, InquiryStatus


class InquiryFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InquiryStatus.choices)
    process = django_filters.CharFilter(field_name="processes__code", distinct=True)
    material = django_filters.CharFilter(field_name="material__code")
    submitted_after = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Inquiry
        fields = ["network", "status", "award_mode", "nda_required"]
