"""Need-to-know for buyers (issue 13, point 11), over the demo's order book.

A buyer sees of member companies only what choosing needs (name, region, processes,
certifications): never their contacts (people, e-mails, phones), their spare capacity, nor
another buyer's data. Checked on every GET path of the OpenAPI schema (ids filled from what
the platform administrator can list) as a buyer, as an anonymous caller and with a partner key,
and on every page a buyer reaches by following links from its home. The secretariat and a
lead forming its team still see capacity and contacts.
"""

import re
from collections import deque
from io import StringIO
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from members.models import Buyer, Company, CompanyContact, Membership, User

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 250  # pages crawled per role: the demo's buyer reaches far fewer
IDS_PER_PATH = 25


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def _variants(last: str, first: str) -> set[str]:
    return {f"{last} {first}", f"{last}{first}", f"{first} {last}"} if last and first else set()


def member_secrets() -> set[str]:
    """What no buyer may read about member companies: contact people, e-mails and phones,
    the people of their accounts, and their certified workers' names."""
    members = Company.objects.filter(memberships__isnull=False).distinct()
    found = set()
    for company in members.prefetch_related("contacts", "certified_workers"):
        found |= {company.email, company.phone}
        for contact in company.contacts.all():
            found |= {contact.name, contact.email, contact.phone}
        found |= {w.name for w in company.certified_workers.all()}
    for user in User.objects.filter(company__in=members):
        found |= _variants(user.last_name, user.first_name) | {user.email}
    found |= set(CompanyContact.objects.filter(company__in=members).values_list("phone", flat=True))
    return {s for s in found if s and len(s) >= 4}


def other_buyers_data(viewer) -> set[str]:
    found = set()
    for buyer in Buyer.objects.exclude(user=viewer).select_related("user"):
        found |= {buyer.name, buyer.email, buyer.phone, buyer.organisation}
        if buyer.user:
            found |= _variants(buyer.user.last_name, buyer.user.first_name)
    mine = Buyer.objects.filter(user=viewer).first()
    own = {mine.name, mine.email, mine.phone, mine.organisation} if mine else set()
    return {s for s in found - own if s and len(s) >= 4}


def leaks(text: str, forbidden: set[str]) -> list[str]:
    found = sorted(s for s in forbidden if s in text)
    if "spare_capacity" in text:
        found.append("spare_capacity")
    return found


def assert_no_leaks(bodies: dict[str, str], forbidden: set[str]) -> None:
    found = {url: leaks(body, forbidden) for url, body in bodies.items()}
    leaked = {url: hits for url, hits in found.items() if hits}
    report = "\n".join(f"{url}: {hits[:5]}" for url, hits in sorted(leaked.items()))
    assert not leaked, f"{len(leaked)} answers leak:\n{report}"


def schema_get_operations() -> dict[str, dict]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: ops["get"] for path, ops in sorted(schema["paths"].items()) if "get" in ops}


def _query_variants(operation: dict) -> list[str]:
    """The query strings to try: the required parameters filled, and once more with the
    optional `network` and `company` when the operation takes them."""
    from members.models import Network

    network = Network.objects.get(slug="migakiya")
    lead = Company.objects.filter(memberships__membership_class="lead").first()
    values = {
        "network": network.pk,
        "company": lead.pk,
        "aql": "1.0",
        "level": "II",
        "lot_size": "500",
    }
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    required = [p["name"] for p in query if p.get("required")]
    optional = [p["name"] for p in query if not p.get("required") and p["name"] in values]
    base = "&".join(f"{name}={values[name]}" for name in required)
    variants = [base]
    if optional:
        variants.append("&".join(filter(None, [base, *(f"{n}={values[n]}" for n in optional)])))
    return [f"?{v}" if v else "" for v in variants]


def _ids(admin: APIClient, list_path: str) -> list[int]:
    response = admin.get(list_path)
    if response.status_code != 200:
        return []
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    if not isinstance(rows, list):
        return []
    return [row["id"] for row in rows if isinstance(row, dict) and "id" in row][:IDS_PER_PATH]


def api_urls() -> list[str]:
    """Every GET path of the schema, with {id} filled from the administrator's lists."""
    admin = APIClient()
    admin.force_authenticate(User.objects.get(username="admin"))
    urls, unfilled = [], []
    for path, operation in schema_get_operations().items():
        params = re.findall(r"{(\w+)}", path)
        queries = _query_variants(operation)
        if not params:
            urls += [path + query for query in queries]
        elif params == ["id"]:
            list_path = path.split("{id}")[0]
            urls += [
                path.replace("{id}", str(pk)) + query
                for pk in _ids(admin, list_path)
                for query in queries
            ]
        else:
            unfilled.append(path)
    assert unfilled == [], "paths with other parameters need filling here"
    return urls


def api_reads(client) -> dict[str, str]:
    """GET every schema URL; the body of each answer by URL (none may be a 500)."""
    bodies = {}
    for url in api_urls():
        response = client.get(url)
        assert response.status_code < 500, url
        bodies[url] = response.content.decode(errors="replace")
    return bodies


def _buyer_user():
    """The demo buyer with an accepted project (invoices, shipments, claims)."""
    from orders.models import Project

    return (
        User.objects.filter(buyer__inquiries__project__isnull=False)
        .filter(buyer__inquiries__project__in=Project.objects.all())
        .distinct()
        .first()
    )


def test_a_buyer_reads_no_member_contact_capacity_or_other_buyer_on_any_endpoint(api, demo):
    buyer = _buyer_user()
    forbidden = member_secrets() | other_buyers_data(buyer)
    assert len(forbidden) > 100  # the demo has dozens of members and several buyers

    bodies = api_reads(api.as_(buyer))

    assert sum(1 for b in bodies.values() if b) > 30
    assert_no_leaks(bodies, forbidden)


def test_an_anonymous_caller_and_a_partner_key_read_none_of_it_either(demo):
    from brokerage import partners
    from brokerage.models import ApiScope, PartnerOrganisation

    forbidden = member_secrets() | other_buyers_data(None)
    organisation = PartnerOrganisation.objects.first()
    if organisation is None:
        from members.models import Network

        secretariat = User.objects.get(username="jimukyoku")
        organisation = partners.partner_create(
            actor=secretariat,
            network=Network.objects.get(staff__user=secretariat),
            name="連携テスト",
            kind="purchasing_system",
        )
    _key, raw = partners.api_key_create(
        actor=User.objects.get(username="admin"),
        organisation=organisation,
        name="audit",
        scopes=list(ApiScope.values),
    )
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    for client in (APIClient(), keyed):
        assert_no_leaks(api_reads(client), forbidden)


def crawl(client, starts=("/",)) -> dict[str, str]:
    """Follow same-site links (GET only) from `starts`, breadth first, up to PAGE_LIMIT."""
    seen, bodies, queue = set(starts), {}, deque(starts)
    while queue and len(bodies) < PAGE_LIMIT:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode(errors="replace")
        bodies[url] = body
        for href in re.findall(r'href="([^"#][^"]*)"', body):
            href, _fragment = urldefrag(href.replace("&amp;", "&"))
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not href.startswith("/"):
                continue
            if href.startswith(("/static/", "/admin/", "/i18n/", "/logout", "/accounts/logout")):
                continue
            if href not in seen:
                seen.add(href)
                queue.append(href)
    return bodies


def test_no_page_a_buyer_reaches_shows_member_contacts_capacity_or_other_buyers(client, demo):
    buyer = _buyer_user()
    forbidden = member_secrets() | other_buyers_data(buyer)
    client.force_login(buyer)
    # Home, and every member company's page, which a buyer may open by its address.
    companies = Company.objects.filter(memberships__isnull=False).distinct()
    starts = ["/", *(f"/companies/{pk}/" for pk in companies.values_list("pk", flat=True))]

    pages = crawl(client, starts)

    assert len(pages) > 10 + len(starts)
    assert all(url in pages for url in starts)
    assert_no_leaks(pages, forbidden)


# --- Who still sees them ----------------------------------------------------------------------


def _member_with_contact():
    membership = (
        Membership.objects.filter(company__contacts__isnull=False).select_related("company").first()
    )
    return membership.company


@pytest.mark.parametrize("who", ["jimukyoku", "lead"])
def test_the_secretariat_and_a_lead_still_see_contacts_and_capacity(api, demo, who):
    from members.models import MembershipClass

    if who == "lead":
        user = User.objects.filter(
            company__memberships__membership_class=MembershipClass.LEAD
        ).first()
    else:
        user = User.objects.get(username=who)
    company = _member_with_contact()
    contact = company.contacts.first()
    client = api.as_(user)

    detail = client.get(f"/api/v1/companies/{company.pk}/").json()
    capabilities = client.get(f"/api/v1/capabilities/?company={company.pk}").json()["results"]

    assert contact.email in [c["email"] for c in detail["contacts"]]
    assert detail["phone"] == company.phone
    assert all("spare_capacity_per_month" in c for c in capabilities) and capabilities


def test_the_secretariat_sees_the_leads_contacts_on_the_delivery_page_the_buyer_does_not(
    client, demo
):
    from orders.models import Project

    project = Project.objects.filter(inquiry__buyer__user__isnull=False).first()
    lead = project.lead

    client.force_login(User.objects.get(username="jimukyoku"))
    staff_page = client.get(f"/projects/{project.pk}/delivery/").content.decode()
    client.force_login(project.inquiry.buyer.user)
    buyer_page = client.get(f"/projects/{project.pk}/delivery/").content.decode()

    assert lead.phone in staff_page and lead.email in staff_page
    assert lead.legal_name in buyer_page
    assert lead.phone not in buyer_page and lead.email not in buyer_page


@pytest.mark.parametrize(
    "query",
    [
        "min_spare_capacity=500",
        "ordering=spare_capacity_per_month",
        "ordering=-spare_capacity_per_month",
    ],
)
def test_spare_capacity_cannot_be_inferred_by_filtering_or_ordering(
    api, network, buff, stainless, buyer_user, secretariat_user, query
):
    from tests.helpers import member

    for spare in (10, 1000, 300):
        member(network, buff, stainless, spare=spare)
    buyer, staff = api.as_(buyer_user), api.as_(secretariat_user)

    def ids(client, q):
        return [c["id"] for c in client.get(f"/api/v1/capabilities/?{q}").json()["results"]]

    assert ids(buyer, query) == ids(buyer, "")  # the parameter is ignored for a buyer
    assert ids(staff, query) != ids(staff, "")  # and applies for the secretariat
    assert "spare_capacity" not in str(buyer.get(f"/api/v1/companies/?{query}").json())


def test_a_buyer_sees_who_belongs_but_not_what_each_member_pays(
    api, network, member_user, buyer_user, secretariat_user
):
    as_buyer = api.as_(buyer_user).get("/api/v1/memberships/").json()["results"]
    assert as_buyer and all("annual_fee_yen" not in m for m in as_buyer)
    assert {m["company"] for m in as_buyer} >= {member_user.company_id}
    as_staff = api.as_(secretariat_user).get("/api/v1/memberships/").json()["results"]
    assert as_staff and all("annual_fee_yen" in m for m in as_staff)
