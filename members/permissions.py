"""Who a user is in which network. Every selector and service asks here, nowhere else."""

from functools import cached_property

from django.db.models.expressions import RawSQL

from core.errors import NotAllowed

from .models import MembershipClass, MembershipStatus, NetworkStaff, StaffRole


class Roles:
    """The roles of one user, read once per request (kept on the user object)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def _seats(self) -> list[tuple[int, str]]:
        if not self.user.is_authenticated:
            return []
        loaded = getattr(self.user, "staff_seats_loaded", None)  # with the user, see below
        if loaded is not None:
            return [(int(network), role) for network, role in (s.split(":", 1) for s in loaded)]
        return list(NetworkStaff.objects.filter(user=self.user).values_list("network_id", "role"))

    @property
    def is_platform_admin(self) -> bool:
        return self.user.is_authenticated and self.user.is_superuser

    @cached_property
    def secretariat_network_ids(self) -> frozenset[int]:
        return frozenset(n for n, role in self._seats if role == StaffRole.SECRETARIAT)

    @cached_property
    def committee_network_ids(self) -> frozenset[int]:
        return frozenset(n for n, role in self._seats if role == StaffRole.COMMITTEE)

    @property
    def staff_network_ids(self) -> frozenset[int]:
        return self.secretariat_network_ids | self.committee_network_ids

    @property
    def company_id(self) -> int | None:
        return self.user.company_id if self.user.is_authenticated else None

    @cached_property
    def member_network_ids(self) -> frozenset[int]:
        """Networks in which the user's company holds a live membership."""
        if self.company_id is None:
            return frozenset()
        from .models import Membership

        return frozenset(
            Membership.objects.filter(
                company_id=self.company_id, status=MembershipStatus.ACTIVE
            ).values_list("network_id", flat=True)
        )

    @cached_property
    def lead_network_ids(self) -> frozenset[int]:
        """Networks in which the user's company is an active lead company (受注幹事企業)."""
        if self.company_id is None:
            return frozenset()
        from .models import Membership

        return frozenset(
            Membership.objects.filter(
                company_id=self.company_id,
                membership_class=MembershipClass.LEAD,
                status=MembershipStatus.ACTIVE,
            ).values_list("network_id", flat=True)
        )

    @property
    def is_buyer(self) -> bool:
        return self.user.is_authenticated and hasattr(self.user, "buyer")

    def is_secretariat(self, network_id: int) -> bool:
        return self.is_platform_admin or network_id in self.secretariat_network_ids

    def is_committee(self, network_id: int) -> bool:
        return self.is_platform_admin or network_id in self.committee_network_ids

    def is_staff_of(self, network_id: int) -> bool:
        return self.is_platform_admin or network_id in self.staff_network_ids

    @property
    def is_any_secretariat(self) -> bool:
        return self.is_platform_admin or bool(self.secretariat_network_ids)

    @property
    def is_any_committee(self) -> bool:
        return self.is_platform_admin or bool(self.committee_network_ids)

    @property
    def is_any_staff(self) -> bool:
        """A seat in some network's secretariat or committee (or a platform administrator)."""
        return self.is_platform_admin or bool(self.staff_network_ids)

    def acts_for(self, company_id: int) -> bool:
        return self.company_id is not None and self.company_id == company_id

    # The rules that refuse: services and pages both call these, so a rule has one home.

    def require_secretariat(self, network_id: int, refusal: str) -> None:
        """NotAllowed (403 on the API, a refusal on a page) with `refusal` unless the user
        is the secretariat of the network (or a platform administrator)."""
        if not self.is_secretariat(network_id):
            raise NotAllowed(refusal)

    def require_any_secretariat(self, refusal: str) -> None:
        """NotAllowed with `refusal` unless the user is the secretariat of some network."""
        if not self.is_any_secretariat:
            raise NotAllowed(refusal)


def staff_seats_column() -> RawSQL:
    """PostgreSQL: a user's staff seats as an array of "network_id:role", for loading with the
    user (members.backends) instead of a query of their own on every request. Only table and
    column names from the models, no input."""
    seats = NetworkStaff._meta
    user = seats.get_field("user")
    sql = (
        f'ARRAY(SELECT s."{seats.get_field("network").column}" || \':\' || s."role"'  # noqa: S608
        f' FROM "{seats.db_table}" s'
        f' WHERE s."{user.column}" = "{user.related_model._meta.db_table}"."id")'
    )
    return RawSQL(sql, [])  # noqa: S611


def roles_of(user) -> Roles:
    roles = getattr(user, "_roles_cache", None)
    if roles is None or roles.user is not user:
        roles = Roles(user)
        if user is not None:
            user._roles_cache = roles
    return roles
