"""Property-based tests over the whole OpenAPI schema, as each role: no request the schema
allows may produce a server error or a response that breaks the schema. Runs in the second CI
pass (marker `fuzz`), bounded and derandomised."""

import base64

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from config.wsgi import application

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

ROLES = {
    "secretariat": "jimukyoku",
    "committee": "iinkai",
    "lead": "lead01",
    "member": "member01",
    "buyer": "buyer",
    "partner_secretariat": "prosium",
}


# Loaded at collection: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo network, seeded once for the module (about a second each time otherwise):
    every test runs in a transaction rolled back to it; the module flushes it at the end."""
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def as_roles(demo, db, settings):
    settings.AXES_ENABLED = False  # the fuzzer sends many requests from one address
    # Requests go through the real WSGI handler, whose request signals would close the
    # test's database connection inside its transaction (Django's test client does this too).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case, as_roles):
    # Each generated request is sent as every role: what one may do, another must be
    # refused cleanly (4xx in the documented format), never with a 5xx.
    for username in ROLES.values():
        token = base64.b64encode(f"{username}:demo-pass-2026".encode()).decode()
        case.call_and_validate(
            headers={"Authorization": f"Basic {token}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )
