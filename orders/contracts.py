"""Contracts (契約書): the secretariat's templates for the basic agreement (基本合意書) and the
NDA (秘密保持契約書), and each agreement as a PDF document.

An agreement keeps the text it was generated with (orders.projects renders the network's
template once, when a member takes a package): a template change applies to the agreements
generated after it.
"""

import datetime
import hashlib
import logging

from django.db import transaction
from django.db.models import QuerySet
from django.template import Context, Template, TemplateSyntaxError
from django.template.defaulttags import DebugNode, LoadNode
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core import events, pdf
from core.errors import BrokerageError
from members.models import Company, Network
from members.permissions import roles_of
from members.prefectures import PREFECTURES

from .models import Agreement, AgreementKind, ContractTemplate, Project
from .projects import AGREEMENT_CONTEXT, DEFAULT_TEMPLATES, payment_terms_text

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 20_000
# Translated where it is raised (members.permissions.Roles.require_secretariat).
TEMPLATE_REFUSAL = gettext_noop("Only the network's secretariat edits its contract templates.")
# Tags that reach outside the template (other templates, tag libraries, the server's
# modules): a contract is plain text with the agreement's names filled in.
FORBIDDEN_TAGS = {
    LoadNode: "load",
    IncludeNode: "include",
    ExtendsNode: "extends",
    DebugNode: "debug",
}
# What each name of AGREEMENT_CONTEXT holds, for the editor.
NAME_HELP = {
    "lead": gettext_lazy("legal name of the lead company (甲)"),
    "member": gettext_lazy("legal name of the member (乙)"),
    "reference": gettext_lazy("the inquiry's reference"),
    "title": gettext_lazy("the inquiry's title"),
    "packages": gettext_lazy(
        "the member's work packages; for each p: p.process, p.material, p.quantity, "
        "p.unit_price_yen (with thousands separators), p.due_date"
    ),
    "payment_terms": gettext_lazy("the payment terms agreed with the buyer"),
}
# The document's title, and the body's first line is left out when it repeats it.
PDF_TITLES = {AgreementKind.BASIC: "基本合意書", AgreementKind.NDA: "秘密保持契約書"}
PREFECTURE_JA = {code: ja for code, ja, _en in PREFECTURES}


# ---------------------------------------------------------------------------------------
# Reads


def contract_template_list(*, viewer) -> QuerySet[ContractTemplate]:
    """The saved templates of the networks the viewer is staff of (all for platform admins).
    A kind with no row uses the standard text (`template_current`)."""
    roles = roles_of(viewer)
    qs = ContractTemplate.objects.select_related("network").order_by("network_id", "kind")
    if roles.is_platform_admin:
        return qs
    return qs.filter(network_id__in=roles.staff_network_ids)


def template_current(network: Network, kind: str) -> tuple[str, ContractTemplate | None]:
    """The text new agreements of this kind get in the network, and its row (None: the
    standard text)."""
    saved = ContractTemplate.objects.filter(network=network, kind=kind).first()
    return (saved.body, saved) if saved else (DEFAULT_TEMPLATES[kind], None)


def usable_names() -> list[tuple[str, str]]:
    return [(name, str(NAME_HELP.get(name, ""))) for name in AGREEMENT_CONTEXT]


# ---------------------------------------------------------------------------------------
# Checking a template


class _NameRecordingContext(Context):
    """Remembers the names a template asked for and the context did not have."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing: set[str] = set()

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            self.missing.add(key)
            raise


def _sample_context(network: Network) -> dict:
    """Made-up values of the shape orders.projects._render_agreement gives a template."""
    today = timezone.localdate()
    sample = {
        "lead": "株式会社 見本製作所",
        "member": "有限会社 見本研磨",
        "reference": f"{network.slug.upper()[:8]}-{today.year}-00001",
        "title": "ステンレス製タンブラーの鏡面研磨",
        "packages": [
            {
                "process": "バフ研磨",
                "material": "ステンレス",
                "quantity": 500,
                "unit_price_yen": "1,200",
                "due_date": today + datetime.timedelta(days=30),
            },
            {
                "process": "電解研磨",
                "material": "ステンレス",
                "quantity": 500,
                "unit_price_yen": "300",
                "due_date": today + datetime.timedelta(days=40),
            },
        ],
        "payment_terms": payment_terms_text(
            Project(payment_closing_day=31, payment_month_offset=1, payment_day=31)
        ),
    }
    # A name added to AGREEMENT_CONTEXT later still renders (as a placeholder).
    return {name: sample.get(name, f"[{name}]") for name in AGREEMENT_CONTEXT}


def _check_kind(kind: str) -> str:
    if kind not in AgreementKind.values:
        raise BrokerageError(_("Unknown kind of contract."), field="kind")
    return kind


def _normalise(body: str) -> str:
    return (body or "").replace("\r\n", "\n").replace("\r", "\n")


def _render_sample(network: Network, body: str) -> str:
    """Compile and render the body with sample data; a broken template is refused on
    `body`. Returns the rendered sample."""
    if not body.strip():
        raise BrokerageError(_("Write the text of the contract."), field="body")
    if len(body) > MAX_BODY_CHARS:
        raise BrokerageError(
            _("The text is too long (at most %(max)d characters).") % {"max": MAX_BODY_CHARS},
            field="body",
        )
    try:
        template = Template(body)
    except TemplateSyntaxError as exc:
        raise BrokerageError(
            _("The template has an error: %(error)s") % {"error": exc},
            field="body",
            code="template_syntax",
        ) from exc
    for node_type, tag in FORBIDDEN_TAGS.items():
        if template.nodelist.get_nodes_by_type(node_type):
            raise BrokerageError(
                _("{%% %(tag)s %%} cannot be used in a contract template.") % {"tag": tag},
                field="body",
                code="template_syntax",
            )
    context = _NameRecordingContext(_sample_context(network), autoescape=False)
    try:
        text = template.render(context)
    except Exception as exc:  # a filter or tag failing on the sample: the author's to fix
        logger.info("Contract template does not render: %s", exc)
        raise BrokerageError(
            _("The template has an error: %(error)s") % {"error": exc},
            field="body",
            code="template_syntax",
        ) from exc
    unknown = sorted(context.missing - set(AGREEMENT_CONTEXT))
    if unknown:
        raise BrokerageError(
            _("Unknown name(s): %(names)s. Usable names: %(usable)s.")
            % {"names": ", ".join(unknown), "usable": ", ".join(AGREEMENT_CONTEXT)},
            field="body",
            code="template_unknown_name",
        )
    return text


def template_preview(network: Network, kind: str, body: str, *, actor=None) -> str:
    """The body rendered with sample data, as an agreement of this kind would read. Raises
    BrokerageError(field="body") for a broken template, as `template_save` would. With
    `actor`, only the network's secretariat may preview."""
    if actor is not None:
        roles_of(actor).require_secretariat(network.pk, _(TEMPLATE_REFUSAL))
    _check_kind(kind)
    return _render_sample(network, _normalise(body))


# ---------------------------------------------------------------------------------------
# Writes


def template_save(*, actor, network: Network, kind: str, body: str) -> ContractTemplate:
    """The network's secretariat sets its text for a kind of contract (inserted or replaced).

    The body must be a Django template that renders with the names of AGREEMENT_CONTEXT and
    nothing else. Records `contract_template.saved` with the previous text (`previous_body`,
    None while the standard text was in use). Saving the same text again changes nothing.
    Agreements already generated keep their text.
    """
    roles_of(actor).require_secretariat(network.pk, _(TEMPLATE_REFUSAL))
    _check_kind(kind)
    body = _normalise(body)
    _render_sample(network, body)
    with transaction.atomic():
        current = (
            ContractTemplate.objects.select_for_update(of=("self",))
            .filter(network=network, kind=kind)
            .first()
        )
        if current is not None and current.body == body:
            return current
        template, _created = ContractTemplate.objects.update_or_create(
            network=network, kind=kind, defaults={"body": body}
        )
        events.record(
            kind=events.EventKind.CONTRACT_TEMPLATE_SAVED,
            subject=template,
            actor=actor,
            network_id=network.pk,
            contract_kind=kind,
            previous_body=current.body if current is not None else None,
        )
    return template


# ---------------------------------------------------------------------------------------
# The agreement as a PDF


def agreement_number(agreement: Agreement) -> str:
    return f"{agreement.project.inquiry.reference}-{agreement.kind.upper()}-{agreement.pk}"


def _address(company: Company) -> list[str]:
    lines = []
    place = f"{PREFECTURE_JA.get(company.prefecture, '')}{company.city}{company.address_line}"
    if place:
        lines.append(f"〒{company.postal_code} {place}" if company.postal_code else place)
    if company.corporate_number:
        lines.append(f"法人番号 / Corporate No. {company.corporate_number}")
    return lines


def _when(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else None


def agreement_pdf(agreement: Agreement) -> bytes:
    """The agreement as the parties accepted it (or not yet): its text as generated, the two
    parties, and who accepted it when. The caller checks the viewer may see it."""
    project = agreement.project
    inquiry, lead, member = project.inquiry, project.lead, agreement.member
    title = PDF_TITLES.get(agreement.kind, agreement.get_kind_display())
    lines = agreement.body.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == title:
        lines = lines[1:]
    in_force = agreement.is_accepted
    document = pdf.Document(
        title=title,
        subject=f"{inquiry.reference} {inquiry.title}",
        author=project.network.name,
        footer=f"{project.network.name} · {agreement_number(agreement)}",
        blocks=[
            pdf.MetaBlock(
                [
                    ("契約番号 / Agreement No.", agreement_number(agreement)),
                    ("引き合い / Inquiry", inquiry.reference),
                    (
                        "作成日 / Issued",
                        timezone.localtime(agreement.created_at).date().isoformat(),
                    ),
                    (
                        "状態 / Status",
                        "締結済 / accepted by both parties"
                        if in_force
                        else "承諾待ち / awaiting acceptance",
                    ),
                ]
            ),
            pdf.Parties(
                [
                    pdf.Party("甲（受注幹事企業）/ Lead company", lead.legal_name, _address(lead)),
                    pdf.Party("乙（共同受注部会員）/ Member", member.legal_name, _address(member)),
                ]
            ),
            pdf.Text("\n".join(lines).strip("\n")),
            pdf.Signatures(
                [
                    pdf.Signature(
                        "甲 / Lead company",
                        lead.legal_name,
                        _when(agreement.lead_accepted_at),
                        str(agreement.lead_accepted_by) if agreement.lead_accepted_by else None,
                    ),
                    pdf.Signature(
                        "乙 / Member",
                        member.legal_name,
                        _when(agreement.member_accepted_at),
                        str(agreement.member_accepted_by) if agreement.member_accepted_by else None,
                    ),
                ],
                note=(
                    "本書は共同受注プラットフォーム上で電子的に承諾され、承諾の日時と承諾者が"
                    "記録されています。\nAccepted electronically on the joint-order platform, "
                    "which records when and by whom.\n"
                    f"本文の SHA-256 / Text SHA-256: "
                    f"{hashlib.sha256(agreement.body.encode()).hexdigest()}"
                ),
            ),
        ],
    )
    return pdf.render(document)


def agreement_pdf_filename(agreement: Agreement) -> str:
    return f"agreement-{agreement_number(agreement)}.pdf"
