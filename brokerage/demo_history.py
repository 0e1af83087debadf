"""The demo's order book: inquiries at every step, a project in progress and one settled last
month, so a newcomer's `make run` shows the whole flow, not empty lists.

Driven through the services (who may act, transitions, events, documents), as the users
would. Two things a demo cannot wait for are moved instead: a call's application deadline is
set into the past (as the deadline job then sees it), and the finished project's acceptance
is dated last month, so that month can be closed and its documents shown.

Idempotent: nothing is done when the first demo inquiry (the buyer's idempotency key
`demo-1`) exists.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from billing.close import monthly_close
from billing.periods import previous_month
from members.models import Material, Network, ProbationRule, Process, User
from orders import execution, projects
from orders import services as orders
from orders.models import Inquiry, Project

FIRST_KEY = "demo-1"


def _inquiry(buyer: User, network: Network, key: str, **spec) -> Inquiry:
    processes = [Process.objects.get(code=code) for code in spec.pop("processes")]
    material = Material.objects.get(code=spec.pop("material"))
    data = {
        "finish_kind": "grit",
        "finish_grit": 600,
        "length_mm": 250,
        "width_mm": 60,
        "height_mm": 20,
        "weight_kg": "0.2",
        "delivery_prefecture": "15",
        "desired_delivery_date": timezone.localdate() + datetime.timedelta(days=45),
        **spec,
        "material": material,
        "processes": processes,
    }
    return orders.inquiry_submit(actor=buyer, network=network, data=data, idempotency_key=key)


def _awarded(inquiry: Inquiry, secretariat: User, bids: list[tuple[User, int, int]]) -> Inquiry:
    """Publish, let the leads bid, close the window, confirm the proposed award."""
    orders.inquiry_publish(actor=secretariat, inquiry=inquiry)
    for lead, price, days in bids:
        orders.application_place(actor=lead, inquiry=inquiry, price_yen=price, lead_time_days=days)
    Inquiry.objects.filter(pk=inquiry.pk).update(
        application_deadline=timezone.now() - datetime.timedelta(minutes=1)
    )
    orders.inquiry_close_window(inquiry_id=inquiry.pk)
    orders.award_confirm(actor=secretariat, inquiry=inquiry)
    inquiry.refresh_from_db()
    return inquiry


def _team_package(project: Project, lead: User, member: User, **spec):
    package = projects.package_add(
        actor=lead,
        project=project,
        process=Process.objects.get(code=spec.pop("process")),
        material=Material.objects.get(code=spec.pop("material")),
        **spec,
    )
    invitation, _warnings = projects.invitation_send(
        actor=lead, package=package, company=member.company
    )
    projects.invitation_respond(actor=member, invitation=invitation, accept=True)
    for agreement in project.agreements.filter(member=member.company):
        projects.agreement_accept(actor=lead, agreement=agreement)
        projects.agreement_accept(actor=member, agreement=agreement)
    return projects.package_start(actor=member, package=package)


def seed_history(*, network: Network, users: dict[str, User]) -> bool:
    """Seed the order book of `network` (the demo syndicate). False: already there."""
    buyer, kojin = users["buyer"], users["kojin"]
    secretariat, lead, lead2 = users["jimukyoku"], users["lead01"], users["lead02"]
    member, member2 = users["member01"], users["member02"]
    if Inquiry.objects.filter(entered_by=buyer, idempotency_key=FIRST_KEY).exists():
        return False
    today = timezone.localdate()
    with transaction.atomic():
        ProbationRule.objects.get_or_create(
            network=network,
            defaults={
                "min_on_time_rate_pct": 80,
                "max_defect_rate_pct": 5,
                "max_package_value_yen": 300_000,
            },
        )

        # 1. Just received: waiting for the secretariat's screening.
        _inquiry(
            buyer,
            network,
            FIRST_KEY,
            title="ステンレス製カトラリーの鏡面バフ研磨",
            description="SUS304 のスプーン・フォーク。既存品の再研磨。鏡面（#800 相当）希望。",
            material="stainless",
            processes=["buff"],
            quantity=3_000,
        )

        # 2. Published: two leads have placed sealed bids; the window is still open.
        call = _inquiry(
            kojin,
            network,
            "demo-2",
            title="チタン製マグカップの研磨（試作 200 個）",
            description="チタン二重構造マグ。外面バフ研磨、内面はそのまま。",
            material="titanium",
            processes=["buff"],
            quantity=200,
        )
        orders.inquiry_publish(actor=secretariat, inquiry=call)
        orders.application_place(actor=lead, inquiry=call, price_yen=360_000, lead_time_days=21)
        orders.application_place(actor=lead2, inquiry=call, price_yen=330_000, lead_time_days=28)

        # 3. Awarded to lead01, whose project is under way: member01 is working on its
        # package and delivered part of it; member02 has not answered its invitation yet.
        running = _awarded(
            _inquiry(
                buyer,
                network,
                "demo-3",
                title="ステンレス製タンブラーの外面鏡面研磨",
                description="SUS304 タンブラー（φ80×150）。外面鏡面、ロゴ周りは手仕上げ。",
                material="stainless",
                processes=["buff"],
                quantity=1_000,
            ),
            secretariat,
            [(lead, 1_200_000, 30), (lead2, 1_350_000, 25)],
        )
        project = projects.project_open(
            actor=lead,
            inquiry=running,
            order_value_yen=1_200_000,
            delivery_date=today + datetime.timedelta(days=35),
        )
        package = _team_package(
            project,
            lead,
            member,
            process="buff",
            material="stainless",
            quantity=600,
            unit_price_yen=700,
            due_date=today + datetime.timedelta(days=21),
        )
        execution.delivery_record(actor=member, package=package, quantity=250, note="第1便")
        waiting = projects.package_add(
            actor=lead,
            project=project,
            process=Process.objects.get(code="buff"),
            material=Material.objects.get(code="stainless"),
            quantity=400,
            unit_price_yen=700,
            due_date=today + datetime.timedelta(days=21),
        )
        projects.invitation_send(actor=lead, package=waiting, company=member2.company)

        # 4. Delivered, inspected, shipped and accepted by the buyer last month; that month
        # is closed: the lead's invoice, member01's statement and the month's commissions.
        finished = _awarded(
            _inquiry(
                buyer,
                network,
                "demo-4",
                title="ステンレス製ケトル胴体のバフ研磨",
                description="SUS304 ケトル胴体。#600 バフ仕上げ。",
                material="stainless",
                processes=["buff"],
                quantity=500,
            ),
            secretariat,
            [(lead, 600_000, 20)],
        )
        project = projects.project_open(
            actor=lead,
            inquiry=finished,
            order_value_yen=600_000,
            delivery_date=today + datetime.timedelta(days=20),
        )
        package = _team_package(
            project,
            lead,
            member,
            process="buff",
            material="stainless",
            quantity=500,
            unit_price_yen=650,
            due_date=today + datetime.timedelta(days=10),
        )
        delivery = execution.delivery_record(actor=member, package=package, quantity=500)
        execution.inspection_record(
            actor=lead, delivery=delivery, quantity_received=500, quantity_passed=500
        )
        shipment = execution.shipment_send(
            actor=lead,
            project=project,
            quantity=500,
            packaging="個装＋段ボール 10 箱",
            carrier="ヤマト運輸",
            tracking_number="4412-3456-7890",
        )
        execution.shipment_accept(actor=buyer, shipment=shipment)
        period = previous_month(today)
        accepted_at = timezone.make_aware(
            datetime.datetime.combine(period.replace(day=15), datetime.time(10))
        )
        Project.objects.filter(pk=project.pk).update(accepted_at=accepted_at)
        monthly_close(network=network, period=period, actor=secretariat)
    return True
