"""CloudWatch rules: the trail's log group (retention, KMS) and the SOC 2 monitoring alarms.

Controls served: Security Hub CloudWatch.16 (log group retention), CloudWatch.1-14 and CIS v4.0.1
4.1-4.15 (metric filters and alarms), CloudWatch.15 (alarm actions); HIPAA 164.316(b)(2)(i) and
164.308(a)(1)(ii)(D); PCI DSS 10.5.1 and 10.4.1.1; SOC 2 CC7.2 / CC7.3.

Scope decision: the retention and KMS rules apply to the log groups a trail delivers to (found through
the trail's ``cloudWatchLogsGroupArn`` input, see ``graph``), not to every log group in the stack: a
Lambda function's log group holds no audit trail, and failing it under hipaa would only teach people
to ignore the pack. A ``retentionInDays`` of 0 or unset means "never expire" and complies.

The monitoring rule (mandatory when a chosen profile sets ``monitoring_alarms``, i.e. soc2) requires,
for every control in ``monitoring.ALL_CONTROLS`` (CIS 4.1-4.15 and spawn's two), a metric filter
whose pattern ``monitoring.match_control`` recognises, on a log group a trail delivers to; a metric
alarm on that filter's metric (``metricName`` + ``namespace``, or a ``metricQueries`` entry, as in
spawn's metric-math unmanaged-launch alarm) that watches that very metric (no dimensions the filter does
not emit, no other unit) and fires on one matching event; with actions enabled and an ``alarmActions``
SNS topic of this stack that has at least one ``TopicSubscription`` and that CloudWatch can publish to
(not encrypted with the AWS managed ``alias/aws/sns`` key).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import EnforcementLevel, Severity
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from spawn_compliance import clauses, monitoring, profiles

from audit_policies import base, controls, settings
from audit_policies.graph import METRIC_ALARM, TRAIL, Graph, Node, arn_identity, known_str
from audit_policies.props import Unknown, as_bool, as_number, fmt_number, get, is_set, is_unknown, items

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
PROFILE = settings.PROFILE_PROPERTIES


def _trail_groups_or_not_applicable(g: Graph, args: Any) -> list[Node]:
    groups = [group for group, _ in g.trail_log_groups()]
    if not groups:
        args.not_applicable("no log group in this stack receives CloudTrail events")
    return groups


# --- retention -------------------------------------------------------------------------------------

def _retention_floor(ctx: base.Context) -> tuple[int, str]:
    """The effective minimum and the words naming who sets it."""
    s = ctx.settings
    profile_floor, binding = profiles.binding_floor(s.profiles, s["auditPeriodDays"],
                                                    lambda r: r.log_group_min_retention_days)
    if s["minRetentionDays"] > profile_floor:
        return s["minRetentionDays"], "under pack config minRetentionDays"
    baseline = f"the one-year baseline for trail log groups (Security Hub CloudWatch.16, " \
               f"{profiles.LOG_GROUP_MIN_RETENTION_DAYS} days)"
    if not binding:
        return profile_floor, f"under the sandbox profile: {baseline}"

    def source(name: str) -> str:
        own = profiles.requirements([name], s["auditPeriodDays"]).retention_floor_days
        return clauses.RETENTION[name] if own > profiles.LOG_GROUP_MIN_RETENTION_DAYS else baseline

    return profile_floor, "under " + ", ".join(f"{name} ({source(name)})" for name in binding)


def always_one_year_or_profile(_s: settings.Settings) -> bool:
    """Always: the profile's floor, or the one-year baseline in the sandbox."""
    return True


def _retention(ctx: base.Context, g: Graph, args: Any) -> None:
    floor, source = _retention_floor(ctx)
    for group in _trail_groups_or_not_applicable(g, args):
        days = as_number(group.props.get("retentionInDays"))
        if is_unknown(days):
            ctx.findings.defer(days)
        elif days is not None and 0 < days < floor:
            ctx.findings.violation(
                f"Set retentionInDays of log group {group.label()} to at least {floor} (or 0, never "
                f"expire): retention must be at least {floor} days {source}; is {fmt_number(days)}.",
                group.urn)


# --- KMS -------------------------------------------------------------------------------------------

def _group_kms(ctx: base.Context, g: Graph, args: Any) -> None:
    for group in _trail_groups_or_not_applicable(g, args):
        if not is_set(group.props.get("kmsKeyId")):  # unknown (key.arn in preview) counts as set
            ctx.findings.violation(
                f"Set kmsKeyId on log group {group.label()} to a KMS key {ctx.cite()}.", group.urn)


# --- monitoring alarms -----------------------------------------------------------------------------

def _identify(control: monitoring.MonitoringControl) -> str:
    if control.cis_id:
        return f"CIS {control.cis_id} ({control.title})"
    return f"spawn control {control.key} ({control.title})"


def _control_cite(ctx: base.Context, control: monitoring.MonitoringControl) -> str:
    parts = []
    if control.security_hub_id:
        parts.append(f"Security Hub {control.security_hub_id}")
    if control.cis_id:
        parts.append(f"CIS {control.cis_id}")
    entry = controls.clauses(ctx.policy_name)
    for profile in ctx.settings.profiles or ():
        parts.extend(getattr(entry, controls.PROFILE_FIELDS[profile]))
    return "(" + ", ".join(parts) + ")"


def _alarm_uses(alarm: Node, name: Any, namespace: Any) -> bool | Unknown:
    """Whether an alarm watches metric namespace/name directly or through metricQueries."""
    candidates = [(alarm.props.get("metricName"), alarm.props.get("namespace"))]
    queries = alarm.props.get("metricQueries")
    if is_unknown(queries):
        return queries
    # A metric query only drives the alarm when it returns data itself, or when an expression that
    # returns data refers to its id (metric math such as "launches - managed").
    returned = [q for q in items(queries) if get(q, "returnData") is True or is_unknown(get(q, "returnData"))]
    expressions = " ".join(str(get(q, "expression") or "") for q in returned)
    for query in items(queries):
        query_id = get(query, "id")
        used = query in returned or (isinstance(query_id, str) and
                                     re.search(rf"\b{re.escape(query_id)}\b", expressions) is not None)
        if not used:
            continue
        metric = get(query, "metric")
        candidates.append((get(metric, "metricName"), get(metric, "namespace")))
    pending: Unknown | None = None
    for metric_name, metric_ns in candidates:
        if metric_name == name and metric_ns == namespace:
            return True
        for value in (metric_name, metric_ns):
            if is_unknown(value):
                pending = pending or value
    return pending or False


# --- does one matching event make the alarm fire? ------------------------------------------------------

# One matching event produces one datapoint of value v (the filter's metricValue) in one period, and
# nothing else unless the filter sets a defaultValue (CloudWatch Logs User Guide, "Creating metrics
# from log events using filters"). Sum, Maximum and SampleCount of that period are v, v and 1 whatever
# other events do; Average and Minimum only when the filter has no defaultValue (zeros drag them down).
ALWAYS_STATISTICS = ("Sum", "Maximum", "SampleCount")
EXCLUSIVE_STATISTICS = ("Average", "Minimum")
FIRING_OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold")


def filter_value(metric_filter: Node) -> tuple[float | None, str | None, Unknown | None]:
    """The constant value one matching event emits, or the fix when it is not a positive constant."""
    transform = metric_filter.props.get("metricTransformation")
    transform = transform[0] if isinstance(transform, list) and transform else transform
    value = get(transform, "value")
    if is_unknown(value):
        return None, None, value
    number = as_number(value)
    if number is None or number <= 0:
        return None, (f"set metricTransformation.value of metric filter {metric_filter.label()} to a "
                      f"positive constant such as \"1\" (is {json_value(value)}): a matching event must add "
                      f"to the metric"), None
    return number, None, None


def json_value(value: Any) -> str:
    return f"\"{value}\"" if isinstance(value, str) else str(value)


def _fires(alarm: Node, metric_filter: Node, value: float, name: Any, namespace: Any
           ) -> str | Unknown | None:
    """The fix that makes ``alarm`` fire on one event worth ``value``, None when it does."""
    props = alarm.props
    statistic = _statistic(alarm, name, namespace)
    identity_fixes = _same_metric(alarm, metric_filter, name, namespace)
    if is_unknown(identity_fixes):
        return identity_fixes
    operator, threshold = props.get("comparisonOperator"), as_number(props.get("threshold"))
    periods, needed = as_number(props.get("evaluationPeriods")), as_number(props.get("datapointsToAlarm"))
    default = get(metric_filter.props.get("metricTransformation"), "defaultValue")
    for v in (operator, threshold, periods, needed, statistic, default):
        if is_unknown(v):
            return v
    fixes = list(identity_fixes)
    if statistic in EXCLUSIVE_STATISTICS and default is not None:
        fixes.append(f"use statistic Sum (is {statistic}, which the filter's defaultValue dilutes)")
    elif statistic not in ALWAYS_STATISTICS + EXCLUSIVE_STATISTICS + ("p100",):
        fixes.append(f"use statistic Sum (is {statistic or 'not set'})")
    seen = 1.0 if statistic == "SampleCount" else value
    fires = threshold is not None and (
        (operator == "GreaterThanOrEqualToThreshold" and seen >= threshold)
        or (operator == "GreaterThanThreshold" and seen > threshold))
    if not fires:
        shown = fmt_number(threshold) if threshold is not None else "not set"
        fixes.append(f"set comparisonOperator GreaterThanOrEqualToThreshold with threshold at most "
                     f"{fmt_number(seen)} (is {operator or 'not set'} {shown})")
    if (needed if needed is not None else periods) not in (None, 1.0):
        fixes.append(f"let one breaching datapoint alarm (datapointsToAlarm 1; is "
                     f"{fmt_number(needed if needed is not None else periods)} of "
                     f"{fmt_number(periods or 1)})")
    if not fixes:
        return None
    return (f"make alarm {alarm.label()} fire on one matching event (value {fmt_number(seen)}): "
            + "; ".join(fixes))


def _watched_metric(alarm: Node, name: Any, namespace: Any) -> dict[str, Any]:
    """The alarm's own properties, or the metric query's ``metric``, that watch namespace/name."""
    if alarm.props.get("metricName") == name and alarm.props.get("namespace") == namespace:
        return alarm.props
    for query in items(alarm.props.get("metricQueries")):
        metric = get(query, "metric")
        if get(metric, "metricName") == name and get(metric, "namespace") == namespace:
            return metric if isinstance(metric, dict) else {}
    return {}


def _same_metric(alarm: Node, metric_filter: Node, name: Any, namespace: Any) -> list[str] | Unknown:
    """Fixes that make the alarm watch the very metric the filter publishes (empty when it does).

    A CloudWatch metric is identified by namespace, name and dimensions together, so an alarm naming
    dimensions the filter does not emit (or none, when the filter emits some) watches a metric that never
    receives a datapoint (CloudWatch User Guide, "Metrics concepts: Dimensions"). An alarm's ``unit`` must
    be the unit the filter publishes ("None" when the filter sets none; PutMetricFilter
    MetricTransformation.unit), or the alarm stays in INSUFFICIENT_DATA (PutMetricAlarm, ``Unit``).
    """
    watched = _watched_metric(alarm, name, namespace)
    transform = metric_filter.props.get("metricTransformation")
    transform = transform[0] if isinstance(transform, list) and transform else transform
    filter_dims, alarm_dims = get(transform, "dimensions"), watched.get("dimensions")
    filter_unit, alarm_unit = get(transform, "unit"), watched.get("unit")
    for v in (filter_dims, alarm_dims, filter_unit, alarm_unit):
        if is_unknown(v):
            return v
    fixes = []
    if filter_dims:
        fixes.append(f"remove metricTransformation.dimensions of metric filter {metric_filter.label()} (an "
                     f"alarm watches one combination of dimension values; events with other values would "
                     f"publish to metrics it does not watch)")
    elif alarm_dims:
        names = ", ".join(sorted(alarm_dims))
        fixes.append(f"remove dimensions ({names}) from the metric the alarm watches: "
                     f"the filter publishes its metric without dimensions, so no datapoint reaches it")
    if alarm_unit not in (None, filter_unit or "None"):
        fixes.append(f"remove unit {alarm_unit} from the alarm (the filter publishes unit "
                     f"{filter_unit or 'None'}; an alarm on another unit stays in INSUFFICIENT_DATA)")
    return fixes


def _statistic(alarm: Node, name: Any, namespace: Any) -> Any:
    """The statistic the alarm applies to metric namespace/name (directly or in a metric query)."""
    if alarm.props.get("metricName") == name and alarm.props.get("namespace") == namespace:
        return alarm.props.get("statistic") or alarm.props.get("extendedStatistic")
    for query in items(alarm.props.get("metricQueries")):
        metric = get(query, "metric")
        if get(metric, "metricName") == name and get(metric, "namespace") == namespace:
            return get(metric, "stat")
    return None


# Stages of the filter -> alarm -> topic -> subscription chain, worst first.
_NO_ALARM, _NEVER_FIRES, _ACTIONS_OFF, _NO_TOPIC, _NO_SUBSCRIPTION, _OK = range(6)


def _chain(g: Graph, metric_filter: Node, alarms: list[Node], identity: tuple[str, str, str] | None
           ) -> tuple[int, str, Unknown | None]:
    """How far one metric filter's chain gets: (stage, the fix for a message, a pending unknown).

    A pending unknown means some alarm might complete the chain once its values are known.
    """
    transform = metric_filter.props.get("metricTransformation")
    transform = transform[0] if isinstance(transform, list) and transform else transform
    name, namespace = get(transform, "name"), get(transform, "namespace")
    for value in (transform, name, namespace):
        if is_unknown(value):
            return _NO_ALARM, "", value
    value, value_fix, value_unknown = filter_value(metric_filter)
    if value_unknown is not None:
        return _NO_ALARM, "", value_unknown
    if value_fix:
        return _NO_ALARM, value_fix, None
    stage, fix = _NO_ALARM, (f"add an aws.cloudwatch.MetricAlarm on metric {namespace}/{name} of metric "
                             f"filter {metric_filter.label()}")
    pending: Unknown | None = None
    for alarm in alarms:
        uses = _alarm_uses(alarm, name, namespace)
        if is_unknown(uses):
            pending = pending or uses
            continue
        if not uses:
            continue
        fires = _fires(alarm, metric_filter, value, name, namespace)
        enabled = as_bool(alarm.props.get("actionsEnabled"))
        if is_unknown(fires):
            pending = pending or fires
            continue
        if fires:
            candidate = (_NEVER_FIRES, fires)
        elif enabled is False:
            candidate = (_ACTIONS_OFF, f"set actionsEnabled to true on alarm {alarm.label()}")
        else:
            exact, maybe, unknown_action = g.topics_referenced(alarm, "alarmActions", identity)
            locked = [t for t in exact + maybe if _aws_managed_key(t)]
            exact = [t for t in exact if t not in locked]
            maybe = [t for t in maybe if t not in locked]
            if any(g.subscriptions(t) for t in exact):
                if is_unknown(enabled):
                    pending = pending or enabled
                    continue
                return _OK, "", None
            if any(g.subscriptions(t) for t in maybe):
                # The ARN may name this stack's subscribed topic; only known values can tell.
                pending = pending or unknown_action or Unknown(UNKNOWN_STRING_VALUE, ("alarmActions",))
                continue
            if exact or maybe:
                topic = (exact or maybe)[0]
                candidate = (_NO_SUBSCRIPTION, f"add an aws.sns.TopicSubscription to topic "
                                               f"{topic.label()}, which alarm {alarm.label()} notifies")
            elif locked:
                candidate = (_NO_TOPIC, (
                    f"encrypt topic {locked[0].label()}, which alarm {alarm.label()} notifies, "
                    f"with a customer managed KMS key whose policy lets cloudwatch.amazonaws.com use it "
                    f"(kms:Decrypt, kms:GenerateDataKey*): CloudWatch cannot publish to a topic "
                    f"encrypted with the AWS managed key alias/aws/sns"))
            else:
                candidate = (_NO_TOPIC, f"add to alarmActions of alarm {alarm.label()} the full ARN of an "
                                        f"SNS topic of this stack (a topic of the same name in another "
                                        f"account or region does not count)")
        if candidate[0] > stage:
            stage, fix = candidate
    return stage, fix, pending


def _aws_managed_key(topic: Node) -> bool:
    """Whether the topic is encrypted with the AWS managed key for SNS, whose key policy (which nobody can
    change) does not allow kms:Decrypt and kms:GenerateDataKey to CloudWatch, so the alarm actions fail
    (AWS Knowledge Center, "How do I configure a CloudWatch alarm with an encrypted Amazon SNS topic?",
    repost.aws/knowledge-center/cloudwatch-configure-alarm-sns: a customer managed key is required)."""
    value = known_str(topic.props.get("kmsMasterKeyId"))
    return bool(value) and (value == "alias/aws/sns" or value.endswith(":alias/aws/sns"))


def _identity(g: Graph) -> tuple[str, str, str] | None:
    """The stack's (partition, region, account), from the log group ARN its trails deliver to: the
    metric filters, hence the metrics and the alarms watching them, live in that account and region."""
    found = {arn_identity(known_str(t.props.get("cloudWatchLogsGroupArn")))
             for _, trails in g.trail_log_groups() for t in trails} - {None}
    return found.pop() if len(found) == 1 else None


def _monitoring(ctx: base.Context, g: Graph, args: Any) -> None:
    if not g.of_type(TRAIL):
        args.not_applicable("the stack declares no CloudTrail trail")
    groups = [group for group, _ in g.trail_log_groups()]
    if not groups:
        ctx.findings.violation(
            f"Deliver a trail to a CloudWatch Logs log group (cloudWatchLogsGroupArn and "
            f"cloudWatchLogsRoleArn) so the CIS 4.1-4.15 and spawn metric filters have events to match "
            f"{ctx.cite()}.")
        return
    excluded = set(ctx.settings["excludedControls"])
    by_control: dict[str, list[Node]] = {}
    unknown_patterns: list[Unknown] = []
    for group in groups:
        for metric_filter in g.metric_filters(group):
            pattern = metric_filter.props.get("pattern")
            if is_unknown(pattern):
                unknown_patterns.append(pattern)
            elif isinstance(pattern, str):
                control = monitoring.match_control(pattern)
                if control is not None:
                    by_control.setdefault(control.key, []).append(metric_filter)
    alarms = g.of_type(METRIC_ALARM)
    identity = _identity(g)
    target = groups[0]
    for control in monitoring.ALL_CONTROLS:
        if control.key in excluded:
            continue
        filters = by_control.get(control.key, [])
        if not filters:
            if unknown_patterns:
                ctx.findings.defer(unknown_patterns[0])
                continue
            ctx.findings.violation(
                f"Add a metric filter for {_identify(control)} with the prescribed pattern on log group "
                f"{target.label()}, an alarm on its metric and an alarm action to an SNS topic with a "
                f"subscription {_control_cite(ctx, control)}.", target.urn)
            continue
        results = [_chain(g, f, alarms, identity) for f in filters]
        if any(stage == _OK for stage, _, _ in results):
            continue
        pending = next((p for _, _, p in results if p), None)
        if pending:
            ctx.findings.defer(pending)
            continue
        stage, detail, _ = max(results, key=lambda r: r[0])
        ctx.findings.violation(
            f"{detail[0].upper()}{detail[1:]} so {_identify(control)} is acted on "
            f"{_control_cite(ctx, control)}.", filters[0].urn)


POLICIES = [
    base.stack_policy(
        name="aws-cloudwatch-log-group-retention",
        description="CloudWatch log groups that receive CloudTrail events must keep them at least as long "
                    "as the profile requires.",
        service="cloudwatch", level=MANDATORY, severity=Severity.HIGH, check=_retention,
        config={**PROFILE, "minRetentionDays": settings.days_floor(
            "Extra retention floor in days for trail log groups; the effective floor is the larger of "
            "this and the profiles' (0: the profiles' floor only).")},
        applies=always_one_year_or_profile,
    ),
    base.stack_policy(
        name="aws-cloudwatch-log-group-kms-encryption",
        description="CloudWatch log groups that receive CloudTrail events should be encrypted with a "
                    "KMS key.",
        service="cloudwatch", level=ADVISORY, severity=Severity.LOW, check=_group_kms,
    ),
    base.stack_policy(
        name="aws-cloudwatch-log-group-kms-encryption-required",
        description="CloudWatch log groups that receive CloudTrail events must be encrypted with a KMS key "
                    "when the profile or the requireKms setting asks for KMS.",
        service="cloudwatch", level=MANDATORY, severity=Severity.MEDIUM, check=_group_kms,
        config={**PROFILE, **settings.REQUIRE_KMS}, applies=base.kms_required,
    ),
    base.stack_policy(
        name="aws-cloudwatch-stack-monitoring-alarms",
        description="Every CIS 4.1-4.15 and spawn monitoring control must have a metric filter on the "
                    "trail's log group and an alarm that notifies a subscribed SNS topic.",
        service="cloudwatch", level=MANDATORY, severity=Severity.HIGH, check=_monitoring,
        config={**PROFILE, "excludedControls": {
            "type": "array", "items": {"type": "string", "enum": [c.key for c in monitoring.ALL_CONTROLS]},
            "uniqueItems": True, "default": [],
            "description": "Monitoring controls (monitoring.py keys) this stack is exempt from; list a "
                           "reason in the stack's documentation.",
        }},
        applies=base.flag_required("monitoring_alarms"),
    ),
]
