"""The S3 log archive: the trail's bucket, its server-access-log bucket, policies, lifecycle and lock.

Responsible for keeping every CloudTrail log file for the profile's retention and nobody's business
but the auditors': versioning, default encryption, all four public-access-block flags, object
ownership ``BucketOwnerEnforced``, a bucket policy with stable Sids, lifecycle transition/expiration
from the compliance-profile table, server access logging to a separate bucket, optional Object Lock.

Controls served: Security Hub CloudTrail.6 / CIS 2.1.4 (log bucket not public), S3.5 / CIS 2.1.1
(TLS only), S3.12 (no ACLs), S3.14 (versioning), CloudTrail.7 / CIS 3.4 (access logging on the
CloudTrail bucket), HIPAA 45 CFR 164.316(b)(2)(i) and PCI DSS v4.0.1 10.5.1 (retention and
availability), PCI DSS 10.3.1 / 10.3.2 (read access limited, logs protected from deletion).

The bucket policy follows the AWS CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"
(``s3:GetBucketAcl`` and ``s3:PutObject`` with ``s3:x-amz-acl`` and ``aws:SourceArn``), and the
S3 User Guide, "Enabling Amazon S3 server access logging" (``logging.s3.amazonaws.com`` with
``aws:SourceArn`` / ``aws:SourceAccount``; a bucket policy, because ACL grants are disabled under
``BucketOwnerEnforced``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

LIFECYCLE_RULE_ID = "spawn-audit-log-retention"
ACCESS_LOG_RULE_ID = "spawn-audit-access-log-retention"
ABORT_INCOMPLETE_UPLOAD_DAYS = 7
# With Object Lock keeping every version to the retention, a noncurrent version (a log file after its
# expiration, or an overwritten original) may go one day after it became noncurrent: the lock has
# already kept it for the full retention, and S3 cannot delete a locked version before its
# retain-until date (S3 User Guide, "How S3 Object Lock works"; lifecycle expiration included).
NONCURRENT_DAYS_UNDER_LOCK = 1
# Objects smaller than 128 KB stay in their storage class: since September 2024 that is S3's default
# for new lifecycle configurations, written out here so that a provider or API default cannot change
# it (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle", minimum object size). Most
# CloudTrail log files and every digest file are that small, and each object archived to GLACIER or
# DEEP_ARCHIVE carries 40 KB of billed overhead (8 KB at the STANDARD rate, 32 KB at the archive
# rate; S3 User Guide, "Understanding and managing Amazon S3 storage classes"): archiving them would
# cost more than keeping them, and they stay immediately readable.
TRANSITION_MINIMUM_OBJECT_SIZE = "all_storage_classes_128K"


def noncurrent_days(retention_days: int, object_lock_mode: str | None, object_lock_days: int) -> int:
    """Days a noncurrent version is kept, decided deliberately.

    Under an Object Lock default retention that covers the whole retention, every version is already
    kept for ``retention_days`` from its creation, so noncurrent versions can go after one day. Without
    it (or with a shorter lock), an overwritten or deleted original is protected only by the noncurrent
    expiration itself (plus the bucket policy's deletion deny and the trail's digest files, which make
    an overwrite detectable): it must then be kept ``retention_days`` after it became noncurrent.
    """
    if object_lock_mode and object_lock_days >= retention_days:
        return NONCURRENT_DAYS_UNDER_LOCK
    return retention_days


def log_file_lifetime(retention_days: int, object_lock_mode: str | None, object_lock_days: int
                      ) -> tuple[int, int]:
    """(at least N, deleted by day M): what the lifecycle rule does to a log file nobody touches.

    The current version expires on day N (a delete marker makes it noncurrent), and the noncurrent
    expiration removes it permanently M - N days later (S3 rounds each step up to the next midnight
    UTC and runs it asynchronously, so 'by day M' is when it becomes eligible).
    """
    return retention_days, retention_days + noncurrent_days(retention_days, object_lock_mode,
                                                             object_lock_days)


@dataclass(frozen=True)
class LogArchiveArgs:
    """Plain values: the bucket names, policies and lifecycle must be known at preview."""

    partition: str
    account_id: str
    bucket_name: str
    access_log_bucket_name: str | None  # None: no server access logging
    trail_arn: str  # aws:SourceArn of every CloudTrail write
    organization_id: str | None  # organization trails also write AWSLogs/<org-id>/
    kms_key_arn: pulumi.Input[str] | None  # None: SSE-S3
    retention_days: int
    transition_days: int | None
    storage_class: str
    access_log_retention_days: int
    object_lock_mode: str | None
    object_lock_days: int
    auditor_role_arns: tuple[str, ...]
    break_glass_role_arn: str | None
    # Deny object reads to everyone but the auditor and break-glass roles (pci-dss: PCI DSS 10.3.1).
    reads_limited_to_auditors: bool
    force_destroy: bool
    protect: bool
    tags: dict[str, str]


def _arn(args: LogArchiveArgs, bucket: str, path: str = "") -> str:
    return f"arn:{args.partition}:s3:::{bucket}{path}"


# Object reads that return log content (S3 API reference: GetObject also covers HeadObject and
# SelectObjectContent; GetObjectVersion reads an earlier version).
READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]


def _shared_statements(args: LogArchiveArgs, bucket: str) -> list[dict]:
    """TLS-only, auditor read, the auditor-only read deny and the deletion deny: the same on both buckets."""
    bucket_arn, objects_arn = _arn(args, bucket), _arn(args, bucket, "/*")
    statements: list[dict] = [{
        # S3.5 / CIS 2.1.1, PCI DSS 4.2.1: plain-HTTP requests are refused for every principal.
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, objects_arn],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    if args.auditor_role_arns:
        statements.append({
            # Earlier versions too (s3:GetObjectVersion, s3:ListBucketVersions): comparing an
            # overwritten log file with its original is how tampering is investigated.
            "Sid": "AllowAuditorRead",
            "Effect": "Allow",
            "Principal": {"AWS": list(args.auditor_role_arns)},
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": [bucket_arn, objects_arn],
        })
    if args.reads_limited_to_auditors:
        readers = list(args.auditor_role_arns) + ([args.break_glass_role_arn] if args.break_glass_role_arn
                                                  else [])
        statements.append({
            # PCI DSS 10.3.1: an Allow only adds readers; any principal of the account whose IAM policy
            # grants s3:GetObject could still read. This deny removes every reader but the named roles.
            # aws:PrincipalArn is the role's ARN for its sessions (IAM User Guide, "AWS global condition
            # context keys"); AWS services carry no aws:PrincipalArn, hence aws:PrincipalIsAWSService, as
            # in AWS's data-perimeter examples. Only object reads are denied: the deployer keeps every
            # bucket-level permission (policy, lifecycle, versioning), so it is never locked out, and
            # CloudTrail and S3 server access logging only write.
            "Sid": "DenyLogReadsExceptAuditors",
            "Effect": "Deny",
            "Principal": "*",
            "Action": READ_ACTIONS,
            "Resource": objects_arn,
            "Condition": {
                "ArnNotLike": {"aws:PrincipalArn": readers},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        })
    deny_delete: dict = {
        # Object deletions only: the deploying principal keeps control of the policy and lifecycle,
        # and lifecycle expiration is not subject to bucket policies.
        "Sid": "DenyLogDeletion",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": objects_arn,
    }
    if args.break_glass_role_arn:
        deny_delete["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": args.break_glass_role_arn}}
    statements.append(deny_delete)
    return statements


def archive_bucket_policy(args: LogArchiveArgs) -> str:
    bucket = args.bucket_name
    write_condition = {"StringEquals": {
        "s3:x-amz-acl": "bucket-owner-full-control",
        "aws:SourceArn": args.trail_arn,
    }}
    statements: list[dict] = [
        {
            "Sid": "AWSCloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": _arn(args, bucket),
            "Condition": {"StringEquals": {"aws:SourceArn": args.trail_arn}},
        },
        {
            "Sid": "AWSCloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": _arn(args, bucket, f"/AWSLogs/{args.account_id}/*"),
            "Condition": write_condition,
        },
    ]
    if args.organization_id:
        statements.append({
            "Sid": "AWSCloudTrailOrgWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": _arn(args, bucket, f"/AWSLogs/{args.organization_id}/*"),
            "Condition": write_condition,
        })
    statements += _shared_statements(args, bucket)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def access_log_bucket_policy(args: LogArchiveArgs) -> str:
    assert args.access_log_bucket_name is not None
    bucket = args.access_log_bucket_name
    statements: list[dict] = [{
        "Sid": "S3ServerAccessLogsWrite",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": _arn(args, bucket, f"/{args.bucket_name}/*"),
        "Condition": {
            "ArnLike": {"aws:SourceArn": _arn(args, args.bucket_name)},
            "StringEquals": {"aws:SourceAccount": args.account_id},
        },
    }]
    statements += _shared_statements(args, bucket)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def archive_lifecycle_rules(args: LogArchiveArgs) -> list[dict]:
    kept = noncurrent_days(args.retention_days, args.object_lock_mode, args.object_lock_days)
    rule: dict = {
        "id": LIFECYCLE_RULE_ID,
        "status": "Enabled",
        "filter": {},  # the whole bucket: log files and their digest files keep the same retention
        "expiration": {"days": args.retention_days},
        # See noncurrent_days: one day under a sufficient Object Lock, the full retention otherwise.
        "noncurrent_version_expiration": {"noncurrent_days": kept},
        "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS},
    }
    if args.transition_days is not None:
        rule["transitions"] = [{"days": args.transition_days, "storage_class": args.storage_class}]
        if args.transition_days < kept:  # S3 refuses a noncurrent transition at or after its expiration
            rule["noncurrent_version_transitions"] = [
                {"noncurrent_days": args.transition_days, "storage_class": args.storage_class}
            ]
    return [rule]


class LogArchive(pulumi.ComponentResource):
    """The CloudTrail bucket with everything that makes it evidence-grade, plus its access-log bucket."""

    bucket: aws.s3.Bucket
    bucket_policy: aws.s3.BucketPolicy
    bucket_name: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:log_archive:LogArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # ---- access-log bucket ------------------------------------------------------------------
        access_log_bucket = None
        if args.access_log_bucket_name is not None:
            access_log_bucket = aws.s3.Bucket(
                f"{name}-access-logs",
                bucket=args.access_log_bucket_name,
                force_destroy=args.force_destroy,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            # S3 server access logging supports only SSE-S3 on the target bucket (S3 User Guide,
            # "Enabling Amazon S3 server access logging"), so this bucket never uses the KMS key.
            access_versioning, _, _ = self._secure_bucket(
                f"{name}-access-logs", access_log_bucket, None, child)
            access_policy = aws.s3.BucketPolicy(
                f"{name}-access-logs-policy",
                bucket=access_log_bucket.bucket,
                policy=access_log_bucket_policy(args),
                opts=child,
            )
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-access-logs-lifecycle",
                bucket=access_log_bucket.bucket,
                transition_default_minimum_object_size=TRANSITION_MINIMUM_OBJECT_SIZE,
                rules=[{
                    "id": ACCESS_LOG_RULE_ID,
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.access_log_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": args.access_log_retention_days},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS},
                }],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[access_versioning]),
            )

        # ---- archive bucket ---------------------------------------------------------------------
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            # Object Lock is enabled by its own resource below, not by the bucket's create-only
            # object_lock_enabled flag, so switching it on later does not replace the bucket.
            tags=args.tags,
            # protect: pulumi destroy refuses; retain_on_delete: even an unprotected delete leaves the
            # bucket (and its logs) in AWS. Both follow protectResources, required under every profile.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        versioning, public_access_block, ownership = self._secure_bucket(
            f"{name}-bucket", self.bucket, args.kms_key_arn, child)
        self.bucket_policy = aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=self.bucket.bucket,
            policy=archive_bucket_policy(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block, ownership]),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=self.bucket.bucket,
            rules=archive_lifecycle_rules(args),
            transition_default_minimum_object_size=TRANSITION_MINIMUM_OBJECT_SIZE,
            # Noncurrent-version rules only mean something once versioning is on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        if args.object_lock_mode:
            # S3 enables Object Lock on an existing bucket once versioning is on (S3 User Guide,
            # "Configuring S3 Object Lock"); it cannot be switched off again.
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-bucket-object-lock",
                bucket=self.bucket.bucket,
                object_lock_enabled="Enabled",
                rule={"default_retention": {"mode": args.object_lock_mode, "days": args.object_lock_days}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-bucket-logging",
                bucket=self.bucket.bucket,
                target_bucket=access_log_bucket.bucket,
                target_prefix=f"{args.bucket_name}/",
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[access_policy]),
            )

        self.bucket_name = self.bucket.bucket
        self.access_log_bucket_name = access_log_bucket.bucket if access_log_bucket is not None else None
        self.register_outputs({
            "bucket_name": self.bucket_name,
            "access_log_bucket_name": self.access_log_bucket_name,
        })

    def _secure_bucket(self, prefix: str, bucket: aws.s3.Bucket, kms_key_arn: pulumi.Input[str] | None,
                       opts: pulumi.ResourceOptions) -> tuple[aws.s3.BucketVersioning,
                                                           aws.s3.BucketPublicAccessBlock,
                                                           aws.s3.BucketOwnershipControls]:
        """Versioning, encryption, public-access block and ownership: never switchable."""
        # S3.14 / CIS 2.1.2 precondition: versions survive overwrites and deletes.
        versioning = aws.s3.BucketVersioning(
            f"{prefix}-versioning",
            bucket=bucket.bucket,
            # MFA Delete is left out on purpose: only the root user's MFA device can set it
            # (docs/configuration.md, manual steps), and declaring it here would undo it.
            versioning_configuration={"status": "Enabled"},
            opts=opts,
        )
        if kms_key_arn is not None:
            default = {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
        else:
            default = {"sse_algorithm": "AES256"}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption",
            bucket=bucket.bucket,
            rules=[{
                "apply_server_side_encryption_by_default": default,
                # The bucket key cuts KMS requests per object; meaningless (and ignored) for SSE-S3.
                "bucket_key_enabled": kms_key_arn is not None,
            }],
            opts=opts,
        )
        # Security Hub S3.8 / CloudTrail.6, CIS 2.1.4: all four flags, never switchable.
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{prefix}-public-access-block",
            bucket=bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        # Security Hub S3.12: ACLs disabled, the bucket owner owns every object CloudTrail writes.
        ownership = aws.s3.BucketOwnershipControls(
            f"{prefix}-ownership",
            bucket=bucket.bucket,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=opts,
        )
        return versioning, public_access_block, ownership
