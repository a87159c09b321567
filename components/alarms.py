"""Security alarms: the SNS topic, its subscriptions, and a metric filter plus alarm per control.

Serves CIS AWS Foundations v4.0.1 4.1-4.15 (Security Hub CloudWatch.1-14, which compare each
filter with the exact CIS text), spawn's own two alarms (unmanaged launches, changes to spawn's IAM
roles) and SOC 2 CC7.2 (automated monitoring that notifies a subscribed destination).

The filter patterns come verbatim from ``policy/spawn_compliance/monitoring.py``, the table the policy
pack checks. spawn's docs put ``put-metric-alarm`` on namespace ``AWS/CloudTrail``: CloudTrail
publishes no such metrics, so those alarms could never fire. Every alarm here sits on a metric that
a metric filter on the trail's log group produces.

"Launches without the spawn:managed tag" cannot be one metric filter (see monitoring.py): the alarm
is metric math over two filters, all launches minus launches that carry the tag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.compliance import monitoring

PERIOD_SECONDS = 300
UNMANAGED_LAUNCH_KEY = "spawn-unmanaged-launch"


@dataclass(frozen=True)
class SecurityAlarmsArgs:
    partition: str
    account_id: str
    region: str
    name_prefix: str  # the trail name; alarm and filter names start with it
    topic_name: str
    topic_arn: str  # built from plain strings for the topic policy
    log_group_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None
    controls: tuple[monitoring.MonitoringControl, ...]
    emails: tuple[str, ...]
    https_endpoints: tuple[str, ...]
    tags: dict[str, str]


def topic_policy(args: SecurityAlarmsArgs) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            # Only this account's CloudWatch alarms may publish (AWS re:Post, "CloudWatch alarm
            # notifications to SNS": aws:SourceArn on the alarm ARNs).
            "Sid": "AllowAccountCloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": args.topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{args.partition}:cloudwatch:{args.region}:"
                                             f"{args.account_id}:alarm:*"},
                "StringEquals": {"aws:SourceAccount": args.account_id},
            },
        }],
    }, indent=2)


def _description(control: monitoring.MonitoringControl) -> str:
    sources = [f"CIS AWS Foundations v4.0.1 {control.cis_id}" if control.cis_id else "spawn audit"]
    if control.security_hub_id:
        sources.append(f"Security Hub {control.security_hub_id}")
    return f"{control.title} ({'; '.join(sources)})"


def _alarm_settings(args: SecurityAlarmsArgs, control: monitoring.MonitoringControl) -> dict:
    """What every alarm shares: CIS's "one event in five minutes" trigger and the alarm topic."""
    return {
        "evaluation_periods": 1,
        "threshold": control.threshold,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        # No matching event means nothing happened, not that monitoring is broken.
        "treat_missing_data": "notBreaching",
        "alarm_actions": [args.topic_arn],
        "tags": args.tags,
    }


class SecurityAlarms(pulumi.ComponentResource):
    """One alarm per enabled control, all notifying one topic."""

    topic: aws.sns.Topic
    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecurityAlarmsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:alarms:SecurityAlarms", name, None, opts)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            # SNS.1: encrypted at rest with the audit key when KMS is on (the key policy lets
            # CloudWatch alarms use it).
            kms_master_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The topic's ARN as a plain string (with an explicit dependency) keeps the policy, the
        # subscriptions and every alarm action known at preview, where the policy pack reads them.
        after_topic = pulumi.ResourceOptions(parent=self, depends_on=[self.topic])
        policy = aws.sns.TopicPolicy(f"{name}-topic-policy", arn=args.topic_arn, policy=topic_policy(args),
                                     opts=after_topic)
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(f"{name}-email-{i}", topic=args.topic_arn, protocol="email",
                                      endpoint=email, opts=after_topic)
        for i, url in enumerate(args.https_endpoints):
            # A webhook URL often carries its token: keep it out of state and logs in plain text.
            aws.sns.TopicSubscription(f"{name}-https-{i}", topic=args.topic_arn, protocol="https",
                                      endpoint=pulumi.Output.secret(url), opts=after_topic)

        alarm_opts = pulumi.ResourceOptions(parent=self, depends_on=[policy])
        for control in args.controls:
            if control.key == UNMANAGED_LAUNCH_KEY:
                self._unmanaged_launch_alarm(name, args, control, alarm_opts)
                continue
            metric_filter = self._metric_filter(
                f"{name}-{control.key}", f"{args.name_prefix}-{control.key}", args, control.filter_pattern,
                control.metric_name)
            aws.cloudwatch.MetricAlarm(
                f"{name}-{control.key}-alarm",
                name=f"{args.name_prefix}-{control.key}",
                alarm_description=_description(control),
                namespace=monitoring.METRIC_NAMESPACE,
                metric_name=control.metric_name,
                statistic="Sum",
                period=PERIOD_SECONDS,
                **_alarm_settings(args, control),
                opts=pulumi.ResourceOptions.merge(alarm_opts, pulumi.ResourceOptions(
                    depends_on=[metric_filter])),
            )

        self.topic_arn = self.topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

    def _metric_filter(self, resource_name: str, filter_name: str, args: SecurityAlarmsArgs, pattern: str,
                       metric_name: str) -> aws.cloudwatch.LogMetricFilter:
        return aws.cloudwatch.LogMetricFilter(
            f"{resource_name}-filter",
            name=filter_name,
            log_group_name=args.log_group_name,
            pattern=pattern,
            metric_transformation={
                "name": metric_name,
                "namespace": monitoring.METRIC_NAMESPACE,
                "value": "1",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _unmanaged_launch_alarm(self, name: str, args: SecurityAlarmsArgs,
                                control: monitoring.MonitoringControl,
                                opts: pulumi.ResourceOptions) -> None:
        launches = self._metric_filter(
            f"{name}-{control.key}-launches", f"{args.name_prefix}-{control.key}-launches", args,
            control.filter_pattern, monitoring.SPAWN_LAUNCHES_METRIC_NAME)
        managed = self._metric_filter(
            f"{name}-{control.key}-managed", f"{args.name_prefix}-{control.key}-managed", args,
            monitoring.SPAWN_MANAGED_LAUNCH_PATTERN, monitoring.SPAWN_MANAGED_LAUNCHES_METRIC_NAME)

        def metric(query_id: str, metric_name: str) -> dict:
            return {
                "id": query_id,
                "return_data": False,
                "metric": {
                    "namespace": monitoring.METRIC_NAMESPACE,
                    "metric_name": metric_name,
                    "period": PERIOD_SECONDS,
                    "stat": "Sum",
                },
            }

        aws.cloudwatch.MetricAlarm(
            f"{name}-{control.key}-alarm",
            name=f"{args.name_prefix}-{control.key}",
            alarm_description=_description(control),
            metric_queries=[
                metric("launches", monitoring.SPAWN_LAUNCHES_METRIC_NAME),
                metric("managed", monitoring.SPAWN_MANAGED_LAUNCHES_METRIC_NAME),
                {
                    "id": "unmanaged",
                    # A period without managed launches has no managed datapoint: FILL makes it 0.
                    "expression": "FILL(launches, 0) - FILL(managed, 0)",
                    "label": control.metric_name,
                    "return_data": True,
                },
            ],
            **_alarm_settings(args, control),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[launches, managed])),
        )
