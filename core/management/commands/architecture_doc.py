"""`manage.py architecture_doc`: writes docs/architecture.md from the code; `--check` fails
when the file differs (tests/architecture/test_architecture_doc.py runs it).

What the code knows comes from the code: the apps and what each may import from the
import-linter contract in pyproject.toml, each state machine from its model's TRANSITIONS
(the comment above a row in the table becomes the row's note). What it cannot say (what an
app holds, the path of an inquiry, the few lines on background work) is the TEMPLATE below:
edit it here, then run the command."""

import ast
import inspect
import sys
import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

DOC = Path(settings.BASE_DIR) / "docs" / "architecture.md"
PYPROJECT = Path(settings.BASE_DIR) / "pyproject.toml"

# What each layer of the contract holds. An app in the contract without a line here (or a
# line for an app no longer in it) stops the command: the table stays true.
HOLDS = {
    "config": "settings from the environment, URLs, the Celery app, WSGI/ASGI",
    "brokerage": "what crosses the apps: event dispatch and notifications, referral, partner "
    "keys, feed and webhooks, the order record and probation, the scheduled jobs, the demo",
    "billing": "settlement: tax and terms (pure functions), runs, documents (invoices, member "
    "statements, commissions, fees), payments; `issuing.py` writes documents in bulk",
    "orders": "inquiries, applications (bids), awards, projects, packages, deliveries, claims",
    "members": "users, networks and their rules, fees, companies, memberships, lead "
    "appointments, catalogue, capabilities and matching, the directory, buyers",
    "core": "domain errors, `transition()` and `StatusChange`, the event outbox "
    "(`DomainEvent`), the API base view, idempotency, queueing, throttling, CSV, PDFs",
}

TEMPLATE = """\
<!-- Generated from the code by `python manage.py architecture_doc` (`--check` compares); the
prose is that command's TEMPLATE: edit it or the code, then run the command. -->
# Architecture (one page)

## Apps and imports
{apps}

Imports point one way,
{layers},
function-local imports included: `make lint` runs import-linter on the contract in
pyproject.toml. A lower layer queues a higher layer's task by name (`core.queueing.enqueue`)
or records an event. Inside an app: `models.py`, `services.py` (every write: one
transaction, checks who may act, raises `BrokerageError`), `selectors.py` (every read, scoped
to the viewer), `permissions.py` (`roles_of(user)`), `locks.py`, `api/` (thin views on
`core.api.ScopedViewSet`), `views.py` + templates, `tasks.py`.

## The path of an inquiry
buyer (page or API) → `orders.services.inquiry_submit` (+ `DomainEvent inquiry.submitted` in
the same transaction) → after commit `brokerage` dispatches the event: the secretariat is told
→ the secretariat screens it (publish, ask, reject, refer, or escalate to the committee),
seeing `members.matching` → published: the leads whose team can cover it are called → sealed
applications until the deadline → the deadline job closes the window: nobody applied →
referral; otherwise prices open and `orders.scoring` proposes the award → `award_confirm` →
the lead opens a project, splits it into work packages for its members (agreements,
deliveries, inspection) and ships to the buyer → the buyer's acceptance is settled in the
month's close (`billing`): documents, then payments.

## State machines
Every move goes through `core.transitions.transition()` (or `transition_many()`): it checks
the model's `TRANSITIONS` (a table below, whose note is the comment above the row), is a no-op
when already in the target state, saves with `update_fields` and appends a `StatusChange` row
(actor, time, reason) in the same transaction.

{state_machines}

## Signing in, partners, background work
django-axes with `core.lockout`; `members.accounts`: password reset through the outbox and
TOTP two-factor (django-otp) where the network requires it ([security.md](security.md)).
Partners use hashed, scoped API keys, a feed and signed webhooks ([partners.md](partners.md)).
Celery (`config/celery.py`): Redis broker and a worker per queue (`notifications`,
`settlement`, `partners`, `celery`) in production, kombu's filesystem broker beside
`runserver` by default (`make run`). Tasks take ids, call one service and are safe to run
twice; beat runs the outbox relays, the deadline job, expiries, late packages, probation
review, the settlement resume scan and document integrity ([integrity.md](integrity.md)).
Redis down stops background work, not the site: cache misses, sessions in the database, the
partner throttle lets requests through, events wait in their outbox tables.

## API lists and retries
Growing lists page by signed keyset cursor (`core.pagination.KeysetPagination`), never
counted. `core.idempotency.run_once` claims an `Idempotency-Key` (caller, operation, body
hash) before the work: same body 200, other body 422, still running 409.
"""


def _contract() -> dict:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layered = [c for c in config["contracts"] if c["type"] == "layers"]
    if len(layered) != 1:
        raise CommandError("expected one layers contract in pyproject.toml")
    return layered[0]


def apps_table(layers: list[str]) -> str:
    if set(layers) != set(HOLDS):
        raise CommandError(f"HOLDS and the contract's layers differ: {sorted(layers)}")
    rows = ["| app | holds | may import |", "| --- | --- | --- |"]
    for i, layer in enumerate(layers):
        below = layers[i + 1 :]
        may = ", ".join(f"`{name}`" for name in below) if below else "Django only"
        rows.append(f"| `{layer}` | {HOLDS[layer]} | {may} |")
    return "\n".join(rows)


def _table_node(model) -> tuple[ast.Dict | None, list[str]]:
    """The dict literal of `model.TRANSITIONS` in its module's source (followed through one
    module-level name, `TRANSITIONS = INQUIRY_TRANSITIONS`), and that source's lines."""
    source = inspect.getsource(sys.modules[model.__module__])
    tree = ast.parse(source)
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == model.__name__:
            for item in node.body:
                if isinstance(item, ast.Assign) and ast.unparse(item.targets[0]) == "TRANSITIONS":
                    assigned["class"] = item.value
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    value = assigned.get("class")
    if isinstance(value, ast.Name):
        value = assigned.get(value.id)
    return (value if isinstance(value, ast.Dict) else None), source.splitlines()


def _notes(model) -> dict[str, str]:
    """The comment lines right above each row of the TRANSITIONS literal, by the row's key
    as written (`S.SUBMITTED`), the key's last name lower-cased being its value."""
    node, lines = _table_node(model)
    if node is None:
        return {}
    notes = {}
    for key in node.keys:
        comment = []
        line = key.lineno - 2
        while line >= 0 and lines[line].strip().startswith("#"):
            comment.insert(0, lines[line].strip().lstrip("#").strip())
            line -= 1
        if comment:  # a "|" would end the table's cell
            text = " ".join(comment).replace("|", "\\|")
            notes[ast.unparse(key).rsplit(".", 1)[-1].lower()] = text
    return notes


def _status_field(model):
    keys = {str(k) for k in model.TRANSITIONS}
    for field in model._meta.concrete_fields:
        if field.choices and keys <= {str(value) for value, _label in field.choices}:
            return field
    raise CommandError(f"{model._meta.label}.TRANSITIONS names no field's choices")


def state_machine_table(model) -> str:
    field = _status_field(model)
    order = [str(value) for value, _label in field.choices]
    notes = _notes(model)
    table = {str(k): sorted(map(str, v), key=order.index) for k, v in model.TRANSITIONS.items()}
    moving = [state for state in order if table.get(state)]
    final = [state for state in order if state in table and not table[state]]
    title = str(model._meta.verbose_name).capitalize()
    ends = f", ends {', '.join(final)}" if final else ""
    machine = f"**{title}** (`{model._meta.app_label}`; starts {field.default}{ends})"
    rows = [
        f"| {machine}: from | to | note |",
        "| --- | --- | --- |",
    ]
    for state in moving:
        note = notes.get(state.lower(), "")
        rows.append(f"| {state} | {', '.join(table[state])} | {note} |")
    return "\n".join(rows)


def state_machines() -> str:
    layers = _contract()["layers"]
    models = [m for m in apps.get_models() if hasattr(m, "TRANSITIONS")]
    # Lowest layer first, then in the order the app defines its models.
    models.sort(key=lambda m: -layers.index(m._meta.app_label))
    return "\n\n".join(state_machine_table(m) for m in models)


def render() -> str:
    contract = _contract()
    with translation.override("en"):
        return TEMPLATE.format(
            apps=apps_table(contract["layers"]),
            layers=" → ".join(f"`{name}`" for name in contract["layers"]),
            state_machines=state_machines(),
        )


class Command(BaseCommand):
    help = "Write docs/architecture.md from the code (--check: fail if it differs)."
    requires_system_checks = []  # reads models and pyproject.toml only, never the URLs

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare, do not write")

    def handle(self, *args, check=False, **options):
        text = render()
        if check:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise CommandError(
                    f"{DOC.name} is not what the code says: run manage.py architecture_doc"
                )
            self.stdout.write(f"{DOC.name} is up to date.")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC} ({len(text.splitlines())} lines).")
