"""An alarm counts only if one matching event makes it fire and it notifies this stack's topic.

From the compliant baseline, the recorded program (every control: filter value "1", Sum >= 1 over one
period, or metric math over two filters for unmanaged launches; action = the stack's subscribed topic by
full ARN), one change at a time, through the SDK's Analyzer servicer.
"""

from __future__ import annotations

import pytest
from policy_fixtures import ACCOUNT, ALERT_TOPIC, ALERTS, REGION, alarm, compliant_stack, find, metric_filter
from policy_harness import Pack, engine_config
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from spawn_compliance import monitoring

M, A = "mandatory", "advisory"
POLICY = "aws-cloudwatch-stack-monitoring-alarms"
VPC = ("so CIS 4.14 (VPC changes) is acted on (Security Hub CloudWatch.14, CIS 4.14, "
       "45 CFR 164.308(a)(1)(ii)(D), PCI DSS 10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3).")
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{ALERT_TOPIC}"
VPC_ALARM = alarm("vpc-changes")
VPC_FILTER = metric_filter("vpc-changes")


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
    find(stack, VPC_FILTER).props["metricTransformation"].update(value=value, **extra)
    return stack


def test_baseline_passes():
    assert preview(compliant_stack()).summary() == []


@pytest.mark.parametrize("stack,fix", [
    (set_value("0"), "Set metricTransformation.value of metric filter "
                     "'spawn-audit-alarms-vpc-changes-filter' to a positive constant such as \"1\" (is "
                     "\"0\"): a matching event must add to the metric "),
    (set_value("-1"), "(is \"-1\")"),
    (set_value("$.requestParameters.count"), "(is \"$.requestParameters.count\")"),
    (changed(VPC_ALARM, threshold=1_000_000),
     "Make alarm 'spawn-audit-alarms-vpc-changes-alarm' fire on one matching event (value 1): set "
     "comparisonOperator GreaterThanOrEqualToThreshold with threshold at most 1 (is "
     "GreaterThanOrEqualToThreshold 1000000) "),
    (changed(VPC_ALARM, comparisonOperator="LessThanThreshold"),
     "(is LessThanThreshold 1)"),
    (changed(VPC_ALARM, comparisonOperator="GreaterThanThreshold"),
     "(is GreaterThanThreshold 1)"),
    (changed(VPC_ALARM, evaluationPeriods=3),
     "let one breaching datapoint alarm (datapointsToAlarm 1; is 3 of 3)"),
    (changed(VPC_ALARM, statistic="Average"),
     "fire on one matching event (value 1): use statistic Sum (is Average, which the filter's "
     "defaultValue dilutes)"),
    (changed(VPC_ALARM, alarmActions=[f"arn:aws:sns:{REGION}:999988887777:{ALERT_TOPIC}"]),
     "Add to alarmActions of alarm 'spawn-audit-alarms-vpc-changes-alarm' the full ARN of an SNS topic of "
     "this stack (a topic of the same name in another account or region does not count) "),
    (changed(VPC_ALARM, alarmActions=[f"arn:aws:sns:eu-west-1:{ACCOUNT}:{ALERT_TOPIC}"]),
     "the full ARN of an SNS topic of this stack"),
], ids=["value-0", "value-negative", "value-from-event", "threshold-million", "reversed", "strictly-above-1",
        "three-periods", "average-with-default", "other-account-topic", "other-region-topic"])
def test_alarm_that_cannot_fire_or_notifies_another_topic_is_caught(stack, fix):
    if "defaultValue" in fix:
        find(stack, VPC_FILTER).props["metricTransformation"]["defaultValue"] = 0
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, M)]
    assert fix in result.diagnostics[0].message
    assert result.diagnostics[0].message.endswith(VPC)


@pytest.mark.parametrize("stack", [
    changed(VPC_ALARM, comparisonOperator="GreaterThanThreshold", threshold=0),
    changed(VPC_ALARM, statistic="Maximum"),
    changed(VPC_ALARM, statistic="SampleCount", threshold=1),
    changed(VPC_ALARM, statistic="Average"),  # no defaultValue: only the event's datapoint
    changed(VPC_ALARM, evaluationPeriods=3, datapointsToAlarm=1),
    set_value("5"),
], ids=["above-zero", "maximum", "sample-count", "average-without-default", "one-of-three", "value-5"])
def test_equivalent_firing_alarms_pass(stack):
    assert preview(stack).summary() == []


def test_topic_named_by_its_known_arn_passes():
    stack = compliant_stack()
    find(stack, ALERTS).props["arn"] = TOPIC_ARN
    assert preview(stack).summary() == []


def test_same_named_topic_whose_known_arn_differs_is_not_this_topic():
    stack = compliant_stack()
    find(stack, ALERTS).props["arn"] = f"arn:aws:sns:{REGION}:999988887777:{ALERT_TOPIC}"
    result = preview(stack)
    assert {(d.policy, d.level) for d in result.diagnostics} == {(POLICY, M)}


def test_unknown_action_arn_is_never_a_mandatory_failure():
    # The action as the topic's own ARN output (the program passes a string it builds): unknown during
    # preview, with the property dependency on the topic the engine records for it.
    stack = changed(VPC_ALARM, alarmActions=[UNKNOWN_STRING_VALUE])
    find(stack, VPC_ALARM).deps["alarmActions"] = [ALERTS]
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, A)]
    assert "during preview" in result.diagnostics[0].message


def _metric_math(stack, operator, threshold=1):
    # The program's unmanaged-launch alarm is metric math over two filters' metrics (launches minus
    # managed launches); only its comparison changes.
    alarm = find(stack, "spawn-audit-alarms-spawn-unmanaged-launch-alarm").props
    assert [q["id"] for q in alarm["metricQueries"]] == ["launches", "managed", "unmanaged"]
    alarm.update(comparisonOperator=operator, threshold=threshold)
    return stack


def test_metric_math_alarm_fires_on_one_event():
    # Strictly above 0 is the same as at least 1 for whole counts of events.
    assert preview(_metric_math(compliant_stack(), "GreaterThanThreshold", 0)).summary() == []


def test_metric_math_alarm_with_reversed_comparison_is_caught():
    result = preview(_metric_math(compliant_stack(), "LessThanOrEqualToThreshold"))
    assert [(d.policy, d.level) for d in result.diagnostics] == [(POLICY, M)]
    assert ("Make alarm 'spawn-audit-alarms-spawn-unmanaged-launch-alarm' fire on one matching event (value "
            "1): set comparisonOperator GreaterThanOrEqualToThreshold with threshold at most 1 (is "
            "LessThanOrEqualToThreshold 1)") in result.diagnostics[0].message


def _transform(stack, **props):
    find(stack, VPC_FILTER).props["metricTransformation"].update(props)
    return stack


FIRE = "Make alarm 'spawn-audit-alarms-vpc-changes-alarm' fire on one matching event (value 1): "


@pytest.mark.parametrize("stack,fix", [
    (changed(VPC_ALARM, dimensions={"TrailName": "spawn-audit"}),
     "remove dimensions (TrailName) from the metric the alarm watches: the filter publishes its metric "
     "without dimensions, so no datapoint reaches it"),
    (_transform(compliant_stack(), dimensions={"caller": "$.userIdentity.arn"}),
     "remove metricTransformation.dimensions of metric filter 'spawn-audit-alarms-vpc-changes-filter' (an "
     "alarm watches one combination of dimension values; events with other values would publish to metrics "
     "it does not watch)"),
    (changed(VPC_ALARM, unit="Seconds"),
     "remove unit Seconds from the alarm (the filter publishes unit None; an alarm on another unit stays "
     "in INSUFFICIENT_DATA)"),
    (_transform(changed(VPC_ALARM, unit="Seconds"), unit="Count"),
     "remove unit Seconds from the alarm (the filter publishes unit Count; an alarm on another unit stays "
     "in INSUFFICIENT_DATA)"),
], ids=["alarm-dimensions", "filter-dimensions", "alarm-unit", "units-differ"])
def test_alarm_watching_another_metric_than_the_filter_publishes_is_caught(stack, fix):
    assert preview(stack).summary() == [(POLICY, M, f"{FIRE}{fix} {VPC}")]


@pytest.mark.parametrize("stack", [
    changed(VPC_ALARM, unit="None"),
    _transform(changed(VPC_ALARM, unit="Count"), unit="Count"),
    _transform(compliant_stack(), unit="Count"),
    changed(VPC_ALARM, dimensions={}),
], ids=["unit-none-stated", "same-unit", "filter-unit-alarm-any", "empty-dimensions"])
def test_alarm_on_the_filters_own_metric_written_differently_passes(stack):
    assert preview(stack).summary() == []


@pytest.mark.parametrize("key", ["alias/aws/sns", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sns"],
                         ids=["alias", "alias-arn"])
def test_topic_encrypted_with_the_aws_managed_sns_key_is_caught(key):
    stack = changed(ALERTS, kmsMasterKeyId=key)
    find(stack, ALERTS).deps.clear()
    result = preview(stack).summary()
    assert [(p, level) for p, level, _ in result] == [(POLICY, M)] * len(monitoring.ALL_CONTROLS)
    assert (POLICY, M, f"Encrypt topic 'spawn-audit-alarms-topic', which alarm "
            f"'spawn-audit-alarms-vpc-changes-alarm' notifies, with a customer managed KMS key whose policy "
            f"lets cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*): CloudWatch cannot "
            f"publish to a topic encrypted with the AWS managed key alias/aws/sns {VPC}") in result


def test_topic_encrypted_with_a_customer_managed_alias_passes():
    assert preview(changed(ALERTS, kmsMasterKeyId="alias/spawn-audit")).summary() == []
