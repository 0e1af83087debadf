"""Factories of the members app. Valid corporate numbers are generated with their check
digit so companies pass the same validation as real input."""

import datetime
import random

import factory
from django.utils import timezone

from members.models import (
    Buyer,
    Capability,
    CertifiedWorker,
    Company,
    CompanyContact,
    DirectoryEntry,
    Equipment,
    FinishKind,
    LeadAppointment,
    Material,
    Membership,
    MembershipClass,
    MembershipFee,
    Network,
    NetworkStaff,
    PasswordResetRequest,
    Probation,
    ProbationRule,
    Process,
    Recommendation,
    StaffRole,
    User,
)
from members.validators import corporate_number_check_digit

DEFAULT_FEES = {
    MembershipClass.LEAD: 35_000,
    MembershipClass.JOINT_ORDER: 15_000,
    MembershipClass.SUPPORTING: 30_000,
    MembershipClass.SKILL_DIVISION: 5_000,
}


def make_corporate_number(seed: int) -> str:
    base = f"{seed:012d}"[-12:]
    return f"{corporate_number_check_digit(base)}{base}"


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"テストネットワーク{n}")
    name_en = factory.Sequence(lambda n: f"Test network {n}")
    slug = factory.Sequence(lambda n: f"net-{n}")
    prefecture = "15"

    @factory.post_generation
    def fees(self, create, extracted, **kwargs):
        if not create:
            return
        for membership_class, fee in (extracted or DEFAULT_FEES).items():
            MembershipFee.objects.create(
                network=self, membership_class=membership_class, annual_fee_yen=fee
            )


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    legal_name = factory.Sequence(lambda n: f"株式会社テスト研磨{n}")
    legal_name_kana = factory.Sequence(lambda n: f"てすとけんま{n}")
    corporate_number = factory.Sequence(lambda n: make_corporate_number(1_000_000 + n))
    invoice_registration_number = factory.LazyAttribute(lambda o: f"T{o.corporate_number}")
    postal_code = "959-1200"
    prefecture = "15"
    city = "燕市"
    latitude = "37.673000"
    longitude = "138.882000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.jp")
    preferred_language = "ja"
    password = factory.django.Password("pass-for-tests-1")


class CompanyUserFactory(UserFactory):
    company = factory.SubFactory(CompanyFactory)


class NetworkStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NetworkStaff

    network = factory.SubFactory(NetworkFactory)
    user = factory.SubFactory(UserFactory)
    role = StaffRole.SECRETARIAT


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    network = factory.SubFactory(NetworkFactory)
    company = factory.SubFactory(CompanyFactory)
    membership_class = MembershipClass.JOINT_ORDER
    joined_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400))
    annual_fee_yen = factory.LazyAttribute(lambda o: DEFAULT_FEES[o.membership_class])


class ProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Process
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"process-{n}")
    name_ja = factory.Sequence(lambda n: f"加工{n}")
    name_en = factory.Sequence(lambda n: f"Process {n}")


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"material-{n}")
    name_ja = factory.Sequence(lambda n: f"材質{n}")
    name_en = factory.Sequence(lambda n: f"Material {n}")


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capability

    company = factory.SubFactory(CompanyFactory)
    process = factory.SubFactory(ProcessFactory)
    material = factory.SubFactory(MaterialFactory)
    max_length_mm = 500
    max_width_mm = 300
    max_height_mm = 200
    max_weight_kg = "20.00"
    finish_kind = FinishKind.GRIT
    finish_grit = 400
    finish_ra_um = "0.200"
    lot_min = 1
    lot_max = 1000
    lead_time_days = 10
    spare_capacity_per_month = 500


class DirectoryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirectoryEntry

    network = factory.SubFactory(NetworkFactory)
    company = factory.SubFactory(CompanyFactory)
    consents_to_referrals = True
    consent_recorded_on = factory.LazyFunction(timezone.localdate)


class LeadAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadAppointment

    network = factory.SubFactory(NetworkFactory)
    company = factory.SubFactory(CompanyFactory)
    opened_by = factory.SubFactory(UserFactory)


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Buyer

    user = factory.SubFactory(UserFactory)
    kind = Buyer.Kind.COMPANY
    name = factory.Sequence(lambda n: f"発注 太郎{n}")
    organisation = factory.Sequence(lambda n: f"株式会社バイヤー{n}")
    email = factory.LazyAttribute(lambda o: f"buyer{random.randint(1, 10**9)}@example.jp")


class MembershipFeeFactory(factory.django.DjangoModelFactory):
    """A network's fee for one class (NetworkFactory already gives every class one)."""

    class Meta:
        model = MembershipFee
        django_get_or_create = ("network", "membership_class")

    network = factory.SubFactory(NetworkFactory)
    membership_class = MembershipClass.JOINT_ORDER
    annual_fee_yen = factory.LazyAttribute(lambda o: DEFAULT_FEES[o.membership_class])


class CompanyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyContact

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"担当 花子{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.jp")


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recommendation

    appointment = factory.SubFactory(LeadAppointmentFactory)
    recommender = factory.SubFactory(CompanyFactory)
    recommended_by = factory.SubFactory(UserFactory)


class CertifiedWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertifiedWorker

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"研磨 一郎{n}")
    grade = CertifiedWorker.Grade.FIRST


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    company = factory.SubFactory(CompanyFactory)
    name = "バフ研磨機"


class ProbationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProbationRule
        django_get_or_create = ("network",)

    network = factory.SubFactory(NetworkFactory)
    min_on_time_rate_pct = 80
    max_package_value_yen = 300_000


class ProbationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Probation

    membership = factory.SubFactory(MembershipFactory)
    reason = "納期遵守率 60% (基準 80%)"
    max_package_value_yen = 300_000
    since = factory.LazyFunction(timezone.now)
    until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=90))


class PasswordResetRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PasswordResetRequest

    email = factory.Sequence(lambda n: f"reset{n}@example.jp")
