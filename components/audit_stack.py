"""Composition: builds every component of the audit setup from one ``Settings`` object, in order.

Responsible for the wiring between components (names and ARNs from ``Settings``, the KMS key ARN,
the trail's explicit dependencies) so that ``__main__.py`` stays a list of exports.
Together these components deploy everything spawn's CloudTrail documentation describes.
"""

from __future__ import annotations

import pulumi

from components.alarms import SecurityAlarms, SecurityAlarmsArgs
from components.app_audit_log import AppAuditLog, AppAuditLogArgs
from components.kms import AuditKey, AuditKeyArgs
from components.log_archive import LogArchive, LogArchiveArgs
from components.log_delivery import LogDelivery, LogDeliveryArgs
from components.queries import SavedQueries, SavedQueriesArgs
from components.settings import Settings
from components.trail import AuditTrail, AuditTrailArgs


class AuditStack(pulumi.ComponentResource):
    """The whole CloudTrail audit setup for one stack."""

    def __init__(self, name: str, s: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:audit_stack:AuditStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.key: AuditKey | None = None
        if s.kms:
            self.key = AuditKey(f"{name}-kms", AuditKeyArgs(
                partition=s.partition,
                account_id=s.account_id,
                region=s.region,
                dns_suffix=s.dns_suffix,
                trail_arn=s.trail_arn,
                log_group_arns=tuple(s.log_group_arn(n) for n in s.log_group_names),
                logs_service_principal=s.logs_service_principal,
                auditor_role_arns=s.auditor_role_arns,
                trail_sns_topic=s.trail_sns_notification,
                alias=s.key_alias,
                deletion_window_days=s.kms_deletion_window_days,
                protect=s.protect,
                tags=s.tags,
            ), child)
        key_arn = self.key.arn if self.key is not None else None

        self.archive = LogArchive(f"{name}-archive", LogArchiveArgs(
            partition=s.partition,
            account_id=s.account_id,
            bucket_name=s.bucket_name,
            access_log_bucket_name=s.access_log_bucket_name if s.access_logging else None,
            trail_arn=s.trail_arn,
            organization_id=s.organization_id,
            kms_key_arn=key_arn,
            retention_days=s.archive_retention_days,
            transition_days=s.archive_transition_days,
            storage_class=s.archive_storage_class,
            access_log_retention_days=s.access_log_retention_days,
            object_lock_mode=s.object_lock_mode,
            object_lock_days=s.object_lock_retention_days,
            auditor_role_arns=s.auditor_role_arns,
            break_glass_role_arn=s.break_glass_role_arn,
            reads_limited_to_auditors=s.requirements.auditor_only_reads,
            force_destroy=s.force_destroy,
            protect=s.protect,
            tags=s.tags,
        ), child)

        self.delivery = LogDelivery(f"{name}-delivery", LogDeliveryArgs(
            partition=s.partition,
            account_id=s.account_id,
            log_group_name=s.log_group_name,
            log_group_arn=s.log_group_arn(s.log_group_name),
            retention_days=s.log_group_retention_days,
            kms_key_arn=key_arn,
            trail_arn=s.trail_arn,
            role_name=s.delivery_role_name,
            protect=s.protect,
            tags=s.tags,
        ), child)

        self.app_log: AppAuditLog | None = None
        if s.app_audit_log_group_name is not None:
            self.app_log = AppAuditLog(f"{name}-app-audit-log", AppAuditLogArgs(
                log_group_name=s.app_audit_log_group_name,
                retention_days=s.log_group_retention_days,
                kms_key_arn=key_arn,
                protect=s.protect,
                tags=s.tags,
            ), child)

        trail_depends_on: list[pulumi.Resource] = [
            self.archive.bucket_policy, self.delivery.role_policy, self.delivery.log_group,
        ]
        if self.key is not None:
            trail_depends_on.append(self.key.key)
        self.trail = AuditTrail(f"{name}-trail", AuditTrailArgs(
            partition=s.partition,
            account_id=s.account_id,
            region=s.region,
            name=s.trail_name,
            arn=s.trail_arn,
            bucket_name=self.archive.bucket_name,
            kms_key_arn=key_arn,
            log_group_arn=s.log_group_arn(s.log_group_name),
            delivery_role_arn=s.delivery_role_arn,
            organization_trail=s.organization_trail,
            insights=s.insights,
            sns_topic_name=s.delivery_topic_name if s.trail_sns_notification else None,
            kms_topic_key_arn=key_arn,
            dynamodb_tables=s.data_event_dynamodb_tables,
            lambda_functions=s.data_event_lambda_functions,
            s3_buckets=s.data_event_s3_buckets,
            depends_on=tuple(trail_depends_on),
            protect=s.protect,
            tags=s.tags,
        ), child)

        self.alarms = SecurityAlarms(f"{name}-alarms", SecurityAlarmsArgs(
            partition=s.partition,
            account_id=s.account_id,
            region=s.region,
            name_prefix=s.trail_name,
            topic_name=s.alarm_topic_name,
            topic_arn=s.alarm_topic_arn,
            log_group_name=self.delivery.log_group_name,
            kms_key_arn=key_arn,
            controls=s.alarm_controls,
            emails=s.alarm_emails,
            https_endpoints=s.alarm_https_endpoints,
            tags=s.tags,
        ), child)

        self.queries = SavedQueries(f"{name}-queries", SavedQueriesArgs(
            folder=s.trail_name,
            trail_log_group_name=self.delivery.log_group_name,
            app_log_group_name=self.app_log.log_group_name if self.app_log is not None else None,
            controls=s.alarm_controls,
        ), child)

        self.register_outputs({
            "trail_arn": self.trail.arn,
            "bucket_name": self.archive.bucket_name,
            "log_group_name": self.delivery.log_group_name,
            "topic_arn": self.alarms.topic_arn,
        })
