"""Security alarms: the set (CIS 4.1-4.15 + spawn's two), verbatim filter patterns, actions, topic."""

from __future__ import annotations

from program_support import ACCOUNT, document, ok, one
from spawn_compliance import monitoring

from offline_preview.runner import ProgramRun

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:spawn-audit-security-alarms"


def _alarms(run: ProgramRun) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in run.by_type(ALARM)}


def _filters(run: ProgramRun) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in run.by_type(FILTER)}


def test_one_alarm_per_control(prod: ProgramRun) -> None:
    assert set(_alarms(prod)) == {f"spawn-audit-{c.key}" for c in monitoring.ALL_CONTROLS}
    assert len(monitoring.CIS_CONTROLS) == 15


def test_filters_use_the_monitoring_table_verbatim(prod: ProgramRun) -> None:
    filters = _filters(prod)
    for control in monitoring.ALL_CONTROLS:
        name = f"spawn-audit-{control.key}"
        if control.key == "spawn-unmanaged-launch":
            continue
        assert filters[name]["pattern"] == control.filter_pattern, name
        assert monitoring.match_control(filters[name]["pattern"]) is control
        assert filters[name]["logGroupName"] == "/aws/cloudtrail/spawn"
        assert filters[name]["metricTransformation"] == {
            "name": control.metric_name, "namespace": monitoring.METRIC_NAMESPACE, "value": "1"}
        alarm = _alarms(prod)[name]
        # The alarm watches exactly the metric its filter produces (not AWS/CloudTrail).
        assert (alarm["namespace"], alarm["metricName"]) == (monitoring.METRIC_NAMESPACE, control.metric_name)
        assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"]) == ("Sum", 300, 1)
        assert (alarm["threshold"], alarm["comparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmActions"] == [TOPIC_ARN]
    assert not [a for a in _alarms(prod).values() if a.get("namespace") == "AWS/CloudTrail"]


def test_unmanaged_launch_alarm_is_metric_math_over_two_filters(prod: ProgramRun) -> None:
    filters = _filters(prod)
    launches = filters["spawn-audit-spawn-unmanaged-launch-launches"]
    managed = filters["spawn-audit-spawn-unmanaged-launch-managed"]
    assert launches["pattern"] == monitoring.SPAWN_ALL_LAUNCHES_PATTERN
    assert managed["pattern"] == monitoring.SPAWN_MANAGED_LAUNCH_PATTERN
    # The tag is looked for beyond index 0 (spawn's docs only checked items[0].tags[0]).
    assert "items[1].tags[4].key" in managed["pattern"]
    assert launches["metricTransformation"]["name"] == monitoring.SPAWN_LAUNCHES_METRIC_NAME
    assert managed["metricTransformation"]["name"] == monitoring.SPAWN_MANAGED_LAUNCHES_METRIC_NAME
    alarm = _alarms(prod)["spawn-audit-spawn-unmanaged-launch"]
    assert "metricName" not in alarm
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["launches"]["metric"]["metricName"] == monitoring.SPAWN_LAUNCHES_METRIC_NAME
    assert queries["managed"]["metric"]["metricName"] == monitoring.SPAWN_MANAGED_LAUNCHES_METRIC_NAME
    assert {q["metric"]["namespace"] for q in (queries["launches"], queries["managed"])} == \
        {monitoring.METRIC_NAMESPACE}
    assert queries["unmanaged"] == {"id": "unmanaged", "expression": "FILL(launches, 0) - FILL(managed, 0)",
                                    "label": "SpawnUnmanagedLaunch", "returnData": True}
    assert [q["returnData"] for q in alarm["metricQueries"]] == [False, False, True]
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["alarmActions"] == [TOPIC_ARN]


def test_disabled_alarms_are_left_out() -> None:
    run = ok("prod", {"disabledAlarms": ["vpc-changes", "spawn-unmanaged-launch"]})
    names = set(_alarms(run))
    assert "spawn-audit-vpc-changes" not in names and "spawn-audit-spawn-unmanaged-launch" not in names
    assert len(names) == 15
    assert len(run.by_type(FILTER)) == 15


def test_topic_policy_lets_only_this_accounts_alarms_publish(prod: ProgramRun) -> None:
    topic = one(prod, "aws:sns/topic:Topic").inputs
    assert topic["name"] == "spawn-audit-security-alarms"
    assert topic["kmsMasterKeyId"] == f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"
    policy = one(prod, "aws:sns/topicPolicy:TopicPolicy")
    assert policy.inputs["arn"] == TOPIC_ARN
    assert document(policy)["Statement"] == [{
        "Sid": "AllowAccountCloudWatchAlarmsPublish", "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": TOPIC_ARN,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
                      "StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }]


def test_subscriptions(prod: ProgramRun, dev: ProgramRun) -> None:
    subscriptions = [r.inputs for r in prod.by_type("aws:sns/topicSubscription:TopicSubscription")]
    assert subscriptions == [{"topic": TOPIC_ARN, "protocol": "email",
                              "endpoint": "security-alerts@example.com"}]
    run = ok("prod", {"alarmHttpsEndpoints": ["https://hooks.example.com/alarm"]})
    assert sorted((r.inputs["protocol"], r.inputs["endpoint"])
                  for r in run.by_type("aws:sns/topicSubscription:TopicSubscription")) == \
        [("email", "security-alerts@example.com"), ("https", "https://hooks.example.com/alarm")]
    assert dev.by_type("aws:sns/topicSubscription:TopicSubscription") == []
    assert "kmsMasterKeyId" not in one(dev, "aws:sns/topic:Topic").inputs
