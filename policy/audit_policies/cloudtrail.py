"""CloudTrail trail rules (aws:cloudtrail/trail:Trail) and the stack-level "security trail" rule.

Controls served: Security Hub CloudTrail.1 (multi-region, read/write management events), CloudTrail.2
(KMS), CloudTrail.3 (logging on), CloudTrail.4 (log file validation), CloudTrail.5 (CloudWatch Logs),
CloudTrail.9 (tags); CIS v4.0.1 3.1, 3.2, 3.5; AWS Config ``cloudtrail-security-trail-enabled``.

Each trail check is a small function returning the fix (a lower-case fragment), an ``Unknown`` when the
decision depends on a value unknown during preview, or None when compliant. The per-trail resource
policies and the stack policy share these functions, so "a trail satisfying every rule together" means
exactly the same rules.

Provider defaults matter here (pulumi-aws ``cloudtrail.Trail``): ``enableLogging`` and
``includeGlobalServiceEvents`` default to true, ``isMultiRegionTrail`` and ``enableLogFileValidation``
to false, and a trail without event selectors records all read and write management events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, settings
from audit_policies.graph import TRAIL, Graph
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


def multi_region(props: dict) -> Fix:
    return _true_required(props, "isMultiRegionTrail")


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


def _selector_problems(selector: Any) -> list[str] | Unknown:
    if is_unknown(selector):
        return selector
    problems: list[str] = []
    rw = get(selector, "readWriteType")
    include = as_bool(get(selector, "includeManagementEvents"))
    excluded = get(selector, "excludeManagementEventSources")
    for value in (rw, include, excluded):
        if is_unknown(value):
            return value
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
     "CloudTrail trails must have log file validation enabled so changes to delivered logs are detectable.",
     MANDATORY, Severity.HIGH, log_file_validation, base.flag_required("log_file_validation")),
    ("aws-cloudtrail-trail-multi-region",
     "CloudTrail trails must be multi-region so activity in every region is recorded.",
     MANDATORY, Severity.HIGH, multi_region, base.audit_logging_required),
    ("aws-cloudtrail-trail-global-service-events",
     "CloudTrail trails must record global service events (IAM, STS, CloudFront).",
     MANDATORY, Severity.HIGH, global_service_events, base.audit_logging_required),
    ("aws-cloudtrail-trail-management-events",
     "CloudTrail trails must record read and write management events with none excluded.",
     MANDATORY, Severity.HIGH, management_events, base.audit_logging_required),
    ("aws-cloudtrail-trail-logging-enabled",
     "CloudTrail trails must have logging turned on.",
     MANDATORY, Severity.CRITICAL, logging_enabled, base.audit_logging_required),
    ("aws-cloudtrail-trail-cloudwatch-logs",
     "CloudTrail trails must deliver events to CloudWatch Logs through an IAM role.",
     MANDATORY, Severity.MEDIUM, cloudwatch_logs, base.audit_logging_required),
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
        description="CloudTrail trails must encrypt log files with a customer managed KMS key when the "
                    "profile or the requireKms setting asks for KMS.",
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


# --- stack: at least one trail satisfying every rule together -----------------------------------------

SECURITY_TRAIL = "aws-cloudtrail-stack-security-trail"


def _criteria(s: settings.Settings) -> list[Callable[[dict], Fix]]:
    req = s.requirements
    chosen = [logging_enabled, multi_region, global_service_events, management_events, cloudwatch_logs]
    if req.log_file_validation:
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
    failures: list[str] = []
    pending: list[Unknown] = []
    for trail in trails:
        fixes = [f(trail.props) for f in _criteria(ctx.settings)]
        unknown = [f for f in fixes if is_unknown(f)]
        problems = [f for f in fixes if isinstance(f, str)]
        if not problems and not unknown:
            return
        if not problems:
            pending.extend(unknown)
        failures.append(f"trail {trail.label()}: {'; '.join(problems)}")
    if pending:
        # One trail may still qualify once its unknown values are known: do not fail it now.
        ctx.findings.defer(pending[0])
        return
    ctx.findings.violation(
        f"No trail satisfies every trail rule together {ctx.cite()}. " + ". ".join(failures) + ".")


STACK_POLICIES = [
    base.stack_policy(
        name=SECURITY_TRAIL,
        description="At least one CloudTrail trail in the stack must satisfy every trail rule at once "
                    "(modelled on AWS Config cloudtrail-security-trail-enabled, whose KMS criterion "
                    "applies here only when KMS is required, and which does not check CloudWatch Logs).",
        service="cloudtrail", level=MANDATORY, severity=Severity.CRITICAL, check=_security_trail,
        config={**PROFILE, **settings.REQUIRE_KMS, "requireTrail": settings.flag(
            "Fail a stack that declares no trail at all (set for stacks whose purpose is the audit trail).")},
        applies=base.audit_logging_required,
    ),
]

