"""spawn-audit: compliance-grade CloudTrail audit logging for spawn.

Reads the stack's settings (validated before anything is registered), builds the audit setup and
exports the values operators and auditors need. See docs/configuration.md for every config key.
"""

import pulumi

from components import settings
from components.audit_stack import AuditStack
from components.log_archive import log_file_lifetime

s = settings.load()
audit = AuditStack("spawn-audit", s)

pulumi.export("trailName", s.trail_name)
pulumi.export("trailArn", audit.trail.arn)
pulumi.export("archiveBucketName", audit.archive.bucket_name)
pulumi.export("accessLogBucketName", audit.archive.access_log_bucket_name or "")
pulumi.export("logGroupName", audit.delivery.log_group_name)
pulumi.export("appAuditLogGroupName", audit.app_log.log_group_name if audit.app_log else "")
pulumi.export("kmsKeyArn", audit.key.arn if audit.key else "")
pulumi.export("alarmTopicArn", audit.alarms.topic_arn)
pulumi.export("complianceProfiles", ",".join(s.profiles) or "sandbox")
# What S3 does to a log file: kept at least archiveRetentionDays, deleted by archiveDeletedByDay.
kept_days, deleted_by_day = log_file_lifetime(s.archive_retention_days, s.object_lock_mode,
                                              s.object_lock_retention_days)
pulumi.export("archiveRetentionDays", kept_days)
pulumi.export("archiveDeletedByDay", deleted_by_day)
pulumi.export("archiveLifetime", f"at least {kept_days} days, deleted by day {deleted_by_day}")
pulumi.export("archiveTransitionDays", s.archive_transition_days or 0)
pulumi.export("archiveStorageClass", s.archive_storage_class)
pulumi.export("accessLogRetentionDays", s.access_log_retention_days)
pulumi.export("logGroupRetentionDays", s.log_group_retention_days)
pulumi.export("appAuditLogGroupRetentionDays", s.log_group_retention_days if audit.app_log else 0)
pulumi.export("objectLockMode", s.object_lock_mode or "")
pulumi.export("objectLockRetentionDays", s.object_lock_retention_days)
pulumi.export("verifyCommand", f"aws cloudtrail get-trail-status --name {s.trail_name}")
