"""Every model of the project's apps has a factory in tests/factories/, and each factory makes
a row the model accepts: saved (the database's constraints) and full_clean() (fields,
choices, validators, the constraints again in Python)."""

import inspect

import factory
import pytest
from django.apps import apps

import tests.factories as factories
from billing.models import RunStatus
from orders.models import InquiryStatus, PackageStatus, ProjectStatus
from tests import scenarios
from tests.factories import NetworkFactory

PROJECT_APPS = ("core", "members", "orders", "billing", "brokerage")
MODELS = [model for app in PROJECT_APPS for model in apps.get_app_config(app).get_models()]

# The factory of each model: the one named after it (CompanyUserFactory is a User's too).
FACTORIES = {
    klass._meta.model: klass
    for name, klass in inspect.getmembers(factories, inspect.isclass)
    if issubclass(klass, factory.django.DjangoModelFactory)
    and name == f"{klass._meta.model.__name__}Factory"
}

# Fields whose value the model's validation cannot check: a stored password hash (UserFactory
# sets one), the API key's hash (made by the key manager).
NOT_CLEANED = {"members.User": {"password"}, "brokerage.PartnerApiKey": {"hashed_key", "id"}}


def _left_null(row) -> set[str]:
    """Fields the database lets be null (`null=True`) that the row leaves empty: full_clean()
    would ask a form for them (`blank=False`), the services fill them later (who confirmed)."""
    return {
        field.name
        for field in row._meta.concrete_fields
        if field.null and not field.blank and getattr(row, field.attname) is None
    }


def test_every_model_has_a_factory():
    missing = [model._meta.label for model in MODELS if model not in FACTORIES]
    assert not missing, f"no factory in tests/factories/ for {missing}"


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # attachments and photos write their files here


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_each_factory_makes_a_valid_row(db, _media, model):
    row = FACTORIES[model]()
    assert row.pk is not None
    row.full_clean(exclude=NOT_CLEANED.get(model._meta.label, set()) | _left_null(row))
    # A second row of the same kind does not collide with the first (sequences, not constants).
    assert FACTORIES[model]().pk != row.pk


# --- The scenarios reach the state they are named after ------------------------------


def test_submitted_and_open_inquiries(db):
    assert scenarios.submitted_inquiry().inquiry.status == InquiryStatus.SUBMITTED
    s = scenarios.open_inquiry(quantity=200)
    assert (s.inquiry.status, s.inquiry.quantity) == (InquiryStatus.OPEN, 200)


def test_an_awarded_inquiry_with_a_team_of_two(db):
    network = NetworkFactory()
    lead = scenarios.lead_user(network)
    s = scenarios.awarded_inquiry(lead=lead, team=2, network=network)
    assert s.inquiry.status == InquiryStatus.AWARDED
    assert s.inquiry.award.company == lead.company and s.project.lead == lead.company
    assert [p.member for p in s.packages] == [m.company for m in s.members]
    assert len({m.company for m in s.members}) == 2
    assert {p.status for p in s.packages} == {PackageStatus.READY}


def test_a_project_in_progress(db):
    s = scenarios.project_in_progress()
    assert s.project.status == ProjectStatus.IN_PROGRESS
    assert [p.status for p in s.packages] == [PackageStatus.IN_PROGRESS]


def test_a_closed_month(db):
    s = scenarios.closed_month(projects_accepted=2)
    assert s.run.status == RunStatus.COMPLETED
    assert s.run.documents.filter(project=s.project).exists()
