"""Rules for the Athena workgroup that queries the audit archive, and for its results bucket.

Query results are copies of audit-log data: they need the archive's confidentiality. Controls
served: AWS Config ``athena-workgroup-encrypted-at-rest`` and AWS Control Tower CT.ATHENA.PR.2
(results encrypted with KMS, ``EnforceWorkGroupConfiguration`` provided and true or omitted to take
its default of true), AWS Config ``athena-workgroup-logging-enabled`` (CloudWatch metrics);
HIPAA 164.312(a)(2)(iv), PCI DSS v4.0.1 10.3.2 / 10.3.1, SOC 2 CC6.1 / CC7.2 / A1.1. The results
bucket gets the S3 rules' own checks (``audit_policies.s3``): all four Block Public Access flags,
default encryption, versioning, TLS only, ``BucketOwnerEnforced``.

The workgroup's results bucket is the bucket named in
``configuration.resultConfiguration.outputLocation`` (``s3://<bucket>/...``) when it is in the
stack; a bucket outside the stack cannot be judged from the preview.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, graph, s3, settings
from audit_policies.graph import Graph, known_str
from audit_policies.props import get, is_set, is_unknown

WORKGROUP = "aws:athena/workgroup:Workgroup"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
ENCRYPTION_OPTIONS = ("SSE_S3", "SSE_KMS", "CSE_KMS")
KMS_OPTIONS = ("SSE_KMS", "CSE_KMS")
# "AUTO" lets Athena choose, which today is version 3; reading restored Glacier objects needs 3.
ENGINE_VERSIONS = ("Athena engine version 3", "AUTO")


def _config(props: dict) -> Any:
    return props.get("configuration")


def _enforced(ctx: base.Context, props: dict, _args: Any) -> None:
    value = get(_config(props), "enforceWorkgroupConfiguration")
    if value is None or value is True or is_unknown(value):
        return  # omitted: the API's default is true
    ctx.findings.violation(
        f"Set configuration.enforceWorkgroupConfiguration to true (or omit it) so clients cannot send "
        f"results elsewhere or unencrypted {ctx.cite()}; is {json.dumps(value)}.")


def _results_encrypted(ctx: base.Context, props: dict, _args: Any) -> None:
    encryption = get(get(_config(props), "resultConfiguration"), "encryptionConfiguration")
    option = get(encryption, "encryptionOption")
    if is_unknown(encryption) or is_unknown(option):
        ctx.findings.defer(encryption if is_unknown(encryption) else option)
        return
    kms = base.kms_required(ctx.settings)
    allowed = KMS_OPTIONS if kms else ENCRYPTION_OPTIONS
    if option not in allowed:
        why = " (KMS is required by the profile or requireKms)" if kms else ""
        shown = f"; is {option}" if option is not None else ""
        ctx.findings.violation(
            f"Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to "
            f"{' or '.join(allowed)}{why} {ctx.cite()}{shown}.")
        return
    if option in KMS_OPTIONS and not is_set(get(encryption, "kmsKeyArn")):
        ctx.findings.violation(
            f"Set configuration.resultConfiguration.encryptionConfiguration.kmsKeyArn to the KMS key "
            f"that encrypts results with {option} {ctx.cite()}.")


def _engine_version(ctx: base.Context, props: dict, _args: Any) -> None:
    version = get(get(_config(props), "engineVersion"), "selectedEngineVersion")
    if version in ENGINE_VERSIONS or is_unknown(version):
        return
    ctx.findings.violation(
        f"Set configuration.engineVersion.selectedEngineVersion to \"Athena engine version 3\": only it "
        f"reads restored Glacier objects of the archive {ctx.cite()}; is {version or 'not set'}.")


def _metrics(ctx: base.Context, props: dict, _args: Any) -> None:
    value = get(_config(props), "publishCloudwatchMetricsEnabled")
    if value is True or is_unknown(value):
        return
    ctx.findings.violation(
        f"Set configuration.publishCloudwatchMetricsEnabled to true so the workgroup's queries are "
        f"measured in CloudWatch {ctx.cite()}; is {json.dumps(value) if value is not None else 'not set'}.")


def _cutoff(ctx: base.Context, props: dict, _args: Any) -> None:
    value = get(_config(props), "bytesScannedCutoffPerQuery")
    if is_set(value):
        return
    ctx.findings.violation(
        f"Set configuration.bytesScannedCutoffPerQuery (at least 10485760 bytes) so one query over years "
        f"of logs cannot scan without limit {ctx.cite()}.")


# --- the results bucket (a stack policy: it follows outputLocation to the bucket) -------------------

RESULTS_BUCKET_CHECKS = (s3._public_access_block, s3._encryption, s3._versioning, s3._tls_only,
                         s3._ownership)


def results_bucket_name(workgroup: graph.Node) -> str | None:
    location = known_str(get(get(workgroup.props.get("configuration"), "resultConfiguration"),
                             "outputLocation"))
    if not location or not location.startswith("s3://"):
        return None
    return location[len("s3://"):].split("/", 1)[0] or None


def _results_bucket(ctx: base.Context, g: Graph, _args: Any) -> None:
    buckets = {b.known("bucket"): b for b in g.of_type(*graph.BUCKETS) if b.known("bucket")}
    for workgroup in g.of_type(WORKGROUP):
        bucket = buckets.get(results_bucket_name(workgroup))
        if bucket is None:
            continue
        for check in RESULTS_BUCKET_CHECKS:
            check(ctx, g, bucket, [])


POLICIES = [
    base.resource_policy(
        name="aws-athena-workgroup-enforce-configuration",
        description="Athena workgroups must enforce their configuration so that clients cannot override "
                    "where and how query results are stored.",
        service="athena", resource_types=(WORKGROUP,), level=MANDATORY, severity=Severity.HIGH,
        check=_enforced, config=settings.PROFILE_PROPERTIES,
    ),
    base.resource_policy(
        name="aws-athena-workgroup-results-encrypted",
        description="Athena workgroups must encrypt query results at rest (SSE-KMS or CSE-KMS when KMS "
                    "is required).",
        service="athena", resource_types=(WORKGROUP,), level=MANDATORY, severity=Severity.HIGH,
        check=_results_encrypted, config={**settings.PROFILE_PROPERTIES, **settings.REQUIRE_KMS},
    ),
    base.stack_policy(
        name="aws-athena-workgroup-results-bucket-protected",
        description="The S3 bucket an Athena workgroup writes results to must have the log archive's "
                    "protections.",
        service="athena", level=MANDATORY, severity=Severity.HIGH, check=_results_bucket,
        config={**settings.PROFILE_PROPERTIES, **settings.REQUIRE_KMS},
    ),
    base.resource_policy(
        name="aws-athena-workgroup-engine-version-3",
        description="Athena workgroups should run engine version 3, which reads restored Glacier objects.",
        service="athena", resource_types=(WORKGROUP,), level=ADVISORY, severity=Severity.LOW,
        check=_engine_version,
    ),
    base.resource_policy(
        name="aws-athena-workgroup-cloudwatch-metrics",
        description="Athena workgroups should publish query metrics to CloudWatch.",
        service="athena", resource_types=(WORKGROUP,), level=ADVISORY, severity=Severity.LOW,
        check=_metrics,
    ),
    base.resource_policy(
        name="aws-athena-workgroup-bytes-scanned-cutoff",
        description="Athena workgroups should cap the bytes one query may scan.",
        service="athena", resource_types=(WORKGROUP,), level=ADVISORY, severity=Severity.MEDIUM,
        check=_cutoff,
    ),
]
