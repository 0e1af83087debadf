"""A seeded history for the order record, driven through the services with the clock moved
(time-machine), so every timestamp — receipt, answer, award, inspection, invitation — is
known. Fiscal year 2026 runs April 2026 to March 2027 (the network's default).

Inquiries received on Monday 2026-06-01 (10 in FY2026), one in FY2025:
  A  buff / stainless            awarded Fri 06-05 (4 working days), project ¥1,000,000
  B  buff + electro / stainless  awarded Wed 07-01 (22), project ¥600,000
  C  barrel / aluminium          awarded Thu 07-02 (23), no project: the bid ¥300,000 counts
  D  declined the same day (0)   E  declined Tue 06-02 (1)
  F  referred Wed 06-03 (2), taken by the target   G  referred Thu 06-04 (3), not taken
  H  withdrawn by the buyer      I  still submitted   J  waiting for the buyer's answer
  K  received 2026-03-20, awarded 2026-03-31 (FY2025), bid ¥2,000,000

Packages (members M1, M2; M3 only invited):
  A/P1  M1  100 × ¥1,000, due 07-10; 5 of 100 scrapped and charged ¥5,000 (07-06),
            5 redelivered, completed 07-09 (on time); M3 declined it first
  A/P2  M2   50 × ¥2,000, due 07-10, completed 07-14 (late); M3 let it expire first
  A/P0  the lead itself, 10 × ¥100 (not on any scorecard)
  B/P3  M1  200 × ¥500, due 08-20, completed 08-25 (late); buyer's claim of 4 traced to it,
            charged ¥8,000
  B/P4  M2   10 × ¥3,000, due 08-20, in progress
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import time_machine

from brokerage.models import ReferralStatus
from members.models import MembershipClass, StaffRole
from orders import execution, projects
from orders import services as order_services
from tests import scenarios
from tests.factories import (
    BuyerFactory,
    MaterialFactory,
    NetworkStaffFactory,
    ProcessFactory,
    ReferralFactory,
)
from tests.helpers import pass_deadline

JST = ZoneInfo("Asia/Tokyo")
FY2026 = (datetime.date(2026, 4, 1), datetime.date(2027, 3, 31))


def at(day: str, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time(hour, minute), tzinfo=JST
    )


def travel(day: str, hour: int = 10, minute: int = 0):
    return time_machine.travel(at(day, hour, minute), tick=False)


@dataclass
class History:
    network: object
    secretariat: object
    buyer: object
    lead1: object
    lead2: object
    m1: object
    m2: object
    m3: object
    inquiries: dict
    packages: dict
    projects: dict
    buff: object
    electro: object
    barrel: object
    stainless: object
    aluminium: object


def _accept_and_start(package, worker, lead):
    for agreement in package.project.agreements.filter(member=worker.company):
        projects.agreement_accept(actor=lead, agreement=agreement)
        projects.agreement_accept(actor=worker, agreement=agreement)
    return projects.package_start(actor=worker, package=package)


def _invite(package, worker, lead):
    invitation, _warnings = projects.invitation_send(
        actor=lead, package=package, company=worker.company
    )
    projects.invitation_respond(actor=worker, invitation=invitation, accept=True)
    package.refresh_from_db()
    return _accept_and_start(package, worker, lead)


def _award(inquiry, secretariat, day):
    with travel(day):
        pass_deadline(inquiry)
        order_services.inquiries_close_due()
        order_services.award_confirm(actor=secretariat, inquiry=inquiry)
    inquiry.refresh_from_db()
    return inquiry


def build_history(network) -> History:
    buff = scenarios.buff()
    electro = ProcessFactory(code="electro", name_ja="電解研磨", name_en="Electropolishing")
    barrel = ProcessFactory(code="barrel", name_ja="バレル研磨", name_en="Barrel polishing")
    stainless = scenarios.stainless()
    aluminium = MaterialFactory(code="aluminium", name_ja="アルミ", name_en="Aluminium")
    secretariat = NetworkStaffFactory(network=network, role=StaffRole.SECRETARIAT).user
    buyer = BuyerFactory().user

    def company_user(membership_class=MembershipClass.JOINT_ORDER):
        return scenarios.company_user(
            network, membership_class=membership_class, process=buff, material=stainless
        )

    lead1 = company_user(MembershipClass.LEAD)
    lead2 = company_user(MembershipClass.LEAD)
    m1, m2, m3 = company_user(), company_user(), company_user()

    def data(title, processes=(buff,), material=stainless):
        return scenarios.inquiry_data(
            buff,
            material,
            title=title,
            description="SUS304",
            processes=list(processes),
            desired_delivery_date=datetime.date(2026, 12, 1),
        )

    def submit(title, **kwargs):
        return order_services.inquiry_submit(
            actor=buyer, network=network, data=data(title, **kwargs)
        )

    q = {}
    # FY2025: K.
    with travel("2026-03-20"):
        q["K"] = submit("K")
        order_services.inquiry_publish(actor=secretariat, inquiry=q["K"])
        order_services.application_place(
            actor=lead1, inquiry=q["K"], price_yen=2_000_000, lead_time_days=20
        )
    _award(q["K"], secretariat, "2026-03-31")

    with travel("2026-06-01"):
        for key in "ABDEFGHIJ":
            if key == "B":
                q[key] = submit(key, processes=(buff, electro))
            else:
                q[key] = submit(key)
        q["C"] = submit("C", processes=(barrel,), material=aluminium)
    with travel("2026-06-01", 11):
        order_services.inquiry_reject(actor=secretariat, inquiry=q["D"], reason="対応不可の材質")
        order_services.inquiry_ask(actor=secretariat, inquiry=q["J"], question="図面をください")
        for key, lead, price in (
            ("A", lead1, 1_000_000),
            ("B", lead2, 600_000),
            ("C", lead1, 300_000),
        ):
            order_services.inquiry_publish(actor=secretariat, inquiry=q[key])
            order_services.application_place(
                actor=lead, inquiry=q[key], price_yen=price, lead_time_days=20
            )
    with travel("2026-06-02"):
        order_services.inquiry_reject(actor=secretariat, inquiry=q["E"], reason="納期が短すぎます")
        order_services.inquiry_withdraw(actor=buyer, inquiry=q["H"], reason="社内で対応")
    with travel("2026-06-03"):
        order_services.inquiry_refer(actor=secretariat, inquiry=q["F"], reason="表面処理は会員外")
        ReferralFactory(
            inquiry=q["F"], category="process", reason="x", status=ReferralStatus.ACCEPTED
        )
    with travel("2026-06-04"):
        order_services.inquiry_refer(actor=secretariat, inquiry=q["G"], reason="遠方")
        ReferralFactory(inquiry=q["G"], category="location", reason="x")
    _award(q["A"], secretariat, "2026-06-05")

    # Project A: opened 06-08, packages due 07-10.
    pk = {}
    due_a = datetime.date(2026, 7, 10)
    with travel("2026-06-08"):
        project_a = projects.project_open(
            actor=lead1,
            inquiry=q["A"],
            order_value_yen=1_000_000,
            delivery_date=datetime.date(2026, 8, 31),
        )

        def add(project, lead, quantity, price, due, process=buff):
            return projects.package_add(
                actor=lead,
                project=project,
                process=process,
                material=stainless,
                quantity=quantity,
                unit_price_yen=price,
                due_date=due,
            )

        pk["P1"] = add(project_a, lead1, 100, 1_000, due_a)
        pk["P2"] = add(project_a, lead1, 50, 2_000, due_a)
        pk["P0"] = add(project_a, lead1, 10, 100, due_a)
        projects.package_self_perform(actor=lead1, package=pk["P0"])
        declined, _w = projects.invitation_send(actor=lead1, package=pk["P1"], company=m3.company)
    with travel("2026-06-08", 12):
        projects.invitation_respond(actor=m3, invitation=declined, accept=False, reason="繁忙期")
        pk["P1"] = _invite(pk["P1"], m1, lead1)
        projects.invitation_send(actor=lead1, package=pk["P2"], company=m3.company)
    with travel("2026-06-12"):
        assert projects.invitations_expire_due() == 1
        pk["P2"] = _invite(pk["P2"], m2, lead1)

    with travel("2026-07-06"):
        delivery = execution.delivery_record(actor=m1, package=pk["P1"], quantity=100)
        execution.inspection_record(
            actor=lead1,
            delivery=delivery,
            quantity_received=100,
            quantity_passed=95,
            defect_reason="研磨ムラ",
            disposition="charge",
            charge_yen=5_000,
        )
    with travel("2026-07-09"):
        delivery = execution.delivery_record(actor=m1, package=pk["P1"], quantity=5)
        execution.inspection_record(
            actor=lead1, delivery=delivery, quantity_received=5, quantity_passed=5
        )
    with travel("2026-07-14"):
        delivery = execution.delivery_record(actor=m2, package=pk["P2"], quantity=50)
        execution.inspection_record(
            actor=lead1, delivery=delivery, quantity_received=50, quantity_passed=50
        )

    # B and C awarded in July; project B with packages due 08-20.
    _award(q["B"], secretariat, "2026-07-01")
    with travel("2026-07-02"):
        order_services.award_confirm(actor=secretariat, inquiry=q["C"])
        q["C"].refresh_from_db()
        project_b = projects.project_open(
            actor=lead2,
            inquiry=q["B"],
            order_value_yen=600_000,
            delivery_date=datetime.date(2026, 9, 30),
        )
        due_b = datetime.date(2026, 8, 20)
        pk["P3"] = _invite(add(project_b, lead2, 200, 500, due_b), m1, lead2)
        pk["P4"] = _invite(add(project_b, lead2, 10, 3_000, due_b), m2, lead2)
    with travel("2026-08-25"):
        delivery = execution.delivery_record(actor=m1, package=pk["P3"], quantity=200)
        execution.inspection_record(
            actor=lead2, delivery=delivery, quantity_received=200, quantity_passed=200
        )
    with travel("2026-08-26"):
        shipment = execution.shipment_send(actor=lead2, project=project_b, quantity=200)
    with travel("2026-08-27"):
        claim = execution.claim_raise(
            actor=buyer, shipment=shipment, quantity=4, description="鏡面にキズ"
        )
    with travel("2026-08-28"):
        execution.claim_trace(actor=lead2, claim=claim, package=pk["P3"], charge_yen=8_000)

    for key in q:
        q[key].refresh_from_db()
    for key in pk:
        pk[key].refresh_from_db()
    return History(
        network=network,
        secretariat=secretariat,
        buyer=buyer,
        lead1=lead1,
        lead2=lead2,
        m1=m1,
        m2=m2,
        m3=m3,
        inquiries=q,
        packages=pk,
        projects={"A": project_a, "B": project_b},
        buff=buff,
        electro=electro,
        barrel=barrel,
        stainless=stainless,
        aluminium=aluminium,
    )
