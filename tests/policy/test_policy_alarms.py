"""An alarm counts only if one matching event makes it fire and it notifies this stack's topic.

From the compliant baseline (every control: filter value "1", Sum >= 1 over one period, action = the
stack's subscribed topic by full ARN), one change at a time, through the SDK's Analyzer servicer.
"""

from __future__ import annotations

import pytest
from handbuilt_fixtures import ACCOUNT, ALERT_TOPIC, REGION, compliant_stack, find
from policy_harness import Pack, engine_config
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from spawn_compliance import monitoring

M, A = "mandatory", "advisory"
POLICY = "aws-cloudwatch-stack-monitoring-alarms"
VPC = ("so CIS 4.14 (VPC changes) is acted on (Security Hub CloudWatch.14, CIS 4.14, "
       "45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3).")
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{ALERT_TOPIC}"


def preview(stack):
    return Pack().configure(engine_config()).preview(stack)


def changed(resource: str, **props):
    stack = compliant_stack()
    target = find(stack, resource).props
    for key, value in props.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return stack


def set_value(value: str, **extra):
    stack = compliant_stack()
    find(stack, "filter-vpc-changes").props["metricTransformation"].update(value=value, **extra)
    return stack


def test_baseline_passes():
    assert preview(compliant_stack()).summary() == []


@pytest.mark.parametrize("stack,fix", [
    (set_value("0"), "Set metricTransformation.value of metric filter 'filter-vpc-changes' to a positive "
                     "constant such as \"1\" (is \"0\"): a matching event must add to the metric "),
    (set_value("-1"), "(is \"-1\")"),
    (set_value("$.requestParameters.count"), "(is \"$.requestParameters.count\")"),
    (changed("alarm-vpc-changes", threshold=1_000_000),
     "Make alarm 'alarm-vpc-changes' fire on one matching event (value 1): set comparisonOperator "
     "GreaterThanOrEqualToThreshold with threshold at most 1 (is GreaterThanOrEqualToThreshold 1000000) "),
    (changed("alarm-vpc-changes", comparisonOperator="LessThanThreshold"),
     "(is LessThanThreshold 1)"),
    (changed("alarm-vpc-changes", comparisonOperator="GreaterThanThreshold"),
     "(is GreaterThanThreshold 1)"),
    (changed("alarm-vpc-changes", evaluationPeriods=3),
     "let one breaching datapoint alarm (datapointsToAlarm 1; is 3 of 3)"),
    (changed("alarm-vpc-changes", statistic="Average"),
     "fire on one matching event (value 1): use statistic Sum (is Average, which the filter's "
     "defaultValue dilutes)"),
    (changed("alarm-vpc-changes", alarmActions=[f"arn:aws:sns:{REGION}:999988887777:{ALERT_TOPIC}"]),
     "Add to alarmActions of alarm 'alarm-vpc-changes' the full ARN of an SNS topic of this stack (a "
     "topic of the same name in another account or region does not count) "),
    (changed("alarm-vpc-changes", alarmActions=[f"arn:aws:sns:eu-west-1:{ACCOUNT}:{ALERT_TOPIC}"]),
     "the full ARN of an SNS topic of this stack"),
], ids=["value-0", "value-negative", "value-from-event", "threshold-million", "reversed", "strictly-above-1",
        "three-periods", "average-with-default", "other-account-topic", "other-region-topic"])
def test_alarm_that_cannot_fire_or_notifies_another_topic_is_caught(stack, fix):
    if "defaultValue" in fix:
        find(stack, "filter-vpc-changes").props["metricTransformation"]["defaultValue"] = 0
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, M)]
    assert fix in result.diagnostics[0].message
    assert result.diagnostics[0].message.endswith(VPC)


@pytest.mark.parametrize("stack", [
    changed("alarm-vpc-changes", comparisonOperator="GreaterThanThreshold", threshold=0),
    changed("alarm-vpc-changes", statistic="Maximum"),
    changed("alarm-vpc-changes", statistic="SampleCount", threshold=1),
    changed("alarm-vpc-changes", statistic="Average"),  # no defaultValue: only the event's datapoint
    changed("alarm-vpc-changes", evaluationPeriods=3, datapointsToAlarm=1),
    set_value("5"),
], ids=["above-zero", "maximum", "sample-count", "average-without-default", "one-of-three", "value-5"])
def test_equivalent_firing_alarms_pass(stack):
    assert preview(stack).summary() == []


def test_topic_named_by_its_known_arn_passes():
    stack = compliant_stack()
    find(stack, "alerts").props["arn"] = TOPIC_ARN
    assert preview(stack).summary() == []


def test_same_named_topic_whose_known_arn_differs_is_not_this_topic():
    stack = compliant_stack()
    find(stack, "alerts").props["arn"] = f"arn:aws:sns:{REGION}:999988887777:{ALERT_TOPIC}"
    result = preview(stack)
    assert {(d.policy, d.level) for d in result.diagnostics} == {(POLICY, M)}


def test_unknown_action_arn_is_never_a_mandatory_failure():
    stack = changed("alarm-vpc-changes", alarmActions=[UNKNOWN_STRING_VALUE])
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, A)]
    assert "during preview" in result.diagnostics[0].message


def _metric_math(stack, operator="GreaterThanOrEqualToThreshold", threshold=1):
    alarm = find(stack, "alarm-spawn-unmanaged-launch").props
    for key in ("metricName", "namespace", "statistic", "period"):
        del alarm[key]
    alarm.update(comparisonOperator=operator, threshold=threshold, metricQueries=[
        {"id": "launches", "returnData": False, "metric": {
            "namespace": monitoring.METRIC_NAMESPACE, "metricName": "SpawnUnmanagedLaunch", "period": 300,
            "stat": "Sum"}},
        {"id": "unmanaged", "expression": "FILL(launches, 0)", "label": "unmanaged", "returnData": True},
    ])
    return stack


def test_metric_math_alarm_fires_on_one_event():
    assert preview(_metric_math(compliant_stack())).summary() == []


def test_metric_math_alarm_with_reversed_comparison_is_caught():
    result = preview(_metric_math(compliant_stack(), "LessThanOrEqualToThreshold"))
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, M)]
    assert ("Make alarm 'alarm-spawn-unmanaged-launch' fire on one matching event (value 1): set "
            "comparisonOperator GreaterThanOrEqualToThreshold with threshold at most 1 (is "
            "LessThanOrEqualToThreshold 1)") in result.diagnostics[0].message


def _transform(stack, **props):
    find(stack, "filter-vpc-changes").props["metricTransformation"].update(props)
    return stack


FIRE = "Make alarm 'alarm-vpc-changes' fire on one matching event (value 1): "


@pytest.mark.parametrize("stack,fix", [
    (changed("alarm-vpc-changes", dimensions={"TrailName": "spawn-audit"}),
     "remove dimensions (TrailName) from the metric the alarm watches: the filter publishes its metric "
     "without dimensions, so no datapoint reaches it"),
    (_transform(compliant_stack(), dimensions={"caller": "$.userIdentity.arn"}),
     "remove metricTransformation.dimensions of metric filter 'filter-vpc-changes' (an alarm watches one "
     "combination of dimension values; events with other values would publish to metrics it does not "
     "watch)"),
    (changed("alarm-vpc-changes", unit="Seconds"),
     "remove unit Seconds from the alarm (the filter publishes unit None; an alarm on another unit stays "
     "in INSUFFICIENT_DATA)"),
    (_transform(changed("alarm-vpc-changes", unit="Seconds"), unit="Count"),
     "remove unit Seconds from the alarm (the filter publishes unit Count; an alarm on another unit stays "
     "in INSUFFICIENT_DATA)"),
], ids=["alarm-dimensions", "filter-dimensions", "alarm-unit", "units-differ"])
def test_alarm_watching_another_metric_than_the_filter_publishes_is_caught(stack, fix):
    assert preview(stack).summary() == [(POLICY, M, f"{FIRE}{fix} {VPC}")]


@pytest.mark.parametrize("stack", [
    changed("alarm-vpc-changes", unit="None"),
    _transform(changed("alarm-vpc-changes", unit="Count"), unit="Count"),
    _transform(compliant_stack(), unit="Count"),
    changed("alarm-vpc-changes", dimensions={}),
], ids=["unit-none-stated", "same-unit", "filter-unit-alarm-any", "empty-dimensions"])
def test_alarm_on_the_filters_own_metric_written_differently_passes(stack):
    assert preview(stack).summary() == []


@pytest.mark.parametrize("key", ["alias/aws/sns", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sns"],
                         ids=["alias", "alias-arn"])
def test_topic_encrypted_with_the_aws_managed_sns_key_is_caught(key):
    stack = changed("alerts", kmsMasterKeyId=key)
    find(stack, "alerts").deps.clear()
    result = preview(stack).summary()
    assert [(p, level) for p, level, _ in result] == [(POLICY, M)] * len(monitoring.ALL_CONTROLS)
    assert (POLICY, M, "Encrypt topic 'alerts', which alarm 'alarm-vpc-changes' notifies, with a customer "
            "managed KMS key whose policy lets cloudwatch.amazonaws.com use it (kms:Decrypt, "
            "kms:GenerateDataKey*): CloudWatch cannot publish to a topic encrypted with the AWS managed key "
            f"alias/aws/sns {VPC}") in result


def test_topic_encrypted_with_a_customer_managed_alias_passes():
    assert preview(changed("alerts", kmsMasterKeyId="alias/spawn-audit")).summary() == []
