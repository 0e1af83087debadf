"""Factories of the orders app. They write rows straight to the database, in the state asked
for (an awarded inquiry, an accepted package): for a state reached through the services, with
its events and status log, use tests/scenarios.py."""

import datetime
import itertools

import factory
from django.utils import timezone

from orders.models import (
    Agreement,
    AgreementKind,
    Application,
    Award,
    AwardMode,
    Claim,
    CommitteeDecision,
    ContractTemplate,
    DeadlineExtension,
    Delivery,
    EarlyClose,
    EvidencePhoto,
    GuestInquiryRequest,
    Inquiry,
    InquiryAttachment,
    InquiryMessage,
    InquiryStage,
    Inspection,
    Invitation,
    LeadCall,
    MemberCharge,
    Project,
    ReferenceSequence,
    Shipment,
    WorkPackage,
    WorkStandard,
)

from .members import (
    BuyerFactory,
    CompanyFactory,
    CompanyUserFactory,
    MaterialFactory,
    NetworkFactory,
    ProcessFactory,
    UserFactory,
)

_references = itertools.count(1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _in_days(days: int):
    return factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=days))


class InquiryFactory(factory.django.DjangoModelFactory):
    """A submitted inquiry: 500 stainless tumblers to polish, delivered to Tokyo in 60 days.
    `processes` (a list) sets its processes after it is saved."""

    class Meta:
        model = Inquiry
        skip_postgeneration_save = True

    network = factory.SubFactory(NetworkFactory)
    reference = factory.LazyFunction(lambda: f"TEST-{next(_references):06d}")
    buyer = factory.SubFactory(BuyerFactory)
    entered_by = factory.SelfAttribute("buyer.user")
    title = "ステンレス製タンブラーの鏡面研磨"
    description = "SUS304 タンブラー 500個、鏡面仕上げ"
    material = factory.SubFactory(MaterialFactory, code="stainless")
    finish_kind = "grit"
    finish_grit = 400
    quantity = 500
    length_mm = 90
    width_mm = 90
    height_mm = 150
    weight_kg = "0.30"
    desired_delivery_date = _in_days(60)
    delivery_prefecture = "13"

    @factory.post_generation
    def processes(self, create, extracted, **kwargs):
        if create and extracted:
            self.processes.set(extracted)


class InquiryAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InquiryAttachment

    inquiry = factory.SubFactory(InquiryFactory)
    file = factory.django.FileField(filename="drawing.png", data=PNG)
    original_name = "drawing.png"
    content_type = "image/png"
    size = len(PNG)
    uploaded_by = factory.SelfAttribute("inquiry.entered_by")


class InquiryMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InquiryMessage

    inquiry = factory.SubFactory(InquiryFactory)
    author = factory.SubFactory(UserFactory)
    kind = InquiryMessage.Kind.QUESTION
    body = "材質証明書は必要ですか。"


class CommitteeDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeDecision

    inquiry = factory.SubFactory(InquiryFactory, status="committee")
    accept = True
    votes_for = 4
    votes_against = 1
    reason = "会員の技術で対応可能"
    decided_by = factory.SubFactory(UserFactory)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An active application of a lead company (its user submits it)."""

    class Meta:
        model = Application
        exclude = ("lead",)

    inquiry = factory.SubFactory(InquiryFactory, status="open")
    lead = factory.SubFactory(CompanyUserFactory)
    company = factory.SelfAttribute("lead.company")
    submitted_by = factory.SelfAttribute("lead")
    price_yen = 1_000_000
    lead_time_days = 20


class AwardFactory(factory.django.DjangoModelFactory):
    """A confirmed award of its application's inquiry."""

    class Meta:
        model = Award

    application = factory.SubFactory(ApplicationFactory, inquiry__status="awarded")
    inquiry = factory.SelfAttribute("application.inquiry")
    company = factory.SelfAttribute("application.company")
    mode = AwardMode.BID
    status = "confirmed"
    confirmed_at = factory.LazyFunction(timezone.now)


class ReferenceSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferenceSequence
        django_get_or_create = ("network", "year")

    network = factory.SubFactory(NetworkFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)


class InquiryStageFactory(factory.django.DjangoModelFactory):
    """Stage 1 of a staged inquiry: its own inquiry, in the same network by default."""

    class Meta:
        model = InquiryStage

    parent = factory.SubFactory(InquiryFactory, status="staged")
    sequence = 1
    network = factory.SelfAttribute("parent.network")
    inquiry = factory.SubFactory(
        InquiryFactory,
        network=factory.SelfAttribute("..network"),
        buyer=factory.SelfAttribute("..parent.buyer"),
    )


class LeadCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadCall

    inquiry = factory.SubFactory(InquiryFactory, status="open")
    company = factory.SubFactory(CompanyFactory)


class DeadlineExtensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeadlineExtension

    inquiry = factory.SubFactory(InquiryFactory, status="open")
    previous_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=2))
    new_deadline = factory.LazyAttribute(lambda o: o.previous_deadline + datetime.timedelta(days=3))
    reason = "図面の差し替え"
    extended_by = factory.SubFactory(UserFactory)


class EarlyCloseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarlyClose

    inquiry = factory.SubFactory(InquiryFactory, status="evaluation")
    basis = EarlyClose.Basis.ALL_ANSWERED
    reason = "全ての受注幹事企業が回答済み"
    scheduled_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=2))
    closed_by = factory.SubFactory(UserFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project in formation, led by its lead's company (the lead's user opened it)."""

    class Meta:
        model = Project
        exclude = ("lead_user",)

    inquiry = factory.SubFactory(InquiryFactory, status="awarded")
    network = factory.SelfAttribute("inquiry.network")
    lead_user = factory.SubFactory(CompanyUserFactory)
    lead = factory.SelfAttribute("lead_user.company")
    opened_by = factory.SelfAttribute("lead_user")
    order_value_yen = 1_000_000
    delivery_date = _in_days(40)


class WorkPackageFactory(factory.django.DjangoModelFactory):
    """An open package of the project (no member yet). For a taken one pass `member` and a
    status; `self_performed=True` with `member=project.lead` for the lead's own."""

    class Meta:
        model = WorkPackage

    project = factory.SubFactory(ProjectFactory)
    process = factory.SubFactory(ProcessFactory, code="buff")
    material = factory.SelfAttribute("project.inquiry.material")
    quantity = 500
    unit_price_yen = 1200
    due_date = _in_days(20)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    package = factory.SubFactory(WorkPackageFactory)
    company = factory.SubFactory(CompanyFactory)
    invited_by = factory.SelfAttribute("package.project.opened_by")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=48))


class ContractTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractTemplate
        django_get_or_create = ("network", "kind")

    network = factory.SubFactory(NetworkFactory)
    kind = AgreementKind.BASIC
    body = "基本合意書: 受注幹事企業と会員企業は誠実に協力する。"


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    project = factory.SubFactory(ProjectFactory)
    member = factory.SubFactory(CompanyFactory)
    kind = AgreementKind.BASIC
    body = "基本合意書"


class WorkStandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkStandard

    package = factory.SubFactory(WorkPackageFactory)
    title = "鏡面手順"
    note = "#400 → #800"
    attached_by = factory.SelfAttribute("package.project.opened_by")


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery of the package's whole quantity by a member user (one is made if the
    package has no member; pass `shipped_by` to name it)."""

    class Meta:
        model = Delivery

    package = factory.SubFactory(
        WorkPackageFactory, status="shipped", member=factory.SubFactory(CompanyFactory)
    )
    quantity = factory.SelfAttribute("package.quantity")
    shipped_by = factory.SubFactory(UserFactory)


class InspectionFactory(factory.django.DjangoModelFactory):
    """Everything received passed."""

    class Meta:
        model = Inspection

    delivery = factory.SubFactory(DeliveryFactory)
    quantity_received = factory.SelfAttribute("delivery.quantity")
    quantity_passed = factory.SelfAttribute("quantity_received")
    quantity_rejected = 0
    result = Inspection.Result.PASSED
    inspected_by = factory.SelfAttribute("delivery.package.project.opened_by")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    project = factory.SubFactory(ProjectFactory, status="delivered")
    quantity = factory.SelfAttribute("project.inquiry.quantity")
    shipped_by = factory.SelfAttribute("project.opened_by")


class ClaimFactory(factory.django.DjangoModelFactory):
    """An open claim of the buyer on a shipment."""

    class Meta:
        model = Claim

    shipment = factory.SubFactory(ShipmentFactory)
    quantity = 2
    description = "傷あり"
    raised_by = factory.SelfAttribute("shipment.project.inquiry.entered_by")


class EvidencePhotoFactory(factory.django.DjangoModelFactory):
    """A photo of a claim (pass `inspection=` and `claim=None` for an inspection's)."""

    class Meta:
        model = EvidencePhoto

    claim = factory.SubFactory(ClaimFactory)
    file = factory.django.FileField(filename="scratch.png", data=PNG)
    original_name = "scratch.png"
    content_type = "image/png"
    uploaded_by = factory.SubFactory(UserFactory)


class MemberChargeFactory(factory.django.DjangoModelFactory):
    """A late-delivery penalty charged to the package's member."""

    class Meta:
        model = MemberCharge

    package = factory.SubFactory(
        WorkPackageFactory, status="accepted", member=factory.SubFactory(CompanyFactory)
    )
    member = factory.SelfAttribute("package.member")
    kind = MemberCharge.Kind.LATE
    amount_yen = 5000
    reason = "納期遅延 2日"
    charged_by = factory.SelfAttribute("package.project.opened_by")


class GuestInquiryRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuestInquiryRequest

    network = factory.SubFactory(NetworkFactory)
    email = factory.Sequence(lambda n: f"guest{n}@example.jp")
    payload = factory.LazyFunction(lambda: {"title": "ステンレス製タンブラーの鏡面研磨"})
