"""Accepted projects built straight in the database by the factories for settlement tests (the
real flow is tested once, in test_settlement.py), with fixed acceptance dates in past months."""

import datetime
import itertools
from zoneinfo import ZoneInfo

from billing import close
from billing.models import Document, DocumentKind, DocumentStatus
from members.models import MembershipClass
from orders.models import InquiryStatus, PackageStatus, Project, ProjectStatus
from tests.factories import (
    BuyerFactory,
    CompanyUserFactory,
    DeliveryFactory,
    InquiryFactory,
    InspectionFactory,
    MemberChargeFactory,
    MembershipFactory,
    ProjectFactory,
    WorkPackageFactory,
)

TOKYO = ZoneInfo("Asia/Tokyo")
OCTOBER = datetime.date(2026, 10, 1)
MID_OCTOBER = datetime.datetime(2026, 10, 15, 10, 0, tzinfo=TOKYO)
_references = itertools.count(1)


def tokyo(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TOKYO)


class Books:
    """Builds companies and accepted projects of one network for settlement tests."""

    def __init__(self, network, buff, stainless):
        self.network = network
        self.buff = buff
        self.stainless = stainless

    def company_user(
        self,
        *,
        membership_class=MembershipClass.JOINT_ORDER,
        joined_on=datetime.date(2020, 4, 1),
        rounding="down",
        registered=True,
        network=None,
    ):
        user = CompanyUserFactory(company__tax_rounding=rounding)
        if not registered:
            type(user.company).objects.filter(pk=user.company_id).update(
                invoice_registration_number=""
            )
            user.company.refresh_from_db()
        MembershipFactory(
            network=network or self.network,
            company=user.company,
            membership_class=membership_class,
            joined_on=joined_on,
        )
        return user

    def lead_user(self, **kwargs):
        return self.company_user(membership_class=MembershipClass.LEAD, **kwargs)

    def project(
        self,
        *,
        lead,
        buyer=None,
        order_value=1_000_000,
        accepted_at=MID_OCTOBER,
        terms=(31, 1, 31),
        packages=(),
        status=ProjectStatus.ACCEPTED,
    ) -> Project:
        """`packages`: dicts with `member` (a company user; None: the lead does it itself),
        `quantity`, `unit_price`, `passed` (list of inspected lots; default the quantity)
        and `charges` (amounts charged to the member for lateness)."""
        buyer = buyer or BuyerFactory()
        inquiry = InquiryFactory(
            network=self.network,
            reference=f"BILL-{next(_references):05d}",
            buyer=buyer,
            status=InquiryStatus.AWARDED,
            title="タンブラー鏡面研磨",
            description="SUS304",
            material=self.stainless,
            finish_kind="",
            finish_grit=None,
            desired_delivery_date=datetime.date(2026, 12, 1),
        )
        closing, offset, pay = terms
        project = ProjectFactory(
            inquiry=inquiry,
            lead_user=lead,
            status=status,
            order_value_yen=order_value,
            delivery_date=datetime.date(2026, 12, 1),
            payment_closing_day=closing,
            payment_month_offset=offset,
            payment_day=pay,
            accepted_at=accepted_at if status == ProjectStatus.ACCEPTED else None,
        )
        for spec in packages:
            worker = spec.get("member")
            quantity = spec["quantity"]
            package = WorkPackageFactory(
                project=project,
                process=self.buff,
                material=self.stainless,
                quantity=quantity,
                unit_price_yen=spec["unit_price"],
                due_date=datetime.date(2026, 10, 10),
                member=worker.company if worker else lead.company,
                self_performed=worker is None,
                status=PackageStatus.ACCEPTED,
            )
            for lot in spec.get("passed", [quantity]):
                delivery = DeliveryFactory(package=package, quantity=lot, shipped_by=worker or lead)
                InspectionFactory(delivery=delivery, inspected_by=lead)  # everything passed
            for amount in spec.get("charges", []):
                self.charge(package, amount, by=lead)
        return project

    def charge(self, package, amount, *, by, reason="納期遅延 2日"):
        return MemberChargeFactory(package=package, amount_yen=amount, reason=reason, charged_by=by)

    def close(self, period=OCTOBER, actor=None):
        return close.monthly_close(network=self.network, period=period, actor=actor)


def issued(**filters):
    return Document.objects.filter(status=DocumentStatus.ISSUED, **filters)


def statement_of(project, company):
    return issued(kind=DocumentKind.STATEMENT, project=project).get(issuer_company=company)


def invoice_of(project):
    return issued(kind=DocumentKind.INVOICE, project=project).get()
