"""CloudWatch Logs delivery for the trail: the log group and the role CloudTrail assumes to write it.

Serves Security Hub CloudTrail.5 / CIS v4.0.1 3.x monitoring prerequisites (the trail is integrated
with CloudWatch Logs, where the section 4 metric filters live), Security Hub CloudWatch.16 (log
group retention of at least a year) and the profile's log-group retention.

Translated from the AWS CloudTrail User Guide, "Sending events to CloudWatch Logs" (role trusted by
``cloudtrail.amazonaws.com``; ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the group's
streams), with the ``aws:SourceArn`` / ``aws:SourceAccount`` trust conditions of "Cross-service
confused deputy prevention". spawn's docs scope the policy to ``arn:aws:logs:*:*:...`` (any region
and account) and put no condition on the trust policy; both are narrowed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class LogDeliveryArgs:
    partition: str
    account_id: str
    log_group_name: str
    log_group_arn: str  # without ":*"
    retention_days: int  # a value CloudWatch Logs accepts (settings.py guarantees it)
    kms_key_arn: pulumi.Input[str] | None
    trail_arn: str
    role_name: str
    protect: bool
    tags: dict[str, str]


def trust_policy(args: LogDeliveryArgs) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            # Only this account's trail may assume the role (confused-deputy prevention).
            "Condition": {"StringEquals": {
                "aws:SourceArn": args.trail_arn,
                "aws:SourceAccount": args.account_id,
            }},
        }],
    }, indent=2)


def delivery_policy(args: LogDeliveryArgs) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudTrailWriteLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{args.log_group_arn}:log-stream:*",
        }],
    }, indent=2)


def audit_log_group(parent: pulumi.Resource, resource_name: str, log_group_name: str, retention_days: int,
                    kms_key_arn: pulumi.Input[str] | None, tags: dict[str, str],
                    protect: bool) -> aws.cloudwatch.LogGroup:
    """A log group that holds audit evidence: profile retention, the audit key, ``protect`` on request.

    Shared by the trail's group and spawn's application audit group so that both keep evidence alike.
    With ``protect`` (required under every profile) the group also has CloudWatch Logs deletion
    protection, which refuses DeleteLogGroup from anyone until it is switched off, and Pulumi's
    retain_on_delete, so that no stack operation deletes the events.
    """
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        deletion_protection_enabled=True if protect else None,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )


class LogDelivery(pulumi.ComponentResource):
    """The trail's log group, the delivery role and its inline policy."""

    log_group: aws.cloudwatch.LogGroup
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: LogDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:log_delivery:LogDelivery", name, None, opts)
        self.log_group = audit_log_group(self, f"{name}-log-group", args.log_group_name, args.retention_days,
                                         args.kms_key_arn, args.tags, args.protect)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Assumed by CloudTrail to deliver events to its CloudWatch Logs group",
            assume_role_policy=trust_policy(args),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            name="cloudtrail-to-cloudwatch-logs",
            role=self.role.name,
            policy=delivery_policy(args),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.log_group_name = self.log_group.name
        self.register_outputs({"log_group_name": self.log_group_name})
