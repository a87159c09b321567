"""The customer-managed KMS key that encrypts the trail's log files, its log groups and alarm topics.

Serves CIS AWS Foundations v4.0.1 3.5 / Security Hub CloudTrail.2 (CloudTrail logs encrypted at rest
with a KMS CMK), CIS 3.6 / KMS.4 (key rotation), HIPAA 45 CFR 164.312(a)(2)(iv) and PCI DSS v4.0.1
10.3.2. Only created when ``encryption`` is ``kms``.

The key policy is translated from AWS's documentation, not invented:
* AWS CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail"
  (statements "Enable IAM user permissions", "Allow CloudTrail to encrypt logs", "Allow CloudTrail
  to describe key", "Allow principals in the account to decrypt log files"; the decrypt grant is
  narrowed here to the configured auditor roles and keeps that statement's
  ``kms:EncryptionContext:aws:cloudtrail:arn`` condition, which is stricter than the
  ``Null ... false`` form of "Granting decrypt permissions": it names this account's trails);
  a cross-account auditor is refused in ``settings`` (the grant is only for this account's roles,
  through ``kms:CallerAccount``);
* Amazon CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management
  Service" (service principal ``logs.<region>.amazonaws.com`` limited by
  ``kms:EncryptionContext:aws:logs:arn``);
* Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS services and
  encrypted topics" (CloudWatch alarms need ``kms:Decrypt`` and ``kms:GenerateDataKey*`` to publish
  to a KMS-encrypted topic; narrowed here with ``aws:SourceAccount`` and ``aws:SourceArn`` on this
  account's alarms, the conditions AWS's own Modern Data Architecture Accelerator documents as
  supported for this grant, unlike EventBridge's), and the CloudTrail User Guide, "Configuring
  Amazon SNS notifications for CloudTrail" for the optional log-delivery topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AuditKeyArgs:
    """Plain values only: the policy must be known at preview so the policy pack can read it."""

    partition: str
    account_id: str
    region: str
    dns_suffix: str  # amazonaws.com, or amazonaws.com.cn in the China partition
    trail_arn: str  # the trail this key serves (aws:SourceArn)
    log_group_arns: tuple[str, ...]  # groups CloudWatch Logs may encrypt with the key (no ":*")
    logs_service_principal: str  # logs.<region>.<dns suffix>
    auditor_role_arns: tuple[str, ...]  # may decrypt log files they read through S3
    trail_sns_topic: bool  # CloudTrail publishes log-delivery notifications to an encrypted topic
    alias: str  # "alias/<trail name>"
    deletion_window_days: int
    protect: bool
    tags: dict[str, str]


def key_policy(args: AuditKeyArgs) -> str:
    """The key policy document as JSON text."""
    root = f"arn:{args.partition}:iam::{args.account_id}:root"
    trail_context = f"arn:{args.partition}:cloudtrail:*:{args.account_id}:trail/*"
    statements: list[dict] = [
        {
            # Without it nobody, not even the account's administrators, could manage the key.
            "Sid": "EnableIAMUserPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowCloudTrailEncryptLogs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                # aws:SourceArn stops another account's trail from using this key (confused deputy).
                "StringEquals": {"aws:SourceArn": args.trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context},
            },
        },
        {
            "Sid": "AllowCloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": args.trail_arn}},
        },
        {
            "Sid": "AllowCloudWatchLogsUse",
            "Effect": "Allow",
            "Principal": {"Service": args.logs_service_principal},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                       "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(args.log_group_arns)}},
        },
        {
            # The alarm topic is encrypted with this key; without this grant alarms fail to publish.
            # AWS's SNS statement for CloudWatch has no condition; aws:SourceAccount and aws:SourceArn
            # (this account's alarms) are the confused-deputy guard every other service grant here has.
            "Sid": "AllowCloudWatchAlarmsUse",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": args.account_id},
                "ArnLike": {"aws:SourceArn": f"arn:{args.partition}:cloudwatch:{args.region}:"
                                             f"{args.account_id}:alarm:*"},
            },
        },
    ]
    if args.trail_sns_topic:
        statements.append({
            "Sid": "AllowCloudTrailSnsNotifications",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": args.trail_arn}},
        })
    if args.auditor_role_arns:
        statements.append({
            # Reading an SSE-KMS log object through S3 needs kms:Decrypt on its key (PCI DSS 10.3.1:
            # read access for the named auditors only). The encryption-context condition is AWS's
            # "Allow principals in the account to decrypt log files": the grant decrypts only what
            # this account's trails encrypted, nothing else the key protects (log groups, topics).
            "Sid": "AllowAuditorDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": list(args.auditor_role_arns)},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": args.account_id,
                    "kms:ViaService": f"s3.{args.region}.{args.dns_suffix}",
                },
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_context},
            },
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


class AuditKey(pulumi.ComponentResource):
    """A rotating symmetric KMS key with the CloudTrail key policy, and its alias."""

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AuditKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:kms:AuditKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts CloudTrail logs, log groups and alarm topics ({args.alias})",
            enable_key_rotation=True,  # CIS 3.6 / Security Hub KMS.4: yearly rotation, never off
            deletion_window_in_days=args.deletion_window_days,
            policy=key_policy(args),
            tags=args.tags,
            # Deleting the key makes every encrypted log file unreadable: never by a stack operation.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=self.key.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
