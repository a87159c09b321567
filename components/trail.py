"""The CloudTrail trail, and the optional SNS topic for log-file delivery notifications.

Serves CIS AWS Foundations v4.0.1 3.1 / Security Hub CloudTrail.1 (multi-region trail with read and
write management events), CIS 3.2 / CloudTrail.4 (log file validation), CloudTrail.5 (CloudWatch
Logs integration), CIS 3.5 / CloudTrail.2 (KMS), HIPAA 45 CFR 164.312(b) and PCI DSS v4.0.1 10.2.

spawn's docs list DynamoDB ``PutItem`` on ``spawn-sweeps``, Lambda ``Invoke`` of
``sweep-orchestrator`` and S3 artifact access as logged, but those are data events: a trail records
them only with event selectors for them. Advanced event selectors are used (a trail cannot mix
them with basic selectors), so management events get their own selector too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")


@dataclass(frozen=True)
class AuditTrailArgs:
    partition: str
    account_id: str
    region: str
    name: str
    arn: str  # the trail's own ARN, built from plain strings
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None
    log_group_arn: str  # without ":*"
    delivery_role_arn: str
    organization_trail: bool
    insights: bool
    sns_topic_name: str | None  # None: no log-delivery notifications
    kms_topic_key_arn: pulumi.Input[str] | None
    dynamodb_tables: tuple[str, ...]
    lambda_functions: tuple[str, ...]
    s3_buckets: tuple[str, ...]
    depends_on: Sequence[pulumi.Resource]  # bucket policy, key, role policy, log group
    protect: bool
    tags: dict[str, str]


def _field(field: str, **operators: list[str]) -> dict:
    return {"field": field, **operators}


def advanced_event_selectors(args: AuditTrailArgs) -> list[dict]:
    """Management events (read and write), then one data-event selector per resource type."""
    selectors = [{
        "name": "Management events (read and write)",
        # No readOnly field: both read and write events (CIS 3.1 / CloudTrail.1).
        "field_selectors": [_field("eventCategory", equals=["Management"])],
    }]
    prefix = f"arn:{args.partition}"
    for label, resource_type, arns in (
        ("spawn DynamoDB tables (data events)", "AWS::DynamoDB::Table",
         [f"{prefix}:dynamodb:{args.region}:{args.account_id}:table/{t}" for t in args.dynamodb_tables]),
        ("spawn Lambda functions (data events)", "AWS::Lambda::Function",
         [f"{prefix}:lambda:{args.region}:{args.account_id}:function:{f}" for f in args.lambda_functions]),
    ):
        if arns:
            selectors.append({
                "name": label,
                "field_selectors": [
                    _field("eventCategory", equals=["Data"]),
                    _field("resources.type", equals=[resource_type]),
                    _field("resources.ARN", equals=arns),
                ],
            })
    if args.s3_buckets:
        selectors.append({
            "name": "spawn S3 artifact objects (data events)",
            "field_selectors": [
                _field("eventCategory", equals=["Data"]),
                _field("resources.type", equals=["AWS::S3::Object"]),
                # The trailing "/" keeps "spawn-artifacts" from matching "spawn-artifacts-old".
                _field("resources.ARN", starts_withs=[f"{prefix}:s3:::{b}/" for b in args.s3_buckets]),
            ],
        })
    return selectors


def delivery_topic_policy(args: AuditTrailArgs, topic_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AWSCloudTrailSNSPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": args.arn}},
        }],
    }, indent=2)


class AuditTrail(pulumi.ComponentResource):
    """The trail; it is created only after everything it writes to accepts its writes."""

    trail: aws.cloudtrail.Trail
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:trail:AuditTrail", name, None, opts)
        depends_on = list(args.depends_on)
        if args.sns_topic_name is not None:
            topic = aws.sns.Topic(
                f"{name}-delivery-topic",
                name=args.sns_topic_name,
                kms_master_key_id=args.kms_topic_key_arn,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            topic_arn = f"arn:{args.partition}:sns:{args.region}:{args.account_id}:{args.sns_topic_name}"
            depends_on.append(aws.sns.TopicPolicy(
                f"{name}-delivery-topic-policy",
                arn=topic_arn,
                policy=delivery_topic_policy(args, topic_arn),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[topic]),
            ))

        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.name,
            s3_bucket_name=args.bucket_name,
            is_multi_region_trail=True,  # CIS 3.1 / CloudTrail.1: one trail, every region, one bucket
            include_global_service_events=True,  # IAM, STS and other global services (CloudTrail.1)
            enable_log_file_validation=True,  # CIS 3.2 / CloudTrail.4: digest files detect tampering
            enable_logging=True,  # a trail that is not logging records nothing
            is_organization_trail=args.organization_trail,
            kms_key_id=args.kms_key_arn,
            # CloudTrail requires the ":*" suffix on the log group ARN.
            cloud_watch_logs_group_arn=f"{args.log_group_arn}:*",
            cloud_watch_logs_role_arn=args.delivery_role_arn,
            sns_topic_name=args.sns_topic_name,
            insight_selectors=[{"insight_type": t} for t in INSIGHT_TYPES] if args.insights else None,
            advanced_event_selectors=advanced_event_selectors(args),
            tags=args.tags,
            # Created before its bucket policy, the trail fails with InsufficientS3BucketPolicyException.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=depends_on),
        )
        self.arn = self.trail.arn
        self.name = self.trail.name
        self.register_outputs({"arn": self.arn, "name": self.name})
