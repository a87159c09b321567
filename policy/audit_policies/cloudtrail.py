"""CloudTrail rules: coverage judged over the stack's set of trails, integrity held by every trail.

Controls served: Security Hub CloudTrail.1 (multi-region, read/write management events), CloudTrail.2
(KMS), CloudTrail.3 (logging on), CloudTrail.4 (log file validation), CloudTrail.5 (CloudWatch Logs),
CloudTrail.9 (tags); CIS v4.0.1 3.1, 3.2, 3.5; AWS Config ``cloudtrail-security-trail-enabled``.

Coverage (multi-region, global service events, read and write management events, delivery to
CloudWatch Logs) is a property of the stack's *set* of trails: a second, specialised trail (say, data
events only, or one region) or management events split over two selectors or two trails are fine, as
long as some multi-region trail records each kind of management event from every
source. These four rules are stack policies. Integrity (log file validation, logging on, KMS where
required, a compliant bucket) must hold for *every* trail, so those are resource policies (and the
bucket rules judge every bucket any trail writes to).

Each trail check is a small function returning the fix (a lower-case fragment), an ``Unknown`` when the
decision depends on a value unknown during preview, or None when compliant.

Provider defaults matter here (pulumi-aws ``cloudtrail.Trail``): ``enableLogging`` and
``includeGlobalServiceEvents`` default to true, ``isMultiRegionTrail`` and ``enableLogFileValidation``
to false, and a trail without event selectors records all read and write management events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, settings
from audit_policies.graph import TRAIL, Graph, Node
from audit_policies.props import Unknown, as_bool, get, is_set, is_unknown, items

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
TRAILS = (TRAIL,)

Fix = str | Unknown | None


def _true_required(props: dict, key: str) -> Fix:
    value = as_bool(props.get(key))
    if is_unknown(value):
        return value
    return None if value is True else f"set {key} to true"


def _not_false(props: dict, key: str) -> Fix:
    value = as_bool(props.get(key))
    if is_unknown(value):
        return value
    return f"set {key} to true (or remove it; it defaults to true)" if value is False else None


def log_file_validation(props: dict) -> Fix:
    return _true_required(props, "enableLogFileValidation")


def global_service_events(props: dict) -> Fix:
    return _not_false(props, "includeGlobalServiceEvents")


def logging_enabled(props: dict) -> Fix:
    return _not_false(props, "enableLogging")


def _advanced_selector_problems(selector: Any) -> list[str] | Unknown:
    fields = get(selector, "fieldSelectors")
    if is_unknown(fields):
        return fields
    category = None
    problems: list[str] = []
    for fs in items(fields):
        if is_unknown(fs):
            return fs
        field_name = get(fs, "field")
        if is_unknown(field_name):
            return field_name
        if field_name == "eventCategory":
            category = get(fs, "equals")
        elif field_name == "readOnly":
            problems.append("remove its readOnly field selector")
        elif field_name == "eventSource":
            problems.append("remove its eventSource field selector")
        else:
            problems.append(f"remove its {field_name} field selector")
    if is_unknown(category):
        return category
    if category is None or "Management" not in items(category):
        return ["select eventCategory equals Management"]
    return problems


def _basic_fields(selector: Any) -> tuple[Any, bool | None, Any] | Unknown:
    """A basic event selector's readWriteType, includeManagementEvents and excluded sources, or the
    first of them (or the selector itself) that is unknown during preview."""
    if is_unknown(selector):
        return selector
    rw = get(selector, "readWriteType")
    include = as_bool(get(selector, "includeManagementEvents"))
    excluded = get(selector, "excludeManagementEventSources")
    for value in (rw, include, excluded):
        if is_unknown(value):
            return value
    return rw, include, excluded


def _selector_problems(selector: Any) -> list[str] | Unknown:
    fields = _basic_fields(selector)
    if is_unknown(fields):
        return fields
    rw, include, excluded = fields
    problems: list[str] = []
    if include is False:
        problems.append("set includeManagementEvents to true")
    if rw not in (None, "All"):
        problems.append(f"set readWriteType to All (is {rw})")
    if excluded:
        problems.append(f"remove excludeManagementEventSources ({', '.join(map(str, excluded))})")
    return problems


def management_events(props: dict) -> Fix:
    """All read and write management events, none excluded (CloudTrail.1, CIS 3.1)."""
    advanced = props.get("advancedEventSelectors")
    basic = props.get("eventSelectors")
    for value in (advanced, basic):
        if is_unknown(value):
            return value
    # CloudTrail accepts either basic or advanced selectors on a trail, never both; advanced win.
    if advanced:
        results = [_advanced_selector_problems(s) for s in items(advanced)]
        prefix = "add an advanced event selector on eventCategory Management without readOnly or " \
                 "eventSource filters"
    elif basic:
        results = [_selector_problems(s) for s in items(basic)]
        prefix = "record read and write management events with none excluded"
    else:
        return None  # no selectors: CloudTrail records all management events
    if any(r == [] for r in results):
        return None
    unknowns = [r for r in results if is_unknown(r)]
    if unknowns:
        return unknowns[0]
    # Report the selector closest to compliant (fewest problems).
    best = min(results, key=len)
    return f"{prefix}: {'; '.join(best)}"


def cloudwatch_logs(props: dict) -> Fix:
    missing = [k for k in ("cloudWatchLogsGroupArn", "cloudWatchLogsRoleArn") if not is_set(props.get(k))]
    if not missing:
        return None
    return "set " + " and ".join(missing) + " so events reach CloudWatch Logs through a role"


def kms_encryption(props: dict) -> Fix:
    return None if is_set(props.get("kmsKeyId")) else "set kmsKeyId to a customer managed KMS key"


def sns_notification(props: dict) -> Fix:
    if is_set(props.get("snsTopicName")):
        return None
    return "set snsTopicName to an SNS topic so each log-file delivery is announced"


def _sentence(fix: str, citation: str) -> str:
    return f"{fix[0].upper()}{fix[1:]} {citation}.".replace("  ", " ").replace(" .", ".")


def _trail_check(fix_of: Callable[[dict], Fix]) -> Callable[[base.Context, dict, Any], None]:
    def check(ctx: base.Context, props: dict, _args: Any) -> None:
        fix = fix_of(props)
        if is_unknown(fix):
            ctx.findings.defer(fix)
        elif fix:
            ctx.findings.violation(_sentence(fix, ctx.cite()))
    return check


def _tags_check(ctx: base.Context, props: dict, _args: Any) -> None:
    tags = props.get("tags")
    if is_unknown(tags):
        ctx.findings.defer(tags)
        return
    tags = tags if isinstance(tags, dict) else {}
    required = ctx.settings["requiredTagKeys"]
    if required:
        missing = [k for k in required if k not in tags]
        if missing:
            fix = f"add the tag keys {', '.join(missing)} to the trail"
            ctx.findings.violation(_sentence(fix, ctx.cite()))
    elif not tags:
        ctx.findings.violation(_sentence("add at least one tag to the trail", ctx.cite()))


PROFILE = settings.PROFILE_PROPERTIES
_RESOURCE_RULES: list[tuple[str, str, EnforcementLevel, Severity, Callable[[dict], Fix], Any]] = [
    ("aws-cloudtrail-trail-log-file-validation",
     "Every CloudTrail trail must have log file validation enabled so changes to delivered logs are "
     "detectable.",
     MANDATORY, Severity.HIGH, log_file_validation, base.flag_required("log_file_validation")),
    ("aws-cloudtrail-trail-logging-enabled",
     "Every CloudTrail trail must have logging turned on.",
     MANDATORY, Severity.CRITICAL, logging_enabled, base.audit_logging_required),
]

POLICIES = [
    base.resource_policy(
        name=name, description=description, service="cloudtrail", resource_types=TRAILS,
        level=level, severity=severity, check=_trail_check(fix_of), config=PROFILE, applies=applies,
    )
    for name, description, level, severity, fix_of, applies in _RESOURCE_RULES
] + [
    base.resource_policy(
        name="aws-cloudtrail-trail-kms-encryption",
        description="CloudTrail trails should encrypt log files with a customer managed KMS key "
                    "(hygiene; CIS 3.5 is a Level 2 recommendation).",
        service="cloudtrail", resource_types=TRAILS, level=ADVISORY, severity=Severity.MEDIUM,
        check=_trail_check(kms_encryption),
    ),
    base.resource_policy(
        name="aws-cloudtrail-trail-kms-encryption-required",
        description="Every CloudTrail trail must encrypt log files with a customer managed KMS key when "
                    "the profile or the requireKms setting asks for KMS.",
        service="cloudtrail", resource_types=TRAILS, level=MANDATORY, severity=Severity.HIGH,
        check=_trail_check(kms_encryption), config={**PROFILE, **settings.REQUIRE_KMS},
        applies=base.kms_required,
    ),
    base.resource_policy(
        name="aws-cloudtrail-trail-sns-notification",
        description="CloudTrail trails should notify an SNS topic when log files are delivered.",
        service="cloudtrail", resource_types=TRAILS, level=ADVISORY, severity=Severity.LOW,
        check=_trail_check(sns_notification),
    ),
    base.resource_policy(
        name="aws-cloudtrail-trail-tags",
        description="CloudTrail trails should be tagged so their owner and scope are visible.",
        service="cloudtrail", resource_types=TRAILS, level=ADVISORY, severity=Severity.LOW,
        check=_tags_check,
        config={"requiredTagKeys": {
            "type": "array", "items": {"type": "string"}, "uniqueItems": True, "default": [],
            "description": "Tag keys every trail must carry; [] means at least one tag of any key.",
        }},
    ),
]


# --- coverage over the set of trails ------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What one management-event selector records: read and/or write events, and the event sources it
    leaves out (``excluded``). A selector narrowed to named sources or events covers nothing in full."""

    read: bool
    write: bool
    excluded: frozenset[str] = frozenset()


def _advanced_scope(selector: Any) -> Scope | None | Unknown:
    fields = get(selector, "fieldSelectors")
    if is_unknown(fields):
        return fields
    category, read, write, excluded, partial = None, True, True, set(), False
    for fs in items(fields):
        values = [get(fs, k) for k in ("field", "equals", "notEquals", "startsWith", "notStartsWith",
                                        "endsWith", "notEndsWith")]
        pending = next((v for v in [fs, *values] if is_unknown(v)), None)
        if pending is not None:
            return pending
        field_name, equals, not_equals = values[0], items(values[1]), items(values[2])
        if field_name == "eventCategory":
            category = equals
        elif field_name == "readOnly":
            flags = {str(v).lower() for v in equals} or {"true", "false"}
            flags -= {str(v).lower() for v in not_equals}
            read, write = "true" in flags, "false" in flags
        elif field_name == "eventSource" and not_equals and not any(values[3:]) and not equals:
            excluded |= {str(v) for v in not_equals}
        else:
            partial = True  # named sources, event names, ...: not every management event
    if category is None or "Management" not in category or partial or not (read or write):
        return None
    return Scope(read, write, frozenset(excluded))


def _basic_scope(selector: Any) -> Scope | None | Unknown:
    fields = _basic_fields(selector)
    if is_unknown(fields):
        return fields
    rw, include, excluded = fields
    if include is False:
        return None
    rw = rw or "All"
    return Scope(rw in ("All", "ReadOnly"), rw in ("All", "WriteOnly"),
                 frozenset(str(e) for e in items(excluded)))


def management_scopes(props: dict) -> list[Scope] | Unknown:
    """What a trail's selectors record of management events (no selectors: everything)."""
    advanced, basic = props.get("advancedEventSelectors"), props.get("eventSelectors")
    for value in (advanced, basic):
        if is_unknown(value):
            return value
    if advanced:  # CloudTrail accepts basic or advanced selectors, never both; advanced win
        scopes = [_advanced_scope(s) for s in items(advanced)]
    elif basic:
        scopes = [_basic_scope(s) for s in items(basic)]
    else:
        return [Scope(True, True)]
    pending = next((s for s in scopes if is_unknown(s)), None)
    return pending if pending is not None else [s for s in scopes if s is not None]


def _missing(scopes: list[Scope]) -> list[str]:
    """'read' / 'write' management events that no scope in ``scopes`` records from every source."""
    missing = []
    for kind in ("read", "write"):
        reach = [s.excluded for s in scopes if getattr(s, kind)]
        if not reach or frozenset.intersection(*reach):
            missing.append(kind)
    return missing


@dataclass
class Coverage:
    """The stack's trails sorted by what they can contribute to coverage."""

    # Logging on is an integrity rule every trail must pass (aws-cloudtrail-trail-logging-enabled), so
    # coverage does not look at it: a stopped trail is reported once, there.
    counting: list[tuple[Node, list[Scope]]]  # multi-region trails and what they record
    regional: list[Node]  # trails recording management events in one region only
    pending: Unknown | None  # a trail whose contribution depends on an unknown value


def coverage(trails: list[Node]) -> Coverage:
    result = Coverage([], [], None)
    for trail in trails:
        scopes = management_scopes(trail.props)
        region = as_bool(trail.props.get("isMultiRegionTrail"))
        if is_unknown(scopes):
            result.pending = result.pending or scopes
            scopes = []  # a multi-region trail still counts as one; what it records is pending
        if is_unknown(region):
            result.pending = result.pending or region
        elif region is True:
            result.counting.append((trail, scopes))
        elif scopes:
            result.regional.append(trail)
    return result


def _all_scopes(entries: list[tuple[Node, list[Scope]]]) -> list[Scope]:
    return [scope for _, scopes in entries for scope in scopes]


# Each aspect returns (fix, pending): the fix sentence fragment when the set of trails falls short.
Aspect = tuple[str | None, Unknown | None]


def multi_region_gap(trails: list[Node]) -> Aspect:
    cov = coverage(trails)
    if cov.counting:
        return None, None
    if cov.pending:
        return None, cov.pending
    where = f" on trail {cov.regional[0].label()}" if cov.regional else " on a trail"
    return f"set isMultiRegionTrail to true{where}: no trail records events in every region", None


def global_events_gap(trails: list[Node]) -> Aspect:
    cov = coverage(trails)
    if not cov.counting:
        return None, None  # reported by the multi-region rule
    recording = [t for t, scopes in cov.counting if scopes]
    if not recording:
        return None, cov.pending  # otherwise reported by the management-events rule
    flags = [global_service_events(t.props) for t in recording]
    if any(f is None for f in flags):
        return None, None
    pending = next((f for f in flags if is_unknown(f)), None) or cov.pending
    if pending:
        return None, pending
    return (f"set includeGlobalServiceEvents to true (or remove it; it defaults to true) on trail "
            f"{recording[0].label()}: no multi-region trail records global service "
            f"events"), None


def management_events_gap(trails: list[Node]) -> Aspect:
    cov = coverage(trails)
    if not cov.counting:
        return None, None  # reported by the multi-region rule
    missing = _missing(_all_scopes(cov.counting))
    if not missing:
        return None, None
    if cov.pending:
        return None, cov.pending
    trail = cov.counting[0][0]
    own = management_events(trail.props)
    detail = f"; on trail {trail.label()}: {own}" if isinstance(own, str) else ""
    return (f"record {' and '.join(missing)} management events from every source in every region: no "
            f"multi-region trail records them{detail}"), None


def cloudwatch_logs_gap(trails: list[Node]) -> Aspect:
    cov = coverage(trails)
    if not cov.counting:
        return None, None
    delivering = [(t, s) for t, s in cov.counting if cloudwatch_logs(t.props) is None]
    # Kinds no trail records at all are the management-events rule's finding, not this one's.
    recorded = set(("read", "write")) - set(_missing(_all_scopes(cov.counting)))
    missing = [kind for kind in _missing(_all_scopes(delivering)) if kind in recorded]
    if not missing:
        return None, cov.pending if len(recorded) < 2 else None
    if cov.pending:
        return None, cov.pending
    trail = next(t for t, _ in cov.counting if (t, _) not in delivering)
    return (f"{cloudwatch_logs(trail.props)} (trail {trail.label()}): {' and '.join(missing)} management "
            f"events of the multi-region trails must reach CloudWatch Logs"), None


def _coverage_check(gap_of: Callable[[list[Node]], Aspect]) -> Callable[[base.Context, Graph, Any], None]:
    def check(ctx: base.Context, graph: Graph, args: Any) -> None:
        trails = graph.of_type(TRAIL)
        if not trails:
            args.not_applicable("the stack declares no CloudTrail trail")
        fix, pending = gap_of(trails)
        if pending is not None:
            ctx.findings.defer(pending)
        elif fix:
            ctx.findings.violation(_sentence(fix, ctx.cite()), trails[0].urn)
    return check


_COVERAGE_RULES: list[tuple[str, str, Severity, Callable[[list[Node]], Aspect]]] = [
    ("aws-cloudtrail-trail-multi-region",
     "Some multi-region CloudTrail trail must record management events, so activity in "
     "every region is recorded.", Severity.HIGH, multi_region_gap),
    ("aws-cloudtrail-trail-global-service-events",
     "Some multi-region CloudTrail trail must record global service events (IAM, STS, "
     "CloudFront).", Severity.HIGH, global_events_gap),
    ("aws-cloudtrail-trail-management-events",
     "The stack's multi-region CloudTrail trails must together record read and write "
     "management events from every source (a second trail or split selectors may share the work).",
     Severity.HIGH, management_events_gap),
    ("aws-cloudtrail-trail-cloudwatch-logs",
     "The stack's multi-region CloudTrail trails must deliver read and write management events to "
     "CloudWatch Logs through an IAM role.", Severity.MEDIUM, cloudwatch_logs_gap),
]

COVERAGE_POLICIES = [
    base.stack_policy(name=name, description=description, service="cloudtrail", level=MANDATORY,
                      severity=severity, check=_coverage_check(gap_of), config=PROFILE,
                      applies=base.audit_logging_required)
    for name, description, severity, gap_of in _COVERAGE_RULES
]


# --- stack: the set of trails, complete and intact ------------------------------------------------------

SECURITY_TRAIL = "aws-cloudtrail-stack-security-trail"


def _integrity(s: settings.Settings) -> list[Callable[[dict], Fix]]:
    chosen = [logging_enabled]
    if s.requirements.log_file_validation:
        chosen.append(log_file_validation)
    if base.kms_required(s):
        chosen.append(kms_encryption)
    return chosen


def _security_trail(ctx: base.Context, graph: Graph, args: Any) -> None:
    trails = graph.of_type(TRAIL)
    if not trails:
        if ctx.settings["requireTrail"]:
            ctx.findings.violation(_sentence(
                "declare an aws.cloudtrail.Trail that is multi-region, records all management events "
                "and validates its log files; the stack has none", ctx.cite()))
            return
        args.not_applicable("the stack declares no CloudTrail trail")
    gaps: list[str] = []
    pending: Unknown | None = None
    for gap_of in (multi_region_gap, global_events_gap, management_events_gap, cloudwatch_logs_gap):
        fix, unknown = gap_of(trails)
        pending = pending or unknown
        if fix:
            gaps.append(fix)
    for trail in trails:
        fixes = [f(trail.props) for f in _integrity(ctx.settings)]
        pending = pending or next((f for f in fixes if is_unknown(f)), None)
        problems = [f for f in fixes if isinstance(f, str)]
        if problems:
            gaps.append(f"trail {trail.label()}: {'; '.join(problems)}")
    if gaps:
        ctx.findings.violation(
            f"The stack's trails must together record every management event in every region, and each "
            f"trail must be intact {ctx.cite()}. " + ". ".join(g[0].upper() + g[1:] for g in gaps) + ".")
    elif pending is not None:
        ctx.findings.defer(pending)


STACK_POLICIES = COVERAGE_POLICIES + [
    base.stack_policy(
        name=SECURITY_TRAIL,
        description="The stack's CloudTrail trails must together cover every management event in every "
                    "region (modelled on AWS Config cloudtrail-security-trail-enabled, judged over the set "
                    "of trails), and every trail must have logging on, log file validation and, where "
                    "required, KMS encryption.",
        service="cloudtrail", level=MANDATORY, severity=Severity.CRITICAL, check=_security_trail,
        config={**PROFILE, **settings.REQUIRE_KMS, "requireTrail": settings.flag(
            "Fail a stack that declares no trail at all (set for stacks whose purpose is the audit trail).")},
        applies=base.audit_logging_required,
    ),
]
