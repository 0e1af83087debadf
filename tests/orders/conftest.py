import datetime

import pytest
from django.utils import timezone

from members.models import MembershipClass
from orders import services
from tests.factories import (
    CapabilityFactory,
    CompanyUserFactory,
    MaterialFactory,
    MembershipFactory,
    ProcessFactory,
)


@pytest.fixture
def buff(db):
    return ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")


@pytest.fixture
def stainless(db):
    return MaterialFactory(code="stainless", name_ja="ステンレス", name_en="Stainless steel")


@pytest.fixture
def inquiry_data(buff, stainless):
    def make(**overrides):
        data = {
            "title": "ステンレス製タンブラーの鏡面研磨",
            "description": "SUS304 タンブラー 500個、鏡面仕上げ",
            "material": stainless,
            "processes": [buff],
            "finish_kind": "grit",
            "finish_grit": 400,
            "quantity": 500,
            "length_mm": 90,
            "width_mm": 90,
            "height_mm": 150,
            "weight_kg": "0.3",
            "desired_delivery_date": timezone.localdate() + datetime.timedelta(days=60),
            "delivery_prefecture": "13",
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def make_lead(network, buff, stainless):
    """A lead company (with a user) able to buff stainless itself."""

    def make():
        user = CompanyUserFactory()
        MembershipFactory(
            network=network, company=user.company, membership_class=MembershipClass.LEAD
        )
        CapabilityFactory(company=user.company, process=buff, material=stainless)
        return user

    return make


@pytest.fixture
def submitted(network, buyer_user, inquiry_data):
    return services.inquiry_submit(actor=buyer_user, network=network, data=inquiry_data())


@pytest.fixture
def open_inquiry(submitted, secretariat_user):
    return services.inquiry_publish(actor=secretariat_user, inquiry=submitted)


def pass_deadline(inquiry):
    """Move the clock past the deadline by moving the deadline into the past."""
    type(inquiry).objects.filter(pk=inquiry.pk).update(
        application_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    inquiry.refresh_from_db()
    return inquiry
