"""Readable starting points for tests: an order at a given point of its path, reached through
the same services a user's clicks call (events and status log included), with everyone
involved named on the returned `Scenario`.

    s = awarded_inquiry(team=2)          # awarded to a new lead, two members in its team
    s.inquiry, s.lead, s.project, s.members, s.packages

    s = awarded_inquiry(lead=my_lead, network=network, buyer=buyer_user)

Every argument is optional: what is not given is made (a network with its secretariat, a
buyer, a lead able to buff stainless). Rows needed in a state no service reaches in one step
(an accepted project of a past month, say) come from tests/factories/ instead."""

import dataclasses
import datetime

from django.utils import timezone

from billing import close
from members.models import MembershipClass, StaffRole
from orders import projects
from orders import services as order_services
from orders.models import PackageStatus, ProjectStatus
from tests.factories import (
    BuyerFactory,
    CapabilityFactory,
    CompanyUserFactory,
    DeliveryFactory,
    InquiryFactory,
    InspectionFactory,
    MaterialFactory,
    MembershipFactory,
    NetworkFactory,
    NetworkStaffFactory,
    ProcessFactory,
    ProjectFactory,
    WorkPackageFactory,
)
from tests.helpers import pass_deadline


@dataclasses.dataclass
class Scenario:
    network: object
    secretariat: object
    buyer: object  # the buyer's user
    process: object
    material: object
    inquiry: object = None
    lead: object = None  # the lead company's user
    project: object = None
    members: list = dataclasses.field(default_factory=list)  # the team's member users
    packages: list = dataclasses.field(default_factory=list)  # one per member, in order
    run: object = None  # a settlement run


def buff() -> object:
    return ProcessFactory(code="buff", name_ja="バフ研磨", name_en="Buff polishing")


def stainless() -> object:
    return MaterialFactory(code="stainless", name_ja="ステンレス", name_en="Stainless steel")


def inquiry_data(process=None, material=None, **overrides) -> dict:
    """What a buyer fills in: 500 stainless tumblers to buff to #400, in 60 days, to Tokyo."""
    data = {
        "title": "ステンレス製タンブラーの鏡面研磨",
        "description": "SUS304 タンブラー 500個、鏡面仕上げ",
        "material": material or stainless(),
        "processes": [process or buff()],
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


def company_user(
    network,
    *,
    membership_class=MembershipClass.JOINT_ORDER,
    process=None,
    material=None,
    **capability,
):
    """A user of a company that is an active member of `network` in `membership_class`,
    and, given a process and a material, able to do them (`capability`: the Capability's
    other fields, e.g. spare_capacity_per_month)."""
    user = CompanyUserFactory()
    MembershipFactory(network=network, company=user.company, membership_class=membership_class)
    if process is not None:
        CapabilityFactory(company=user.company, process=process, material=material, **capability)
    return user


def lead_user(network, process=None, material=None, **capability):
    """A user of a lead company (受注幹事企業) of `network` able to do the work itself."""
    return company_user(
        network,
        membership_class=MembershipClass.LEAD,
        process=process or buff(),
        material=material or stainless(),
        **capability,
    )


def member_user(network, process=None, material=None, spare=1000):
    """A user of a joint-order member of `network` able to buff stainless (or the given)."""
    return company_user(
        network,
        process=process or buff(),
        material=material or stainless(),
        spare_capacity_per_month=spare,
    )


def _people(network=None, secretariat=None, buyer=None, process=None, material=None) -> Scenario:
    network = network or NetworkFactory()
    return Scenario(
        network=network,
        secretariat=secretariat
        or NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user,
        buyer=buyer or BuyerFactory().user,
        process=process or buff(),
        material=material or stainless(),
    )


def submitted_inquiry(
    *, network=None, secretariat=None, buyer=None, process=None, material=None, **data
) -> Scenario:
    """An inquiry the buyer submitted to the network's window (`data`: its fields to change)."""
    s = _people(network, secretariat, buyer, process, material)
    s.inquiry = order_services.inquiry_submit(
        actor=s.buyer, network=s.network, data=inquiry_data(s.process, s.material, **data)
    )
    return s


def open_inquiry(**kwargs) -> Scenario:
    """A submitted inquiry the secretariat published: the application window is open."""
    return publish(submitted_inquiry(**kwargs))


def awarded_inquiry(
    *, lead=None, team=0, price_yen=1_000_000, lead_time_days=20, **kwargs
) -> Scenario:
    """An inquiry awarded to `lead` (a new lead if None) after its only application. With
    `team` > 0 the lead has opened its project and `team` members have each taken a package
    (see `take_package`): ready to start."""
    s = award(open_inquiry(**kwargs), lead=lead, price_yen=price_yen, lead_time_days=lead_time_days)
    if team:
        open_project(s, order_value_yen=price_yen)
        for _ in range(team):
            take_package(s)
    return s


def project_in_progress(*, team=1, **kwargs) -> Scenario:
    """An awarded inquiry's project under way: each of the `team` members has started its
    package (the project is in progress)."""
    return start_packages(awarded_inquiry(team=team, **kwargs))


# --- The steps, each moving a scenario one step on (for fixtures that already hold the
# earlier steps' objects) ---------------------------------------------------------------


def publish(s: Scenario) -> Scenario:
    s.inquiry = order_services.inquiry_publish(actor=s.secretariat, inquiry=s.inquiry)
    return s


def award(s: Scenario, *, lead=None, price_yen=1_000_000, lead_time_days=20) -> Scenario:
    """`lead` (a new lead if None) applies to the open inquiry, the deadline job closes the
    window after the deadline, and the secretariat confirms the proposed award."""
    s.lead = lead or lead_user(s.network, s.process, s.material)
    order_services.application_place(
        actor=s.lead, inquiry=s.inquiry, price_yen=price_yen, lead_time_days=lead_time_days
    )
    pass_deadline(s.inquiry)
    order_services.inquiries_close_due()
    order_services.award_confirm(actor=s.secretariat, inquiry=s.inquiry)
    s.inquiry.refresh_from_db()
    return s


def open_project(s: Scenario, *, order_value_yen=1_000_000) -> Scenario:
    """The lead opens the awarded inquiry's project (delivery in 40 days)."""
    s.project = projects.project_open(
        actor=s.lead,
        inquiry=s.inquiry,
        order_value_yen=order_value_yen,
        delivery_date=timezone.localdate() + datetime.timedelta(days=40),
    )
    return s


def take_package(s: Scenario, worker=None, *, quantity=None) -> Scenario:
    """`worker` (a new member if None) takes a package of the project, `quantity` items (the
    inquiry's) at 1,200 yen due in 20 days: invited, accepted, both sides accept the
    agreements between them. Appended to `s.members` and `s.packages`."""
    worker = worker or member_user(s.network, s.process, s.material)
    package = projects.package_add(
        actor=s.lead,
        project=s.project,
        process=s.process,
        material=s.material,
        quantity=quantity or s.inquiry.quantity,
        unit_price_yen=1200,
        due_date=timezone.localdate() + datetime.timedelta(days=20),
    )
    invitation, _ = projects.invitation_send(actor=s.lead, package=package, company=worker.company)
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    for agreement in s.project.agreements.filter(member=worker.company):
        projects.agreement_accept(actor=s.lead, agreement=agreement)
        projects.agreement_accept(actor=worker, agreement=agreement)
    package.refresh_from_db()
    s.members.append(worker)
    s.packages.append(package)
    return s


def start_packages(s: Scenario) -> Scenario:
    """Each member starts its package."""
    s.packages = [
        projects.package_start(actor=worker, package=package)
        for worker, package in zip(s.members, s.packages, strict=True)
    ]
    s.project.refresh_from_db()
    return s


def _last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def closed_month(*, network=None, period=None, projects_accepted=1, **kwargs) -> Scenario:
    """A network's month closed by the settlement (the scheduled job's run, completed):
    `projects_accepted` projects its buyer accepted mid-month (last month by default), each
    of 1,000,000 yen, led by one lead with one member's package of 500 items at 1,200 yen,
    delivered and passed. The rows are written by the factories (the real path to an
    acceptance is tested once); the close is the real one. `s.project` is the first."""
    s = _people(network, **kwargs)
    period = period or _last_month()
    s.lead = lead_user(s.network, s.process, s.material)
    worker = member_user(s.network, s.process, s.material)
    s.members.append(worker)
    accepted_at = timezone.make_aware(datetime.datetime.combine(period, datetime.time(10)))
    accepted_at += datetime.timedelta(days=14)
    for _ in range(projects_accepted):
        project = ProjectFactory(
            inquiry=InquiryFactory(
                network=s.network,
                buyer=s.buyer.buyer,
                material=s.material,
                status="awarded",
                processes=[s.process],
            ),
            lead_user=s.lead,
            status=ProjectStatus.ACCEPTED,
            accepted_at=accepted_at,
        )
        package = WorkPackageFactory(
            project=project,
            process=s.process,
            member=worker.company,
            status=PackageStatus.ACCEPTED,
        )
        InspectionFactory(delivery=DeliveryFactory(package=package, shipped_by=worker))
        s.project = s.project or project
        s.packages.append(package)
    s.inquiry = s.project.inquiry
    s.run = close.monthly_close(network=s.network, period=period)
    return s
