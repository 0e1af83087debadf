import django_filters
from django.db.models import Exists, OuterRef

from members.models import (
    Capability,
    Company,
    DirectoryEntry,
    LeadAppointment,
    Membership,
    MembershipClass,
    MembershipStatus,
)
from members.prefectures import PREFECTURE_CHOICES


class CapabilityFilter(django_filters.FilterSet):
    process = django_filters.CharFilter(field_name="process__code")
    material = django_filters.CharFilter(field_name="material__code")
    prefecture = django_filters.ChoiceFilter(
        field_name="company__prefecture", choices=PREFECTURE_CHOICES
    )
    finish_ra_at_most = django_filters.NumberFilter(
        field_name="finish_ra_um", lookup_expr="lte", label="Reaches at least this finish (Ra µm)"
    )
    min_length_mm = django_filters.NumberFilter(field_name="max_length_mm", lookup_expr="gte")
    min_width_mm = django_filters.NumberFilter(field_name="max_width_mm", lookup_expr="gte")
    min_height_mm = django_filters.NumberFilter(field_name="max_height_mm", lookup_expr="gte")
    min_weight_kg = django_filters.NumberFilter(field_name="max_weight_kg", lookup_expr="gte")
    min_spare_capacity = django_filters.NumberFilter(
        field_name="spare_capacity_per_month", lookup_expr="gte"
    )

    class Meta:
        model = Capability
        fields = ["company"]


class CapabilityPublicFilter(CapabilityFilter):
    """For viewers who may not see spare capacity (members.selectors.sees_member_details):
    no filter on it, so it cannot be inferred either."""

    min_spare_capacity = None


class CompanyFilter(django_filters.FilterSet):
    """Filters on capabilities match companies having one capability that meets all of them."""

    process = django_filters.CharFilter(method="filter_capability")
    material = django_filters.CharFilter(method="filter_capability")
    finish_ra_at_most = django_filters.NumberFilter(method="filter_capability")
    min_length_mm = django_filters.NumberFilter(method="filter_capability")
    min_width_mm = django_filters.NumberFilter(method="filter_capability")
    min_height_mm = django_filters.NumberFilter(method="filter_capability")
    min_spare_capacity = django_filters.NumberFilter(method="filter_capability")
    prefecture = django_filters.ChoiceFilter(choices=PREFECTURE_CHOICES)
    network = django_filters.NumberFilter(method="filter_membership")
    membership_class = django_filters.ChoiceFilter(
        choices=MembershipClass.choices, method="filter_membership"
    )

    class Meta:
        model = Company
        fields = ["prefecture", "city"]

    CAPABILITY_LOOKUPS = {
        "process": "process__code",
        "material": "material__code",
        "finish_ra_at_most": "finish_ra_um__lte",
        "min_length_mm": "max_length_mm__gte",
        "min_width_mm": "max_width_mm__gte",
        "min_height_mm": "max_height_mm__gte",
        "min_spare_capacity": "spare_capacity_per_month__gte",
    }

    def filter_capability(self, queryset, name, value):
        # Applied once for all capability filters together (see filter_queryset).
        return queryset

    def filter_membership(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        cap_filters = {
            lookup: data[name]
            for name, lookup in self.CAPABILITY_LOOKUPS.items()
            if data.get(name) not in (None, "")
        }
        if cap_filters:
            queryset = queryset.filter(
                Exists(Capability.objects.filter(company=OuterRef("pk"), **cap_filters))
            )
        member_filters = {}
        if data.get("network"):
            member_filters["network_id"] = data["network"]
        if data.get("membership_class"):
            member_filters["membership_class"] = data["membership_class"]
        if member_filters:
            queryset = queryset.filter(
                Exists(
                    Membership.objects.filter(
                        company=OuterRef("pk"), status=MembershipStatus.ACTIVE, **member_filters
                    )
                )
            )
        return queryset


class CompanyPublicFilter(CompanyFilter):
    """CompanyFilter without the spare-capacity filter (see CapabilityPublicFilter)."""

    min_spare_capacity = None


class MembershipFilter(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["network", "company", "membership_class", "status"]


class AppointmentFilter(django_filters.FilterSet):
    class Meta:
        model = LeadAppointment
        fields = ["network", "company", "status"]


class DirectoryFilter(django_filters.FilterSet):
    prefecture = django_filters.ChoiceFilter(
        field_name="company__prefecture", choices=PREFECTURE_CHOICES
    )
    process = django_filters.CharFilter(
        field_name="company__capabilities__process__code", distinct=True
    )

    class Meta:
        model = DirectoryEntry
        fields = ["network", "consents_to_referrals"]
