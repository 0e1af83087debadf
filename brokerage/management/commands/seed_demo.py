"""`manage.py seed_demo`: a demo 磨き屋シンジケート with every role, for a newcomer's `make run`,
and its order book (`brokerage.demo_history`: inquiries at every step, a project under way,
a month closed). It lives in `brokerage` because the order book crosses every app.

Idempotent: rows are looked up by natural keys (Network.slug, Company.corporate_number,
User.username, Process.code, …) and only what is missing is created, through the services
wherever a business rule applies (memberships, lead appointments, capabilities, directory).
`--if-empty` does nothing when any network exists. Either way the logins table is printed.
"""

import datetime
import time
import unicodedata
import zlib
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from brokerage.demo_history import seed_history
from members import services
from members.management import demo_data as demo
from members.models import (
    AppointmentStatus,
    Buyer,
    Capability,
    CertifiedWorker,
    Company,
    CompanyContact,
    DirectoryEntry,
    Equipment,
    LeadAppointment,
    Material,
    Membership,
    MembershipClass,
    MembershipFee,
    Network,
    NetworkStaff,
    Process,
    Recommendation,
    StaffRole,
    User,
)
from members.validators import corporate_number_check_digit, validate_corporate_number

RECOMMENDATION_COMMENTS = [
    "品質・納期とも安定しており、取りまとめ役に適任です。",
    "共同受注の案件で何度も一緒に仕事をし、検品と梱包の体制に信頼がおけます。",
    "新しい分野の引き合いにも積極的で、幹事企業として推薦します。",
]


def corporate_number(spec: demo.CompanySpec) -> str:
    """A valid 13-digit corporate number: registry-office code, organisation kind (01 株式会社,
    02 有限会社) and the spec's invented serial, behind the computed check digit."""
    registry = demo.AREAS[spec.area][5]
    kind = "01" if spec.legal_name.startswith("株式会社") else "02"
    base = f"{registry}{kind}{spec.serial:06d}"
    number = f"{corporate_number_check_digit(base)}{base}"
    validate_corporate_number(number)
    return number


def person(seed: int) -> tuple[str, str]:
    """A deterministic invented (last name, first name)."""
    return (
        demo.SURNAMES[seed % len(demo.SURNAMES)],
        demo.GIVEN_NAMES[(seed * 7 + seed // len(demo.SURNAMES)) % len(demo.GIVEN_NAMES)],
    )


def _phone(prefix: str, seed: int) -> str:
    # Japanese numbers have ten digits: area code and local exchange, then four digits.
    width = 6 - sum(c.isdigit() for c in prefix)
    return f"{prefix}{(seed * 31) % 10**width:0{width}d}-{(seed * 7919) % 10000:04d}"


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "FW" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def row_counts() -> dict[str, int]:
    """Rows per model of every installed app, link tables included (e.g. network partners)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


class DemoSeeder:
    def __init__(self):
        # One hash for every demo login: hashing is deliberately slow (~0.3 s each).
        self.password_hash = make_password(demo.DEMO_PASSWORD)
        self.users: dict[str, User] = {}
        self.companies: dict[str, Company] = {}
        self.processes: dict[str, Process] = {}
        self.materials: dict[str, Material] = {}

    # -- building blocks ----------------------------------------------------------------

    def user(self, username: str, **fields) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            fields.setdefault("email", f"{username}@example.jp")
            user = User(username=username, password=self.password_hash, **fields)
            user.save()
        self.users[username] = user
        return user

    def network(self, data: dict, fees: dict) -> Network:
        network, _created = Network.objects.get_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
        for membership_class, fee in fees.items():
            MembershipFee.objects.get_or_create(
                network=network,
                membership_class=membership_class,
                defaults={"annual_fee_yen": fee},
            )
        return network

    def seat(self, network: Network, user: User, role: str, position: str) -> None:
        NetworkStaff.objects.get_or_create(
            network=network, user=user, role=role, defaults={"position": position}
        )

    def company(self, spec: demo.CompanySpec, *, actor: User, network: Network) -> Company:
        number = corporate_number(spec)
        company = Company.objects.filter(corporate_number=number).first()
        if company is None:
            company = services.company_create(
                actor=actor, network=network, data=self.company_data(spec, number)
            )
        self.companies[spec.key] = company
        last, first = person(spec.serial)
        CompanyContact.objects.get_or_create(
            company=company,
            name=f"{last} {first}",
            defaults={
                "title": spec.contact_title,
                "email": f"{spec.key}@example.jp",
                "phone": company.phone,
            },
        )
        self.user(spec.key, company=company, last_name=last, first_name=first)
        for i, grade in enumerate(spec.workers):
            w_last, w_first = person(spec.serial * 10 + i + 1)
            CertifiedWorker.objects.get_or_create(
                company=company,
                name=f"{w_last} {w_first}",
                defaults={
                    "grade": grade,
                    "certified_on": datetime.date(
                        1990 + (spec.serial + 7 * i) % 30, 1 + (spec.serial + i) % 12, 1
                    ),
                },
            )
        for name, quantity, notes in spec.equipment:
            Equipment.objects.get_or_create(
                company=company, name=name, defaults={"quantity": quantity, "notes": notes}
            )
        return company

    @staticmethod
    def company_data(spec: demo.CompanySpec, number: str) -> dict:
        city, prefecture, towns, (lat, lon), phone_prefix, _registry = demo.AREAS[spec.area]
        town, postal_code = towns[spec.serial % len(towns)]
        # Spread the companies around the town centre (about ±1 km), the same on every run.
        spread = zlib.crc32(spec.key.encode())
        jitter_lat = (spread % 2001 - 1000) / 100_000
        jitter_lon = (spread // 2001 % 2001 - 1000) / 100_000
        return {
            "legal_name": spec.legal_name,
            "legal_name_kana": spec.kana,
            "name_en": spec.name_en,
            "corporate_number": number,
            "invoice_registration_number": f"T{number}" if spec.invoice_registered else "",
            "postal_code": postal_code,
            "prefecture": prefecture,
            "city": city,
            "address_line": f"{town}{100 + (spec.serial * 37) % 1900}-{1 + spec.serial % 9}",
            "latitude": Decimal(f"{lat + jitter_lat:.6f}"),
            "longitude": Decimal(f"{lon + jitter_lon:.6f}"),
            "phone": _phone(phone_prefix, spread),
            "email": f"info@{spec.key}.example.jp",
            "website": f"https://{spec.key}.example.jp/" if spec.name_en else "",
            "employees": spec.employees,
            "capital_yen": spec.capital_yen,
            "description": spec.description,
        }

    def capabilities(self, spec: demo.CompanySpec) -> None:
        company = self.companies[spec.key]
        actor = self.users[spec.key]  # a company keeps its own capabilities
        existing = set(
            Capability.objects.filter(company=company).values_list(
                "process__code", "material__code"
            )
        )
        for text in spec.capabilities:
            data = demo.parse_capability(text)
            if (data["process"], data["material"]) in existing:
                continue
            data["process"] = self.processes[data["process"]]
            data["material"] = self.materials[data["material"]]
            services.capability_create(actor=actor, company=company, data=data)

    def membership(
        self, network: Network, spec: demo.CompanySpec, membership_class: str, *, actor: User
    ) -> None:
        company = self.companies[spec.key]
        # Any membership of the class, even ended, counts: a lead's ended joint-order
        # membership must not come back, nor one the secretariat ended since.
        if Membership.objects.filter(
            network=network, company=company, membership_class=membership_class
        ).exists():
            return
        services.membership_create(
            actor=actor,
            network=network,
            company=company,
            membership_class=membership_class,
            joined_on=spec.joined_on,
        )

    def lead(
        self,
        network: Network,
        key: str,
        decided_on: datetime.date,
        recommenders: tuple[str, ...],
        votes: tuple[int, int, int],
        *,
        opener: User,
        decider: User,
    ) -> None:
        """Make a joint-order member a lead company the way the rules say: an appointment,
        recommendations from other member companies, then the committee's approval."""
        company = self.companies[key]
        if (
            Membership.objects.filter(
                network=network, company=company, membership_class=MembershipClass.LEAD
            ).exists()
            or LeadAppointment.objects.filter(
                network=network, company=company, status=AppointmentStatus.APPROVED
            ).exists()
        ):
            return
        appointment = LeadAppointment.objects.filter(
            network=network, company=company, status=AppointmentStatus.PENDING
        ).first()
        if appointment is None:
            appointment = services.appointment_open(
                actor=opener,
                network=network,
                company=company,
                statement=f"{company.legal_name}を受注幹事企業として推薦します。"
                f"{company.description}",
            )
            # The appointment is historical: date it before the decision, not today.
            LeadAppointment.objects.filter(pk=appointment.pk).update(
                opened_at=_at(decided_on - datetime.timedelta(days=35))
            )
        for i, recommender_key in enumerate(recommenders):
            recommender = self.companies[recommender_key]
            if appointment.recommendations.filter(recommender=recommender).exists():
                continue
            recommendation = services.appointment_recommend(
                actor=self.users[recommender_key],
                appointment=appointment,
                comment=RECOMMENDATION_COMMENTS[i % len(RECOMMENDATION_COMMENTS)],
            )
            Recommendation.objects.filter(pk=recommendation.pk).update(
                created_at=_at(decided_on - datetime.timedelta(days=28 - 7 * i))
            )
        votes_for, votes_against, votes_abstained = votes
        services.appointment_decide(
            actor=decider,
            appointment=appointment,
            approve=True,
            decided_on=decided_on,
            votes_for=votes_for,
            votes_against=votes_against,
            votes_abstained=votes_abstained,
            reason=f"会員{len(recommenders)}社の推薦を受け、運営委員会で審議。"
            "品質管理・検品・代金回収の体制を確認し承認。",
        )

    # -- the whole demo -----------------------------------------------------------------

    def run(self) -> None:
        for order, (code, name_ja, name_en, category) in enumerate(demo.PROCESSES, start=1):
            self.processes[code], _ = Process.objects.get_or_create(
                code=code,
                defaults={
                    "name_ja": name_ja,
                    "name_en": name_en,
                    "category": category,
                    "sort_order": order * 10,
                },
            )
        for order, (code, name_ja, name_en) in enumerate(demo.MATERIALS, start=1):
            self.materials[code], _ = Material.objects.get_or_create(
                code=code,
                defaults={"name_ja": name_ja, "name_en": name_en, "sort_order": order * 10},
            )

        self.user("admin", is_staff=True, is_superuser=True, last_name="管理者")
        migakiya = self.network(demo.MIGAKIYA, demo.MIGAKIYA_FEES)
        prosium = self.network(demo.PROSIUM, demo.PROSIUM_FEES)
        migakiya.partners.add(prosium)

        for network, people in (
            (migakiya, demo.MIGAKIYA_SECRETARIAT),
            (prosium, demo.PROSIUM_SECRETARIAT),
        ):
            for username, last, first, position in people:
                user = self.user(username, last_name=last, first_name=first)
                self.seat(network, user, StaffRole.SECRETARIAT, position)
        secretariat = self.users["jimukyoku"]

        # 磨き屋シンジケート: 39 companies, then its steering committee.
        for spec in (*demo.LEADS, *demo.MEMBERS, *demo.SUPPORTERS):
            self.company(spec, actor=secretariat, network=migakiya)
        for username, last, first, position, company_key in demo.MIGAKIYA_COMMITTEE:
            company = self.companies[company_key] if company_key else None
            user = self.user(username, last_name=last, first_name=first, company=company)
            self.seat(migakiya, user, StaffRole.COMMITTEE, position)
        chairman = self.users["iinkai"]

        for spec in (*demo.LEADS, *demo.MEMBERS):
            self.membership(migakiya, spec, MembershipClass.JOINT_ORDER, actor=secretariat)
        for spec in demo.SUPPORTERS:
            self.membership(migakiya, spec, MembershipClass.SUPPORTING, actor=secretariat)
        for spec in (*demo.LEADS, *demo.MEMBERS):
            if spec.skill_division:
                self.membership(migakiya, spec, MembershipClass.SKILL_DIVISION, actor=secretariat)
        for key, (decided_on, recommenders, votes) in demo.LEAD_APPOINTMENTS.items():
            self.lead(
                migakiya, key, decided_on, recommenders, votes, opener=secretariat, decider=chairman
            )
        for spec in (*demo.LEADS, *demo.MEMBERS, *demo.SUPPORTERS):
            self.capabilities(spec)

        # Non-members in the referral directory: what the members cannot do.
        for spec, consents, notes in demo.NON_MEMBERS:
            company = self.company(spec, actor=secretariat, network=migakiya)
            if not DirectoryEntry.objects.filter(network=migakiya, company=company).exists():
                services.directory_add(
                    actor=secretariat,
                    network=migakiya,
                    company=company,
                    consents_to_referrals=consents,
                    consent_recorded_on=datetime.date(2024, 4, 1) if consents else None,
                    notes=notes,
                )
            self.capabilities(spec)

        # The partner network プロシアムネット.
        prosium_secretariat = self.users["prosium"]
        for spec in demo.PROSIUM_MEMBERS:
            self.company(spec, actor=prosium_secretariat, network=prosium)
            self.membership(prosium, spec, MembershipClass.JOINT_ORDER, actor=prosium_secretariat)
        key, decided_on, recommenders, votes = demo.PROSIUM_LEAD
        self.lead(
            prosium,
            key,
            decided_on,
            recommenders,
            votes,
            opener=prosium_secretariat,
            decider=prosium_secretariat,
        )
        for spec in demo.PROSIUM_MEMBERS:
            self.capabilities(spec)

        for username, kind, name, organisation, email, phone, prefecture in demo.BUYERS:
            last, _sep, first = name.partition(" ")
            user = self.user(username, last_name=last, first_name=first, email=email)
            Buyer.objects.get_or_create(
                user=user,
                defaults={
                    "kind": kind,
                    "name": name,
                    "organisation": organisation,
                    "email": email,
                    "phone": phone,
                    "prefecture": prefecture,
                },
            )


class Command(BaseCommand):
    help = (
        "Create the demo network (磨き屋シンジケート, its members, directory and partner network) "
        "with a login for every role, and its order book. Safe to run again: only what is "
        "missing is created."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if any network exists (what `make run` uses).",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000/",
            help="The URL printed with the logins (default: %(default)s).",
        )

    def handle(self, *args, if_empty: bool, base_url: str, **options):
        if if_empty and Network.objects.exists():
            self.stdout.write(
                "ネットワークが既にあるため、デモデータは作成しません。\n"
                "A network already exists: no demo data created."
            )
        else:
            started = time.monotonic()
            before = row_counts()
            with transaction.atomic():
                DemoSeeder().run()
                seed_history(
                    network=Network.objects.get(slug=demo.MIGAKIYA["slug"]),
                    users={u.username: u for u in User.objects.all()},
                )
            after = row_counts()
            created = {
                label.split(".")[-1]: after[label] - before[label]
                for label in after
                if after[label] != before[label]
            }
            elapsed = time.monotonic() - started
            if created:
                summary = ", ".join(f"{name} +{n}" for name, n in sorted(created.items()))
                self.stdout.write(
                    self.style.SUCCESS(
                        f"デモデータを作成しました / Demo data created ({elapsed:.1f} s): "
                    )
                    + summary
                )
            else:
                self.stdout.write(
                    "デモデータは揃っています。新たに作成したものはありません。\n"
                    "The demo data is complete: nothing new created."
                )
        self.print_logins(base_url)

    def print_logins(self, base_url: str) -> None:
        base_url = base_url.rstrip("/") + "/"
        existing = set(
            User.objects.filter(
                username__in=[username for _ja, _en, username in demo.MAIN_LOGINS]
            ).values_list("username", flat=True)
        )
        rows = [("役割", "Role", "ユーザー名 / Username", "パスワード / Password")]
        for label_ja, label_en, username in demo.MAIN_LOGINS:
            password = demo.DEMO_PASSWORD if username in existing else "（未作成 / not created）"
            rows.append((label_ja, label_en, username, password))
        widths = [max(display_width(row[i]) for row in rows) for i in range(4)]
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        lines = [
            "",
            f"  URL: {base_url}",
            f"  管理画面 / Admin: {base_url}admin/    API: {base_url}api/docs/",
            "",
            rule,
        ]
        for n, row in enumerate(rows):
            lines.append(
                "| " + " | ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)) + " |"
            )
            if n == 0:
                lines.append(rule)
        lines += [
            rule,
            "  各社にもログインがあります / Every company has a login (same password): "
            "lead01–lead10, member01–member15, support01–support14,",
            "  nonmember01–nonmember12, partner01–partner05; committee iinkai2–iinkai6, "
            "secretariat jimukyoku2, buyer2.",
            "",
        ]
        self.stdout.write("\n".join(lines))
