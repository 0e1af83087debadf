"""Factories of the billing app: runs, documents that add up, their lines and payments. A
document issued by the real close comes from `tests.scenarios.closed_month`."""

import datetime

import factory
from django.utils import timezone

from billing.models import (
    Document,
    DocumentCounter,
    DocumentKind,
    DocumentLine,
    DocumentTaxLine,
    Payment,
    RunKind,
    SettlementRun,
)

from .members import CompanyFactory, NetworkFactory, UserFactory


def _first_of_last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class SettlementRunFactory(factory.django.DjangoModelFactory):
    """A running monthly close of last month."""

    class Meta:
        model = SettlementRun

    network = factory.SubFactory(NetworkFactory)
    kind = RunKind.MONTHLY_CLOSE
    period = factory.LazyFunction(_first_of_last_month)


class DocumentFactory(factory.django.DjangoModelFactory):
    """An issued commission of the run's network to a lead company: 10,000 yen + 10 % tax.
    (An invoice needs `recipient_buyer`, a statement or invoice an `issuer_company`: the
    model's constraints say which.)"""

    class Meta:
        model = Document

    run = factory.SubFactory(SettlementRunFactory)
    network = factory.SelfAttribute("run.network")
    kind = DocumentKind.COMMISSION
    number = factory.Sequence(lambda n: f"C-TEST-{n:06d}")
    source_key = factory.Sequence(lambda n: f"test:commission:{n}")
    issuer_name = factory.SelfAttribute("network.name")
    issuer_unregistered = False
    recipient_company = factory.SubFactory(CompanyFactory)
    recipient_name = factory.SelfAttribute("recipient_company.legal_name")
    transaction_date = factory.SelfAttribute("run.period")
    issue_date = factory.LazyFunction(timezone.localdate)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + datetime.timedelta(days=30))
    rounding = "down"
    subtotal_yen = 10_000
    tax_yen = 1_000
    total_yen = factory.LazyAttribute(lambda o: o.subtotal_yen + o.tax_yen)
    content_digest = "0" * 64


class DocumentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentLine

    document = factory.SubFactory(DocumentFactory)
    position = factory.Sequence(lambda n: n + 1)
    description = "受注手数料"
    quantity = 1
    unit_price_yen = 10_000
    tax_rate = 10
    amount_yen = factory.LazyAttribute(lambda o: o.quantity * o.unit_price_yen)


class DocumentTaxLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentTaxLine

    document = factory.SubFactory(DocumentFactory)
    rate = 10
    taxable_yen = factory.SelfAttribute("document.subtotal_yen")
    tax_yen = factory.SelfAttribute("document.tax_yen")


class DocumentCounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentCounter
        django_get_or_create = ("network", "prefix", "year")

    network = factory.SubFactory(NetworkFactory)
    prefix = "C"
    year = factory.LazyFunction(lambda: timezone.localdate().year)


class PaymentFactory(factory.django.DjangoModelFactory):
    """The document paid in full, today."""

    class Meta:
        model = Payment

    document = factory.SubFactory(DocumentFactory)
    amount_yen = factory.SelfAttribute("document.total_yen")
    paid_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.SubFactory(UserFactory)
