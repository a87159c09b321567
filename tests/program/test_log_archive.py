"""The log archive: bucket policies (by Sid), lifecycle per profile combination, encryption, lock, logging."""

from __future__ import annotations

from typing import Any

import pytest
from program_support import ACCOUNT, ok, one, statements

from offline_preview.runner import ProgramRun

BUCKET = f"spawn-audit-logs-{ACCOUNT}-prod"
ACCESS_BUCKET = f"spawn-audit-logs-access-{ACCOUNT}-prod"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/spawn-audit"
AUDITOR = "arn:aws:iam::123456789012:role/SecurityAuditor"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
MOCK_KEY_ARN = f"arn:aws:mock:us-east-1:{ACCOUNT}:spawn-audit-kms-key"  # the mock's ARN for the key


def archive_policy(run: ProgramRun) -> dict[str, dict]:
    return statements(one(run, POLICY, "spawn-audit-archive-bucket-policy"))


def test_archive_policy_statements(prod: ProgramRun) -> None:
    policy = archive_policy(prod)
    assert list(policy) == ["AWSCloudTrailAclCheck", "AWSCloudTrailWrite", "DenyInsecureTransport",
                            "AllowAuditorRead", "DenyLogDeletion"]
    assert policy["AWSCloudTrailAclCheck"] == {
        "Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    }
    assert policy["AWSCloudTrailWrite"] == {
        "Sid": "AWSCloudTrailWrite", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                       "aws:SourceArn": TRAIL_ARN}},
    }
    assert policy["DenyInsecureTransport"] == {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert policy["AllowAuditorRead"] == {
        "Sid": "AllowAuditorRead", "Effect": "Allow", "Principal": {"AWS": [AUDITOR]},
        "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"],
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    }
    # No break-glass role configured: nobody may delete a log object or version.
    assert policy["DenyLogDeletion"] == {
        "Sid": "DenyLogDeletion", "Effect": "Deny", "Principal": "*",
        "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"], "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }


def test_no_deny_locks_the_deployer_out_of_policy_or_lifecycle(prod: ProgramRun) -> None:
    for record in prod.by_type(POLICY):
        for statement in statements(record).values():
            if statement["Effect"] != "Deny":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            # The only blanket deny is conditional on plain HTTP; the others are object-level only.
            assert actions in (["s3:DeleteObject", "s3:DeleteObjectVersion"], ["s3:*"],
                               ["s3:GetObject", "s3:GetObjectVersion"])
            if actions == ["s3:*"]:
                assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_break_glass_role_is_the_only_exception_to_the_deletion_deny() -> None:
    role = "arn:aws:iam::123456789012:role/BreakGlass"
    deny = archive_policy(ok("prod", {"breakGlassRoleArn": role}))["DenyLogDeletion"]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": role}}


# S3 API reference (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
# API_ListObjectVersions.html): reading an earlier version needs s3:GetObjectVersion, listing versions
# s3:ListBucketVersions; both are what an auditor needs to compare an overwritten log file with its original.
VERSION_READ_ACTIONS = {"s3:GetObjectVersion", "s3:ListBucketVersions"}


def test_auditors_can_read_earlier_versions(prod: ProgramRun) -> None:
    for name in ("spawn-audit-archive-bucket-policy", "spawn-audit-archive-access-logs-policy"):
        read = statements(one(prod, POLICY, name))["AllowAuditorRead"]
        assert VERSION_READ_ACTIONS <= set(read["Action"]), name


def test_pci_dss_denies_reads_to_everyone_but_the_auditor_and_break_glass_roles() -> None:
    role = "arn:aws:iam::123456789012:role/BreakGlass"
    run = ok("prod", {"complianceProfiles": ["pci-dss"], "breakGlassRoleArn": role})
    for name, bucket in (("spawn-audit-archive-bucket-policy", BUCKET),
                         ("spawn-audit-archive-access-logs-policy", ACCESS_BUCKET)):
        policy = statements(one(run, POLICY, name))
        assert policy["DenyLogReadsExceptAuditors"] == {
            "Sid": "DenyLogReadsExceptAuditors", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": [AUDITOR, role]},
                          "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}},
        }


def test_hipaa_alone_does_not_deny_reads(prod: ProgramRun) -> None:
    assert "DenyLogReadsExceptAuditors" not in archive_policy(prod)


def test_organization_trail_may_write_under_the_organization_id() -> None:
    policy = archive_policy(ok("prod", {"organizationTrail": True, "organizationId": "o-a1b2c3d4e5"}))
    assert policy["AWSCloudTrailOrgWrite"]["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/o-a1b2c3d4e5/*"
    assert policy["AWSCloudTrailOrgWrite"]["Condition"] == policy["AWSCloudTrailWrite"]["Condition"]


def test_without_auditors_nobody_is_granted_read() -> None:
    assert "AllowAuditorRead" not in archive_policy(ok("prod", {"auditorRoleArns": []}))


def test_access_log_bucket_policy(prod: ProgramRun) -> None:
    policy = statements(one(prod, POLICY, "spawn-audit-archive-access-logs-policy"))
    assert list(policy) == ["S3ServerAccessLogsWrite", "DenyInsecureTransport", "AllowAuditorRead",
                            "DenyLogDeletion"]
    assert policy["S3ServerAccessLogsWrite"] == {
        "Sid": "S3ServerAccessLogsWrite", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{ACCESS_BUCKET}/{BUCKET}/*",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{BUCKET}"},
                      "StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_buckets_are_private_versioned_encrypted_and_owner_enforced(stack: str) -> None:
    run = ok(stack)
    buckets = {r.inputs["bucket"] for r in run.by_type("aws:s3/bucket:Bucket")}
    pabs = run.by_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert {p.inputs["bucket"] for p in pabs} == buckets
    for pab in pabs:
        assert [pab.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets")] == [True] * 4
    versioning = run.by_type("aws:s3/bucketVersioning:BucketVersioning")
    assert {v.inputs["bucket"]: v.inputs["versioningConfiguration"] for v in versioning} == \
        {b: {"status": "Enabled"} for b in buckets}
    ownership = run.by_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert {o.inputs["bucket"]: o.inputs["rule"] for o in ownership} == \
        {b: {"objectOwnership": "BucketOwnerEnforced"} for b in buckets}
    encryption = run.by_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert {e.inputs["bucket"] for e in encryption} == buckets


def test_prod_archive_uses_the_kms_key_with_bucket_key_and_access_logs_use_sse_s3(prod: ProgramRun) -> None:
    kind = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    archive = one(prod, kind, "spawn-audit-archive-bucket-encryption").inputs["rules"]
    assert archive == [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": MOCK_KEY_ARN}, "bucketKeyEnabled": True}]
    # S3 server access logging cannot write to an SSE-KMS default-encrypted bucket.
    access = one(prod, kind, "spawn-audit-archive-access-logs-encryption").inputs["rules"]
    assert access == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                       "bucketKeyEnabled": False}]


def test_dev_uses_sse_s3(dev: ProgramRun) -> None:
    kind = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    default = one(dev, kind).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "AES256"}


def test_access_logging_goes_to_the_access_log_bucket(prod: ProgramRun) -> None:
    logging = one(prod, "aws:s3/bucketLogging:BucketLogging").inputs
    assert (logging["bucket"], logging["targetBucket"], logging["targetPrefix"]) == \
        (BUCKET, ACCESS_BUCKET, f"{BUCKET}/")


def test_object_lock(prod: ProgramRun) -> None:
    lock_record = one(prod, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    lock = lock_record.inputs
    assert (lock["bucket"], lock["objectLockEnabled"]) == (BUCKET, "Enabled")
    assert lock["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 2555}}
    # S3 accepts Object Lock on an existing bucket only once versioning is enabled.
    versioning = one(prod, "aws:s3/bucketVersioning:BucketVersioning",
                     "spawn-audit-archive-bucket-versioning")
    assert versioning.urn in lock_record.dependencies
    explicit = ok("prod", {"objectLockMode": "COMPLIANCE", "objectLockRetentionDays": 2192})
    lock = one(explicit, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs
    assert lock["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 2192}}


def _archive_rule(run: ProgramRun) -> dict:
    rules = one(run, LIFECYCLE, "spawn-audit-archive-bucket-lifecycle").inputs["rules"]
    assert len(rules) == 1
    return rules[0]


# (profiles and other overrides on the prod stack) -> (expiration day, transition day or None, class)
LIFECYCLE_CASES: list[tuple[str, dict[str, Any], tuple[int, int | None, str]]] = [
    ("sandbox", {"complianceProfiles": [], "accessLogging": False}, (90, None, "GLACIER")),
    ("hipaa", {}, (2555, 90, "GLACIER")),
    ("pci-dss", {"complianceProfiles": ["pci-dss"]}, (365, 92, "GLACIER")),
    ("soc2", {"complianceProfiles": ["soc2"]}, (455, 90, "GLACIER")),
    ("soc2-two-year-audit", {"complianceProfiles": ["soc2"], "auditPeriodDays": 730}, (820, 90, "GLACIER")),
    ("hipaa+pci-dss", {"complianceProfiles": ["hipaa", "pci-dss"]}, (2555, 92, "GLACIER")),
    ("hipaa+soc2", {"complianceProfiles": ["hipaa", "soc2"]}, (2555, 90, "GLACIER")),
    ("pci-dss+soc2", {"complianceProfiles": ["pci-dss", "soc2"]}, (455, 92, "GLACIER")),
    ("all-three", {"complianceProfiles": ["hipaa", "pci-dss", "soc2"]}, (2555, 92, "GLACIER")),
    ("pci-dss-deep-archive", {"complianceProfiles": ["pci-dss"], "archiveStorageClass": "DEEP_ARCHIVE"},
     (365, 92, "DEEP_ARCHIVE")),
    ("pci-dss-glacier-ir", {"complianceProfiles": ["pci-dss"], "archiveStorageClass": "GLACIER_IR"},
     (365, 90, "GLACIER_IR")),
    ("hipaa-explicit", {"archiveRetentionDays": 3000, "archiveTransitionDays": 180}, (3000, 180, "GLACIER")),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in LIFECYCLE_CASES],
                         ids=[c[0] for c in LIFECYCLE_CASES])
def test_lifecycle_per_profile_combination(overrides: dict[str, Any],
                                           expected: tuple[int, int | None, str]) -> None:
    run = ok("prod", {"objectLockMode": "", **overrides})
    expiration, transition, storage_class = expected
    rule = _archive_rule(run)
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}
    assert rule["expiration"] == {"days": expiration}
    # No Object Lock here: an overwritten original is kept the full retention after the overwrite.
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": expiration}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    if transition is None:
        assert "transitions" not in rule and "noncurrentVersionTransitions" not in rule
    else:
        assert rule["transitions"] == [{"days": transition, "storageClass": storage_class}]
        assert rule["noncurrentVersionTransitions"] == [{"noncurrentDays": transition,
                                                         "storageClass": storage_class}]
    assert run.outputs["archiveRetentionDays"] == expiration
    assert run.outputs["archiveTransitionDays"] == (transition or 0)


def test_dev_lifecycle(dev: ProgramRun) -> None:
    rule = one(dev, LIFECYCLE).inputs["rules"][0]
    assert rule["expiration"] == {"days": 30}
    # The default transition (day 90) would come after the expiration: nothing to archive.
    assert "transitions" not in rule


def test_access_log_lifecycle_follows_the_archive_unless_set(prod: ProgramRun) -> None:
    rule = one(prod, LIFECYCLE, "spawn-audit-archive-access-logs-lifecycle").inputs["rules"][0]
    assert rule["expiration"] == {"days": 2555}
    explicit = ok("prod", {"accessLogRetentionDays": 2192})
    rule = one(explicit, LIFECYCLE, "spawn-audit-archive-access-logs-lifecycle").inputs["rules"][0]
    assert rule["expiration"] == {"days": 2192}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 2192}


def test_lifecycle_waits_for_versioning(prod: ProgramRun) -> None:
    versioning = one(prod, "aws:s3/bucketVersioning:BucketVersioning",
                     "spawn-audit-archive-bucket-versioning")
    lifecycle = one(prod, LIFECYCLE, "spawn-audit-archive-bucket-lifecycle")
    assert versioning.urn in lifecycle.dependencies
