"""SQL over the whole archive: a Glue table over the CloudTrail files, an Athena workgroup, its
results bucket and the query catalog as Athena named queries.

Serves PCI DSS v4.0.1 10.4.1 / 10.4.1.1 (audit logs reviewed, with automated mechanisms), HIPAA
45 CFR 164.308(a)(1)(ii)(D) (information system activity review) and SOC 2 CC7.2 / CC7.3
(monitoring and evaluation of security events) for the archive's whole retention: Logs Insights
sees the log group's retention only and ``lookup-events`` 90 days.

- The table follows the AWS Athena User Guide, "Create the table for CloudTrail logs in Athena
  using partition projection": ``org.apache.hive.serde2.JsonSerDe`` with
  ``com.amazon.emr.cloudtrail.CloudTrailInputFormat``, ``requestparameters``/``responseelements``
  as JSON strings, partition projection so that no crawler or partition maintenance is needed
  (Athena User Guide, "Partition projection with Amazon Athena": enum values without spaces, a
  ``storage.location.template`` ending in ``/``). The projected columns are ``account`` (the stack's
  account, or an organization trail's member accounts), ``region`` (us-east-1 always: IAM and other
  global events are written there) and ``day`` (``yyyy/MM/dd``).
- The workgroup runs Athena engine version 3 with its configuration enforced (clients cannot
  send results elsewhere or unencrypted), results encrypted with SSE-KMS under the stack key (SSE-S3
  without KMS), a per-query bytes-scanned cutoff and CloudWatch metrics (Athena User Guide, "Use
  workgroups to control query access and costs").
- The results bucket has the archive's protections (versioning, default encryption, all four
  public-access-block flags, ``BucketOwnerEnforced``, TLS-only policy) and a short expiration:
  results are copies of log data.
- The named queries are the files of ``spawn_audit/catalog`` (read as text, nothing imported
  beyond the file parser), each bound to the workgroup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.log_archive import ABORT_INCOMPLETE_UPLOAD_DAYS, TRANSITION_MINIMUM_OBJECT_SIZE, secure_bucket
from spawn_audit import catalog
from spawn_audit.catalog import schema

ENGINE_VERSION = "Athena engine version 3"
TABLE_NAME = catalog.DATABASE_TABLE
APP_AUDIT_TABLE = catalog.APP_AUDIT_TABLE
APP_AUDIT_PREFIX = "spawn-app-audit/"
RESULTS_PREFIX = "athena-results/"
RESULTS_RULE_ID = "spawn-audit-athena-results-expiry"
# CloudTrail's first day: the projection starts early enough for any archive; queries filter on day.
PROJECTION_START = "2013/11/01"
SERDE = "org.apache.hive.serde2.JsonSerDe"
INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class AuditAnalyticsArgs:
    partition: str
    account_id: str
    archive_bucket_name: str  # the trail's bucket (plain: the projection template must be known at preview)
    organization_id: str | None  # organization trails write AWSLogs/<org-id>/<account>/
    database_name: str  # Glue: lowercase letters, digits, '_'
    workgroup_name: str
    results_bucket_name: str
    kms_key_arn: pulumi.Input[str] | None  # None: SSE-S3
    bytes_scanned_cutoff: int  # bytes per query
    result_retention_days: int
    regions: tuple[str, ...]  # projected; includes us-east-1
    account_ids: tuple[str, ...]  # projected
    force_destroy: bool
    tags: dict[str, str]


def logs_prefix(args: AuditAnalyticsArgs) -> str:
    return f"AWSLogs/{args.organization_id}/" if args.organization_id else "AWSLogs/"


def table_parameters(args: AuditAnalyticsArgs, bucket: str) -> dict[str, str]:
    """Partition projection: every partition is computed from these, none is stored."""
    return {
        "classification": "cloudtrail",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(args.account_ids),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(args.regions),
        "projection.day.type": "date",
        "projection.day.format": "yyyy/MM/dd",
        "projection.day.range": f"{PROJECTION_START},NOW",
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": (
            f"s3://{bucket}/{logs_prefix(args)}${{account}}/CloudTrail/${{region}}/${{day}}/"),
        # Restored GLACIER / DEEP_ARCHIVE objects are read too (Athena User Guide, "Query restored
        # Amazon S3 Glacier objects"); unrestored ones are skipped, as settings warns.
        "read_restored_glacier_objects": "true",
    }


def results_bucket_policy(args: AuditAnalyticsArgs) -> str:
    bucket_arn = f"arn:{args.partition}:s3:::{args.results_bucket_name}"
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        # S3.5 / CIS 2.1.1: plain-HTTP requests are refused for every principal.
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]}, indent=2)


def _columns(fields: tuple[schema.Field, ...]) -> list[dict]:
    return [{"name": f.name, "type": schema.hive_type(f.type)} for f in fields]


class AuditAnalytics(pulumi.ComponentResource):
    """Glue database and tables, Athena workgroup, results bucket and named queries."""

    database_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]
    results_bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: AuditAnalyticsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:analytics:AuditAnalytics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # ---- results bucket ---------------------------------------------------------------------
        results = aws.s3.Bucket(
            f"{name}-results",
            bucket=args.results_bucket_name,
            force_destroy=args.force_destroy,
            tags=args.tags,
            opts=child,
        )
        versioning, public_access_block, ownership = secure_bucket(
            f"{name}-results", results, args.kms_key_arn, child)
        aws.s3.BucketPolicy(
            f"{name}-results-policy",
            bucket=results.bucket,
            policy=results_bucket_policy(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block, ownership]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-results-lifecycle",
            bucket=results.bucket,
            rules=[{
                "id": RESULTS_RULE_ID,
                "status": "Enabled",
                "filter": {},
                "expiration": {"days": args.result_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": args.result_retention_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS},
            }],
            # Nothing transitions here; stated like the archive's, so no provider default decides it.
            transition_default_minimum_object_size=TRANSITION_MINIMUM_OBJECT_SIZE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )

        # ---- catalog ----------------------------------------------------------------------------
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=args.database_name,
            description="spawn-audit: the CloudTrail archive and spawn's application audit log",
            tags=args.tags,
            opts=child,
        )
        table = aws.glue.CatalogTable(
            f"{name}-cloudtrail-table",
            name=TABLE_NAME,
            database_name=database.name,
            description="CloudTrail log files of the archive (partition projection: account, region, day)",
            table_type="EXTERNAL_TABLE",
            parameters=table_parameters(args, args.archive_bucket_name),
            partition_keys=[{"name": p, "type": "string"} for p in schema.PARTITION_COLUMNS],
            storage_descriptor={
                "location": f"s3://{args.archive_bucket_name}/{logs_prefix(args)}",
                "input_format": INPUT_FORMAT,
                "output_format": OUTPUT_FORMAT,
                "ser_de_info": {"serialization_library": SERDE},
                "columns": _columns(schema.COLUMNS),
            },
            opts=child,
        )
        aws.glue.CatalogTable(
            f"{name}-app-audit-table",
            name=APP_AUDIT_TABLE,
            database_name=database.name,
            description="spawn's application audit records (pkg/audit), one JSON object per line",
            table_type="EXTERNAL_TABLE",
            parameters={"classification": "json", "EXTERNAL": "TRUE"},
            storage_descriptor={
                "location": f"s3://{args.archive_bucket_name}/{APP_AUDIT_PREFIX}",
                "input_format": TEXT_INPUT_FORMAT,
                "output_format": OUTPUT_FORMAT,
                "ser_de_info": {"serialization_library": SERDE},
                "columns": _columns(schema.APP_AUDIT_COLUMNS),
            },
            opts=child,
        )

        # ---- workgroup --------------------------------------------------------------------------
        if args.kms_key_arn is not None:
            encryption = {"encryption_option": "SSE_KMS", "kms_key_arn": args.kms_key_arn}
        else:
            encryption = {"encryption_option": "SSE_S3"}
        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=args.workgroup_name,
            description="spawn-audit: SQL over the CloudTrail archive",
            state="ENABLED",
            force_destroy=args.force_destroy,
            configuration={
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": args.bytes_scanned_cutoff,
                "engine_version": {"selected_engine_version": ENGINE_VERSION},
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", results.bucket, "/", RESULTS_PREFIX),
                    "encryption_configuration": encryption,
                    "expected_bucket_owner": args.account_id,
                },
            },
            tags=args.tags,
            opts=child,
        )

        # ---- named queries ----------------------------------------------------------------------
        for query in catalog.load().values():
            aws.athena.NamedQuery(
                f"{name}-query-{query.name}",
                name=query.name,
                description=query.description[:1024],
                database=database.name,
                workgroup=workgroup.name,
                query=query.sql,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
            )

        self.database_name = database.name
        self.table_name = table.name
        self.workgroup_name = workgroup.name
        self.results_bucket_name = results.bucket
        self.register_outputs({
            "database_name": self.database_name,
            "table_name": self.table_name,
            "workgroup_name": self.workgroup_name,
            "results_bucket_name": self.results_bucket_name,
        })
