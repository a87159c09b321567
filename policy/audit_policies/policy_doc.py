"""An IAM policy-document evaluator for resource policies: who, outside an allowed set, can do what.

The pack's access rules (bucket, key and topic policies) ask questions of meaning, not of layout:
"which principals outside this account can perform ``s3:GetObject`` on the log files?". This module
answers them the way AWS evaluates a resource policy (IAM User Guide, "Policy evaluation logic"):

* an explicit Deny overrides any Allow; a request no statement allows is implicitly denied;
* ``Action``/``NotAction`` and ``Resource``/``NotResource`` match with the ``*`` and ``?`` wildcards
  (actions case-insensitively, ARNs case-sensitively; "IAM JSON policy elements: Action/Resource");
* ``Principal: "*"`` and ``{"AWS": "*"}`` are every principal; an account id or ``...:root`` is every
  principal of that account; ``NotPrincipal`` in a Deny exempts the listed principals
  ("IAM JSON policy elements: Principal / NotPrincipal");
* every condition in a statement must hold; a negated operator (``StringNotEquals``, ``ArnNotLike``)
  holds when the key is absent, a positive one does not; ``...IfExists`` holds when the key is absent
  ("IAM JSON policy elements: Condition operators").

Statements are normalised first (string-or-list fields, principal forms, operator qualifiers), so
equivalent documents written differently (split statements, action lists instead of ``s3:*``) get the
same answer.

What narrows *who* a statement applies to is modelled as a ``Scope``: the principal element together
with the condition keys that really narrow it: ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalOrgID``, ``aws:SourceArn``/``aws:SourceAccount`` (the service acting for a resource of an
account; "AWS global condition context keys", confused-deputy prevention), ``aws:PrincipalIsAWSService``,
``aws:SecureTransport``, ``kms:CallerAccount`` and the ``kms:EncryptionContext:aws:<service>:arn`` keys
that CloudTrail and CloudWatch Logs document for their key policies. Operators understood:
``StringEquals``/``StringLike``/``ArnEquals``/``ArnLike``/``Bool`` and their negations, with the
``IfExists`` suffix and the ``ForAnyValue:``/``ForAllValues:`` qualifiers.

Anything else is treated conservatively and said so in the answer's notes: a condition this module
does not understand is ignored in an Allow (the grant is judged as if it were unconditional) and makes
a Deny count as not applying; an Allow's ``...IfExists`` or ``ForAllValues:`` on a narrowing key does not
narrow (the key may be absent).

Standard library only; nothing here imports ``pulumi_policy``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

# Keys whose values narrow who may make the request (lower-case, as IAM compares keys).
PRINCIPAL_ARN = "aws:principalarn"
PRINCIPAL_ACCOUNT = "aws:principalaccount"
PRINCIPAL_ORG = "aws:principalorgid"
SOURCE_ARN = "aws:sourcearn"
SOURCE_ACCOUNT = "aws:sourceaccount"
SOURCE_OWNER = "aws:sourceowner"  # SNS's older spelling of the source account
IS_SERVICE = "aws:principalisawsservice"
SECURE_TRANSPORT = "aws:securetransport"
CALLER_ACCOUNT = "kms:calleraccount"
_CONTEXT_ARN = re.compile(r"^kms:encryptioncontext:aws:[a-z0-9-]+:arn$")

# Keys that restrict *what* is requested, not who asks: understood, and never a narrowing of the
# requester (so they are ignored without a note in an Allow, and make a Deny not apply to everyone).
_REQUEST_KEYS = re.compile(
    r"^(s3:|kms:viaservice$|kms:encryptioncontext|kms:grant|sns:|aws:requestedregion$)")

_STRING_OPS = {"stringequals", "stringlike", "arnequals", "arnlike", "stringequalsignorecase"}
_NEGATED_OPS = {"stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike",
                "stringnotequalsignorecase"}


# --- wildcards and ARNs ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character, nothing else special."""
    return _regex(pattern, ignore_case).fullmatch(value) is not None


def literal_prefix(pattern: str) -> str:
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


def may_match_prefix(pattern: str, prefix: str, *, ignore_case: bool = False) -> bool:
    """Whether ``pattern`` can match some string starting with ``prefix`` (may over-approximate)."""
    lit = literal_prefix(pattern)
    if ignore_case:
        lit, prefix = lit.lower(), prefix.lower()
    if len(lit) == len(pattern):  # no wildcard: the pattern is one string
        return lit.startswith(prefix)
    return lit.startswith(prefix) or prefix.startswith(lit)


def covers_prefix(pattern: str, prefix: str, *, ignore_case: bool = False) -> bool:
    """Whether ``pattern`` matches every string that starts with ``prefix``."""
    if not pattern.endswith("*"):
        return False
    head = pattern[:-1]
    return any(matches(head, prefix[:k], ignore_case=ignore_case) for k in range(len(prefix) + 1))


def arn_account(arn: str) -> str | None:
    """The account field of an ARN (or a bare 12-digit account id); None when absent or wildcarded."""
    if re.fullmatch(r"\d{12}", arn):
        return arn
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    account = parts[4]
    return account if re.fullmatch(r"\d{12}", account) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- normalised statements -------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    operator: str  # base operator, lower case, without IfExists / qualifier: "stringequals"
    key: str  # lower case
    values: tuple[str, ...]
    if_exists: bool = False
    qualifier: str | None = None  # "foranyvalue" | "forallvalues"
    written: str = ""  # as in the document, for notes

    @property
    def negated(self) -> bool:
        return self.operator in _NEGATED_OPS


@dataclass(frozen=True)
class Principal:
    kind: str  # "*", "AWS", "Service", "Federated", "CanonicalUser"
    value: str


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str
    effect: str  # "Allow" | "Deny"
    principals: tuple[Principal, ...] | None  # None: no Principal element
    not_principals: tuple[Principal, ...] | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...]

    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"


def _principals(value: Any) -> tuple[Principal, ...] | None:
    if value is None:
        return None
    if value == "*":
        return (Principal("*", "*"),)
    if not isinstance(value, dict):
        return ()
    found: list[Principal] = []
    for kind, entries in value.items():
        for entry in _as_list(entries):
            entry = str(entry)
            found.append(Principal("*", "*") if kind == "AWS" and entry == "*" else Principal(kind, entry))
    return tuple(found)


def _conditions(value: Any) -> tuple[Condition, ...]:
    found: list[Condition] = []
    if not isinstance(value, dict):
        return ()
    for written_op, block in value.items():
        op = str(written_op)
        qualifier = None
        if ":" in op:
            qualifier, op = op.split(":", 1)
            qualifier = qualifier.lower()
        if_exists = op.endswith("IfExists")
        base = (op[: -len("IfExists")] if if_exists else op).lower()
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            found.append(Condition(base, str(key).lower(), tuple(
                str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(values)),
                if_exists, qualifier, f"{written_op} {key}"))
    return tuple(found)


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in _as_list(value))


def parse(document: Any) -> list[Statement]:
    """The statements of a policy document (a dict); anything malformed is skipped."""
    if not isinstance(document, dict):
        return []
    statements = []
    for i, raw in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(raw, dict) or raw.get("Effect") not in ("Allow", "Deny"):
            continue
        statements.append(Statement(
            index=i, sid=str(raw.get("Sid") or ""), effect=raw["Effect"],
            principals=_principals(raw.get("Principal")),
            not_principals=_principals(raw.get("NotPrincipal")),
            actions=_tuple(raw.get("Action")), not_actions=_tuple(raw.get("NotAction")),
            resources=_tuple(raw.get("Resource")), not_resources=_tuple(raw.get("NotResource")),
            conditions=_conditions(raw.get("Condition")),
        ))
    return statements


# --- what a statement applies to -------------------------------------------------------------------

def action_may_match(stmt: Statement, action: str) -> bool:
    """Whether the statement applies to ``action`` (an exact action, or ``svc:*`` for 'any of svc')."""
    if action.endswith("*"):
        prefix = action[:-1]
        if stmt.actions is not None:
            return any(may_match_prefix(a, prefix, ignore_case=True) for a in stmt.actions)
        if stmt.not_actions is not None:
            return not any(covers_prefix(a, prefix, ignore_case=True) for a in stmt.not_actions)
        return False
    if stmt.actions is not None:
        return any(matches(a, action, ignore_case=True) for a in stmt.actions)
    if stmt.not_actions is not None:
        return not any(matches(a, action, ignore_case=True) for a in stmt.not_actions)
    return False


def action_covers(stmt: Statement, action: str) -> bool:
    """Whether the statement applies to every action ``action`` stands for (``svc:*`` = all of svc)."""
    if not action.endswith("*"):
        return action_may_match(stmt, action)
    prefix = action[:-1]
    if stmt.actions is not None:
        return any(covers_prefix(a, prefix, ignore_case=True) for a in stmt.actions)
    if stmt.not_actions is not None:
        return not any(may_match_prefix(a, prefix, ignore_case=True) for a in stmt.not_actions)
    return False


@dataclass(frozen=True)
class Target:
    """A resource ARN, or (``prefix``) every ARN that starts with ``arn`` (e.g. a bucket's log objects).

    ``arn`` is written with the partition ``aws``; patterns are tried in every partition.
    """

    arn: str
    prefix: bool = False

    def variants(self) -> list[str]:
        return [self.arn.replace("arn:aws:", f"arn:{p}:", 1) for p in PARTITIONS]

    def may_match(self, pattern: str) -> bool:
        if self.prefix:
            return any(may_match_prefix(pattern, v) for v in self.variants())
        return any(matches(pattern, v) for v in self.variants())

    def covered_by(self, pattern: str) -> bool:
        if self.prefix:
            return any(covers_prefix(pattern, v) for v in self.variants())
        return any(matches(pattern, v) for v in self.variants())


def resource_may_match(stmt: Statement, target: Target) -> bool:
    if stmt.resources is not None:
        return any(target.may_match(r) for r in stmt.resources)
    if stmt.not_resources is not None:
        return not any(target.covered_by(r) for r in stmt.not_resources)
    return False


def resource_covers(stmt: Statement, target: Target) -> bool:
    if stmt.resources is not None:
        return any(target.covered_by(r) for r in stmt.resources)
    if stmt.not_resources is not None:
        return not any(target.may_match(r) for r in stmt.not_resources)
    return False


# --- scopes: sets of requesters --------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """A set of requests, as the conjunction of what narrows them (None: not narrowed)."""

    kind: str  # "any" (every principal), "aws" (IAM principals), "service", "other"
    label: str  # how the principal element named it
    services: frozenset[str] | None = None
    principal_arns: tuple[str, ...] | None = None  # aws:PrincipalArn patterns
    accounts: frozenset[str] | None = None  # aws:PrincipalAccount
    org_ids: frozenset[str] | None = None
    source_accounts: frozenset[str] | None = None
    source_arns: tuple[str, ...] | None = None
    services_only: bool | None = None  # aws:PrincipalIsAWSService
    secure_only: bool = False  # only requests over TLS
    empty: bool = False

    def narrowed(self, other: Scope) -> Scope:
        """This scope ∩ ``other`` (``other`` describes constraints only; its kind is 'any')."""
        if self.empty or other.empty:
            return replace(self, empty=True)
        s = self
        for name in ("accounts", "org_ids", "source_accounts", "services"):
            mine, theirs = getattr(s, name), getattr(other, name)
            if theirs is not None:
                s = replace(s, **{name: theirs if mine is None else mine & theirs})
        for name in ("principal_arns", "source_arns"):
            mine, theirs = getattr(s, name), getattr(other, name)
            if theirs is not None:
                s = replace(s, **{name: theirs if mine is None else _intersect_patterns(mine, theirs)})
        if other.services_only is not None:
            if s.services_only is not None and s.services_only != other.services_only:
                return replace(s, empty=True)
            s = replace(s, services_only=other.services_only)
        if other.secure_only:
            s = replace(s, secure_only=True)
        return s._check()

    def _check(self) -> Scope:
        for name in ("accounts", "org_ids", "source_accounts", "services", "principal_arns", "source_arns"):
            value = getattr(self, name)
            if value is not None and len(value) == 0:
                return replace(self, empty=True)
        if self.kind == "service" and self.services_only is False:
            return replace(self, empty=True)
        if self.kind == "aws" and self.services_only is True:
            return replace(self, empty=True)
        if (self.kind == "service" or self.services_only is True) and self.principal_arns is not None:
            return replace(self, empty=True)  # service principals carry no aws:PrincipalArn
        return self


def _intersect_patterns(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    kept = [x for x in a if any(matches(y, x) for y in b)]
    kept += [y for y in b if any(matches(x, y) for x in a) and y not in kept]
    return tuple(kept)


EVERYONE = Scope("any", "every principal")


def principal_scope(p: Principal) -> Scope:
    """The requesters one principal entry names."""
    if p.kind == "*":
        return Scope("any", "every principal (*)")
    if p.kind == "Service":
        return Scope("service", f"service {p.value}", services=frozenset({p.value}))
    if p.kind == "AWS":
        account = arn_account(p.value)
        if account is None:
            return Scope("other", f"principal {p.value}")
        whole_account = re.fullmatch(r"\d{12}", p.value) or p.value.endswith(":root")
        arns = None if whole_account else (p.value,)
        label = f"every principal of account {account}" if whole_account else f"principal {p.value}"
        return Scope("aws", label, principal_arns=arns, accounts=frozenset({account}))
    return Scope("other", f"{p.kind} principal {p.value}")


@dataclass
class Notes:
    """What the evaluator could not model exactly, and how it judged instead (conservatively)."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)


def _narrowing(cond: Condition) -> Scope | None:
    """The requesters for whom a positive condition holds, when its key narrows the requester."""
    values = cond.values
    key = cond.key
    if cond.operator == "bool":
        truth = {v.lower() for v in values}
        if len(truth) != 1:
            return EVERYONE
        value = truth.pop() == "true"
        if key == IS_SERVICE:
            return replace(EVERYONE, services_only=value)
        if key == SECURE_TRANSPORT:
            return replace(EVERYONE, secure_only=True) if value else EVERYONE
        return None
    if cond.operator not in _STRING_OPS:
        return None
    # AWS service principals carry none of the aws:Principal* identity keys, so a condition on one
    # holds only for IAM principals.
    if key == PRINCIPAL_ARN:
        return replace(EVERYONE, principal_arns=values, services_only=False)
    if key == PRINCIPAL_ACCOUNT:
        return replace(EVERYONE, accounts=_literal_set(values), services_only=False)
    if key == CALLER_ACCOUNT:
        return replace(EVERYONE, accounts=_literal_set(values))
    if key == PRINCIPAL_ORG:
        return replace(EVERYONE, org_ids=frozenset(values), services_only=False)
    if key in (SOURCE_ACCOUNT, SOURCE_OWNER):
        return replace(EVERYONE, source_accounts=_literal_set(values), services_only=True)
    if key == SOURCE_ARN or _CONTEXT_ARN.match(key):
        return replace(EVERYONE, source_arns=values, services_only=True if key == SOURCE_ARN else None)
    return None


def _literal_set(values: tuple[str, ...]) -> frozenset[str]:
    # A wildcard account value ("*", "1111*") cannot be listed: keep it as is; it matches no account
    # literally, so it is judged as outside (see Allowed.outside).
    return frozenset(values)


def _understood(key: str) -> bool:
    return key in (PRINCIPAL_ARN, PRINCIPAL_ACCOUNT, PRINCIPAL_ORG, SOURCE_ARN, SOURCE_ACCOUNT, SOURCE_OWNER,
                   IS_SERVICE, SECURE_TRANSPORT, CALLER_ACCOUNT) or bool(_CONTEXT_ARN.match(key)) \
        or bool(_REQUEST_KEYS.match(key))


def allow_scopes(stmt: Statement, notes: Notes) -> list[Scope]:
    """The requesters an Allow statement grants to, one scope per principal entry."""
    if stmt.principals is None:
        if stmt.not_principals is not None:
            # NotPrincipal with Allow is not supported by AWS; judged as a grant to everyone.
            notes.add(f"{stmt.label()} uses NotPrincipal with Allow, which AWS does not support; judged as "
                      f"a grant to every principal")
            bases = [EVERYONE]
        else:
            return []
    else:
        bases = [principal_scope(p) for p in stmt.principals]
    constraint = EVERYONE
    for cond in stmt.conditions:
        if not _understood(cond.key):
            notes.add(f"{stmt.label()}: condition {cond.written} is not understood by the pack; the grant is "
                      f"judged as if it were absent")
            continue
        if cond.negated or cond.if_exists or cond.qualifier == "forallvalues":
            continue  # holds when the key is absent: narrows nobody for certain
        narrowing = _narrowing(cond)
        if narrowing is not None:
            constraint = constraint.narrowed(narrowing)
    return [b.narrowed(constraint) for b in bases]


def deny_exemptions(stmt: Statement, notes: Notes) -> list[Scope]:
    """The requesters a Deny statement does *not* reach, as alternatives (their union).

    The deny applies when every condition holds, so it spares whoever makes any one condition false.
    An empty list means the deny reaches everyone it names; ``[EVERYONE]`` that it may reach nobody.
    """
    alternatives: list[Scope] = []
    if stmt.not_principals is not None:
        for p in stmt.not_principals:
            spared = principal_scope(p)
            alternatives.append(replace(EVERYONE, principal_arns=spared.principal_arns,
                                        accounts=spared.accounts, services=spared.services,
                                        services_only=True if spared.kind == "service" else None)
                                if spared.kind != "any" else EVERYONE)
    for cond in stmt.conditions:
        if not _understood(cond.key):
            notes.add(f"{stmt.label()}: condition {cond.written} is not understood by the pack; the deny is "
                      f"judged as not applying")
            alternatives.append(EVERYONE)
            continue
        if cond.negated:
            # False exactly when the key is present and matches: those requesters are spared.
            positive = replace(cond, operator=cond.operator.replace("not", "", 1), if_exists=False)
            spared = _narrowing(positive)
            alternatives.append(spared if spared is not None else EVERYONE)
            continue
        if cond.operator == "bool" and cond.key in (SECURE_TRANSPORT, IS_SERVICE):
            truth = {v.lower() for v in cond.values}
            if len(truth) == 1:
                value = truth.pop() == "true"
                if cond.key == SECURE_TRANSPORT and not value:
                    alternatives.append(replace(EVERYONE, secure_only=True))  # spares every TLS request
                    continue
                if cond.key == IS_SERVICE and not value:
                    alternatives.append(replace(EVERYONE, services_only=True))  # spares AWS services
                    continue
        # Any other positive condition spares whoever does not match it: not representable as a scope,
        # so the deny is judged as sparing everyone (never as protecting more than it does).
        alternatives.append(EVERYONE)
    return alternatives


def _deny_names(stmt: Statement, scope: Scope) -> bool:
    """Whether a deny's Principal element reaches every requester of ``scope``."""
    if stmt.principals is None:
        return stmt.not_principals is not None
    for p in stmt.principals:
        if p.kind == "*":
            return True
        named = principal_scope(p)
        if named.kind == "service" and scope.kind == "service" and scope.services \
                and scope.services <= (named.services or frozenset()):
            return True
        if named.kind == "aws" and scope.kind == "aws":
            whole = named.principal_arns is None
            if whole and scope.accounts and scope.accounts <= (named.accounts or frozenset()):
                return True
            if named.principal_arns and scope.principal_arns and set(scope.principal_arns) <= set(
                    named.principal_arns):
                return True
    return False


def after_deny(scope: Scope, stmt: Statement, notes: Notes) -> list[Scope]:
    """What is left of ``scope`` once a Deny statement (already matched on action/resource) applies."""
    if not _deny_names(stmt, scope):
        return [scope]
    exemptions = deny_exemptions(stmt, notes)
    return [scope.narrowed(e) for e in exemptions if not scope.narrowed(e).empty]


# --- the question ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Allowed:
    """Who may: the stack's accounts, and either any principal of them or only named roles/users.

    ``named_only``: a principal of the account counts only when narrowed to literal role or user ARNs
    (the auditor and break-glass roles), never the whole account. AWS services count when narrowed to
    act for the accounts (``aws:SourceAccount``, or an ``aws:SourceArn``/encryption-context ARN whose
    account field is one of them).
    """

    accounts: frozenset[str]
    named_only: bool = False

    def outside(self, scope: Scope) -> str | None:
        """None when every requester of ``scope`` is allowed, else who is not (for a message)."""
        if scope.empty:
            return None
        if scope.kind == "other":
            return scope.label
        service_side = scope.kind == "service" or scope.services_only is True
        if service_side:
            if scope.source_accounts is not None and scope.source_accounts <= self.accounts:
                return None
            arns = scope.source_arns
            if arns is not None and all(arn_account(a) in self.accounts for a in arns):
                return None
            who = scope.label if scope.kind == "service" else "any AWS service"
            return f"{who} acting for any account (no aws:SourceArn or aws:SourceAccount of this account)"
        # IAM principals (and, for kind "any" not limited to services, every principal).
        accounts = scope.accounts
        if scope.principal_arns is not None:
            arn_accounts = {arn_account(a) for a in scope.principal_arns}
            if None not in arn_accounts:
                accounts = frozenset(arn_accounts) if accounts is None else accounts & frozenset(arn_accounts)
        if accounts is None:
            if scope.org_ids is not None:
                return f"every principal of organization {', '.join(sorted(scope.org_ids))}"
            return scope.label if scope.kind == "any" else f"{scope.label} (any account)"
        outside = sorted(accounts - self.accounts)
        if outside:
            return f"principals of account {', '.join(outside)}"
        if self.named_only:
            arns = scope.principal_arns
            if arns is None or any(not _named_principal(a) for a in arns):
                return ", ".join(arns) if arns else \
                    f"every principal of account {', '.join(sorted(accounts))}"
        return None


def _named_principal(arn: str) -> bool:
    literal = "*" not in arn and "?" not in arn
    return literal and re.match(r"^arn:[a-z-]+:iam::\d{12}:(role|user)/", arn) is not None


@dataclass(frozen=True)
class Exposure:
    action: str
    statement: str  # the granting statement's label ("implicit" for an assumed grant)
    who: str


def exposures(statements: Iterable[Statement], actions: Iterable[str], target: Target, allowed: Allowed,
              notes: Notes, implicit: Iterable[Scope] = ()) -> list[Exposure]:
    """Who outside ``allowed`` can perform each of ``actions`` on ``target``, Deny over Allow.

    ``implicit`` adds grants the document does not show (e.g. what IAM policies of the account's own
    principals may allow: a bucket policy does not need to name them for them to read).
    """
    stmts = list(statements)
    found: list[Exposure] = []
    for action in actions:
        grants: list[tuple[str, Scope]] = [("IAM policies of the account", s) for s in implicit]
        for stmt in stmts:
            if stmt.effect == "Allow" and action_may_match(stmt, action) and resource_may_match(stmt, target):
                grants += [(stmt.label(), s) for s in allow_scopes(stmt, notes)]
        denies = [s for s in stmts
                  if s.effect == "Deny" and action_covers(s, action) and resource_covers(s, target)]
        for label, scope in grants:
            remaining = [scope]
            for deny in denies:
                remaining = [r for part in remaining for r in after_deny(part, deny, notes)]
            for part in remaining:
                who = allowed.outside(part)
                if who is not None:
                    exposure = Exposure(action, label, who)
                    if exposure not in found:
                        found.append(exposure)
    return found


def denies_all_insecure(statements: Iterable[Statement], service: str, target: Target,
                        notes: Notes) -> bool:
    """Whether some Deny refuses every request without TLS for every ``service`` action on ``target``.

    The deny must reach every principal and spare only requests over TLS: a deny narrowed further
    (to some principals, accounts or actions) leaves some insecure requests allowed.
    """
    for stmt in statements:
        if stmt.effect != "Deny" or not action_covers(stmt, f"{service}:*"):
            continue
        if not resource_covers(stmt, target):
            continue
        if stmt.not_principals is not None or not _deny_names(stmt, EVERYONE):
            continue
        spared = deny_exemptions(stmt, notes)
        if spared and all(s == replace(EVERYONE, secure_only=True) for s in spared):
            return True
    return False
