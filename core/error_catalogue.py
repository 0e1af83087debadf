"""Which domain error codes an operation can answer, read from the code itself.

The OpenAPI schema lists, for each API operation, the codes its 4xx bodies can carry, so a
partner's program can branch on them. A hand-kept list per endpoint would drift from the
services; instead this walks the code: from the view's handler, every function it calls
(resolved in the caller's own module namespace, as Python would), transitively, collecting
each domain error it constructs (`SomeError(..., code=...)`) with its HTTP status. The walk
stays inside the project's apps and is a superset: a code listed may need a state the caller
never reaches, but a code the services can raise is never missing. Codes computed at run
time (a variable, not a constant) are reported by `unresolved()` so they can be made
constant."""

import ast
import builtins
import functools
import inspect
import textwrap
from dataclasses import dataclass, field

from .errors import BrokerageError

PROJECT_APPS = ("core", "members", "orders", "billing", "brokerage")


@dataclass(frozen=True)
class RaisedCode:
    status: int
    code: str


@dataclass
class _Walk:
    codes: set[RaisedCode] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)


def _in_project(obj) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.split(".", 1)[0] in PROJECT_APPS


def _resolve(node: ast.expr, namespace: dict, owner: type | None):
    """The object a name or dotted attribute chain means in `namespace`; `self.x` and
    `cls.x` are looked up on `owner`. None when it cannot be known without running."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in ("self", "cls") and owner is not None:
        obj = owner
    elif node.id in namespace:
        obj = namespace[node.id]
    else:
        obj = getattr(builtins, node.id, None)
    for part in reversed(parts):
        try:
            obj = inspect.getattr_static(obj, part)
        except AttributeError:
            return None
        if isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
    return obj


def _is_error_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, BrokerageError)


def _code_of(call: ast.Call, error: type, namespace: dict, owner, walk: _Walk, where: str):
    for keyword in call.keywords:
        if keyword.arg == "code":
            value = _constant(keyword.value, namespace, owner)
            if value is None:
                walk.unresolved.add(where)
                return None
            return RaisedCode(error.status_code, str(value))
    return RaisedCode(error.status_code, str(error.code))


def _constant(node: ast.expr, namespace: dict, owner):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    value = _resolve(node, namespace, owner)
    return value if isinstance(value, str) else None


def _function_tree(func) -> ast.AST | None:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return None
    try:
        return ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None


def _visit(func, owner: type | None, walk: _Walk) -> None:
    func = inspect.unwrap(func)
    if id(func) in walk.seen or not callable(func) or not _in_project(func):
        return
    walk.seen.add(id(func))
    if isinstance(func, type):
        return  # a class (serializer, form): its own methods are not followed
    tree = _function_tree(func)
    namespace = getattr(func, "__globals__", {})
    if owner is None and "." in func.__qualname__:
        owner = namespace.get(func.__qualname__.split(".", 1)[0])
    where = f"{func.__module__}.{func.__qualname__}"
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call):
            target = _resolve(node.func, namespace, owner)
            if _is_error_class(target):
                raised = _code_of(node, target, namespace, owner, walk, where)
                if raised:
                    walk.codes.add(raised)
        elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            # Called here or handed on (`self._act(request, ..., services.inquiry_publish)`):
            # either way the function can run for this operation.
            target = _resolve(node, namespace, owner)
            if inspect.isfunction(target) or inspect.ismethod(target):
                _visit(target, owner if _is_method_of(target, owner) else None, walk)


def _is_method_of(func, owner) -> bool:
    return owner is not None and func.__qualname__.split(".", 1)[0] in {
        klass.__name__ for klass in owner.__mro__
    }


@functools.cache
def codes_raised_by(func, owner: type | None = None) -> frozenset[RaisedCode]:
    """Every (status, code) of a domain error `func` or what it calls can raise."""
    walk = _Walk()
    _visit(func, owner, walk)
    return frozenset(walk.codes)


def unresolved(func, owner: type | None = None) -> set[str]:
    """The functions under `func` that raise a domain error with a code only known at run
    time (so the schema cannot list it)."""
    walk = _Walk()
    _visit(func, owner, walk)
    return walk.unresolved
