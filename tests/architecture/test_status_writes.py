"""One way a status moves (issue 14, item 1): through `core.transitions` and nowhere else.

`transition()` / `transition_many()` check the move against the aggregate's TRANSITIONS
table and record who, when and why (StatusChange). A status written any other way skips
both, so this scans every module of the apps (ast) for one: an assignment to `.status` or
`.<x>_status`, `setattr(x, "status", …)`, `update(status=…)` or `update(**{"status": …})`
(querysets and dicts handed to them alike), `update_or_create(defaults={"status": …})`, and
`bulk_update(…, ["status", …])`. Creating a row in its first status (`Model(status=…)`,
`objects.create(status=…)`, `get_or_create(defaults=…)`) is not a move and is allowed.

What is left is listed in ALLOWED with its reason: technical rows, not aggregates with a
state table. Keep it short; an entry no longer needed fails too, so the list stays true."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("brokerage", "members", "orders", "billing", "core")
HOME = "core/transitions.py"

# Status fields written outside core.transitions, each for a reason.
ALLOWED_FIELDS = {
    "email_status": "the outbox state of an e-mail (pending → sent / failed), written by the "
    "mail relay on notifications, referral offers and guest requests; not a domain status",
}
# (module, field): written there only.
ALLOWED = {
    ("brokerage/webhooks.py", "status"): "a webhook delivery's attempts (pending → succeeded "
    "/ failed), guarded by a conditional UPDATE; transport bookkeeping, not an aggregate",
    ("brokerage/partners.py", "status"): "the secretariat's re-send puts a webhook delivery "
    "back to pending for a fresh round of attempts (same bookkeeping as above)",
    ("core/idempotency.py", "status"): "an idempotency key's record (in progress → done), "
    "the API's request bookkeeping",
}


def _is_status(name) -> bool:
    return isinstance(name, str) and (name == "status" or name.endswith("_status"))


def _dict_keys(node) -> list[str]:
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys if isinstance(k, ast.Constant)]
    return []


def _strings(node) -> list[str]:
    """The constant strings of a list, tuple or set literal."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return []


def _call_writes(node: ast.Call) -> list[str]:
    name = (
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    )
    keywords = {kw.arg: kw.value for kw in node.keywords}
    if name == "update":  # a queryset's, or a dict of changes handed to one
        written = [k for k in keywords if k is not None]
        for kw in node.keywords:
            if kw.arg is None:
                written += _dict_keys(kw.value)
        for arg in node.args:
            written += _dict_keys(arg)
        return written
    if name == "update_or_create":
        return _dict_keys(keywords.get("defaults"))
    if name == "bulk_update":
        fields = keywords.get("fields", node.args[1] if len(node.args) > 1 else None)
        return _strings(fields)
    if name == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
        return [node.args[1].value]
    return []


def status_writes(source: str) -> list[tuple[int, str]]:
    """(line, field) of each status written in `source` other than at creation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store):
                        found.append((node.lineno, part.attr))
        elif isinstance(node, ast.Call):
            found += [(node.lineno, field) for field in _call_writes(node)]
    return sorted((line, field) for line, field in found if _is_status(field))


CAUGHT = {
    "assignment": 'project.status = "x"',
    "tuple assignment": 'package.status, package.cancel_reason = "cancelled", reason',
    "another state field": 'offer.email_status = "sent"',
    "queryset update": 'Invitation.objects.filter(status="invited").update(status="withdrawn")',
    "update with a dict": 'qs.update(**{"status": "x", "responded_at": now})',
    "dict of changes": 'fields.update(status="failed", next_attempt_at=None)',
    "update_or_create": 'Award.objects.update_or_create(inquiry=i, defaults={"status": "x"})',
    "bulk_update": 'WorkPackage.objects.bulk_update(packages, ["status"])',
    "bulk_update fields=": 'WorkPackage.objects.bulk_update(ps, fields=("member", "status"))',
    "setattr": 'setattr(project, "status", "x")',
    "in a service": (
        "def project_close(*, actor, project):\n"
        "    with transaction.atomic():\n"
        "        project = lock_one(Project, project.pk)\n"
        '        project.status = "x"\n'
        '        project.save(update_fields=["status"])\n'
    ),
}
LEFT_ALONE = {
    "creation": 'Project(status="forming")',
    "objects.create": 'Project.objects.create(status="forming", lead=lead)',
    "get_or_create": 'Award.objects.get_or_create(inquiry=i, defaults={"status": "proposed"})',
    "filter then update of another field": 'qs.filter(status="x").update(late_warned_on=d)',
    "a computed field name": "qs.update(**{mark: today})",
    "reading": 'if project.status == "x":\n    pass',
    "the transition": 'transition(project, to="x", allowed=Project.TRANSITIONS, actor=a)',
    "another attribute": 'setattr(award, key, value)\naward.reason = "x"',
}


@pytest.mark.parametrize("source", CAUGHT.values(), ids=CAUGHT.keys())
def test_the_scan_catches_a_status_written_by_hand(source):
    assert status_writes(source)


@pytest.mark.parametrize("source", LEFT_ALONE.values(), ids=LEFT_ALONE.keys())
def test_the_scan_leaves_creation_and_other_fields_alone(source):
    assert status_writes(source) == []


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            demo = "management" in path.parts and "demo" in path.stem
            if name == HOME or demo or {"migrations", "tests"} & set(path.parts):
                continue
            yield name, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def writes() -> list[tuple[str, int, str]]:
    return [
        (name, line, field) for name, source in _modules() for line, field in status_writes(source)
    ]


def test_every_status_moves_through_core_transitions(writes):
    stray = [
        f"{name}:{line}: {field}"
        for name, line, field in writes
        if field not in ALLOWED_FIELDS and (name, field) not in ALLOWED
    ]
    assert not stray, (
        "a status written by hand: move it with core.transitions.transition() (or "
        "transition_many()) and the model's TRANSITIONS table:\n" + "\n".join(stray)
    )


def test_every_allowance_is_still_needed(writes):
    used = {(name, field) for name, _line, field in writes}
    stale = [key for key in ALLOWED if key not in used]
    stale += [field for field in ALLOWED_FIELDS if field not in {f for _n, f in used}]
    assert not stale, f"no longer written there, drop from the allowlist: {stale}"
