"""The log group for spawn's application audit log (``pkg/audit``), next to the trail's.

spawn's docs pair its application-level audit records (``correlation_id``) with CloudTrail's
(``requestID``). Both groups get the same retention and encryption, so evidence on either side of a
correlation lasts equally long (HIPAA 45 CFR 164.316(b)(2)(i), PCI DSS v4.0.1 10.5.1) and one Logs
Insights query can span both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.log_delivery import audit_log_group


@dataclass(frozen=True)
class AppAuditLogArgs:
    log_group_name: str
    retention_days: int  # the trail log group's retention
    kms_key_arn: pulumi.Input[str] | None  # the trail log group's key
    protect: bool
    tags: dict[str, str]


class AppAuditLog(pulumi.ComponentResource):
    """One CloudWatch Logs group that spawn's ``pkg/audit`` writes to."""

    log_group: aws.cloudwatch.LogGroup
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: AppAuditLogArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:app_audit_log:AppAuditLog", name, None, opts)
        self.log_group = audit_log_group(self, f"{name}-log-group", args.log_group_name, args.retention_days,
                                         args.kms_key_arn, args.tags, args.protect)
        self.log_group_name = self.log_group.name
        self.register_outputs({"log_group_name": self.log_group_name})
