"""Which spawn-audit stack config keys decide what each policy checks.

The pack reports them as policy tags ``stack-config:<namespace>:<key>``, so that a report can put the
key to change (and its current value) beside a violation: an officer reading "lifecycle expires logs
on day 30" learns at once that ``spawn-audit:archiveRetentionDays`` in the stack file set it. Policies
absent here judge settings the program fixes itself (versioning, public access block, ...), which no
stack config key can break.
"""

from __future__ import annotations

_NAMESPACE = "spawn-audit"

STACK_CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "aws-cloudtrail-trail-kms-encryption": ("encryption",),
    "aws-cloudtrail-trail-kms-encryption-required": ("encryption",),
    "aws-cloudtrail-trail-sns-notification": ("trailSnsNotification",),
    "aws-cloudwatch-log-group-kms-encryption": ("encryption",),
    "aws-cloudwatch-log-group-kms-encryption-required": ("encryption",),
    "aws-cloudwatch-log-group-retention": ("logGroupRetentionDays", "archiveRetentionDays"),
    "aws-cloudwatch-stack-monitoring-alarms": ("disabledAlarms", "alarmEmails", "alarmHttpsEndpoints"),
    "aws-s3-bucket-access-logging": ("accessLogging",),
    "aws-s3-bucket-encryption": ("encryption",),
    "aws-s3-bucket-lifecycle-immediate-access": ("archiveTransitionDays", "archiveStorageClass"),
    "aws-s3-bucket-lifecycle-retention": ("archiveRetentionDays", "accessLogRetentionDays"),
    "aws-s3-bucket-object-lock": ("objectLockMode", "objectLockRetentionDays"),
    "aws-sns-topic-kms-encryption": ("encryption",),
    "aws-sns-topic-kms-encryption-required": ("encryption",),
}


def tags(policy_name: str) -> list[str]:
    return [f"stack-config:{_NAMESPACE}:{key}" for key in STACK_CONFIG_KEYS.get(policy_name, ())]
